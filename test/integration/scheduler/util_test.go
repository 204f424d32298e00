package scheduler

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
	"github.com/gantryhq/gantry/scheduler/app"
)

// schedOpts tune a scheduler started by startScheduler.
type schedOpts struct {
	identity string
	// config is a SchedulerConfiguration's YAML ("" for the defaults).
	config      string
	leaderElect bool
	// plugins are out-of-tree plugins to register.
	plugins []app.Option
	// exited, when set, receives what app.Run returned (buffer it).
	exited chan error
}

// startScheduler runs the scheduler in-process against srv, as
// `bin/scheduler --kubeconfig admin.conf` would, and returns a function that
// stops it (also run at cleanup).
func startScheduler(t testing.TB, srv *apiservertest.Server, so schedOpts) (stop func()) {
	t.Helper()
	o := app.NewOptions()
	o.Kubeconfig = srv.ConfigPath
	o.Port = -1
	o.Identity = so.identity
	le := so.leaderElect
	o.LeaderElect = &le
	if so.config != "" {
		path := filepath.Join(t.TempDir(), "scheduler.yaml")
		if err := os.WriteFile(path, []byte(so.config), 0o600); err != nil {
			t.Fatal(err)
		}
		o.ConfigFile = path
	}
	if errs := o.Validate(); len(errs) > 0 {
		t.Fatalf("options: %v", errs)
	}
	o.LeaderElect = &le
	cfg, err := o.Config(so.plugins...)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	ready := make(chan struct{})
	cfg.Ready = func(net.Addr) { close(ready) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := app.Run(ctx, cfg.Complete())
		if so.exited != nil {
			so.exited <- err
		}
		done <- err
	}()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("scheduler exited during start: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("scheduler not ready after 60s")
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Errorf("scheduler %s did not stop within 30s", so.identity)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func quantities(cpu, mem, pods string) map[string]*metav1.Quantity {
	m := map[string]*metav1.Quantity{"cpu": {Value: cpu}, "memory": {Value: mem}}
	if pods != "" {
		m["pods"] = &metav1.Quantity{Value: pods}
	}
	return m
}

func makeNode(name, cpu, mem, pods string) *corev1.Node {
	return &corev1.Node{
		Metadata: &metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Spec:     &corev1.NodeSpec{},
		Status: &corev1.NodeStatus{
			Capacity:    quantities(cpu, mem, pods),
			Allocatable: quantities(cpu, mem, pods),
			Conditions:  []*corev1.NodeCondition{{Type: "Ready", Status: "True"}},
		},
	}
}

func makePod(name, cpu, mem string) *corev1.Pod {
	return &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "bench"}},
		Spec: &corev1.PodSpec{Containers: []*corev1.Container{{
			Name: "pause", Image: "pause",
			Resources: &corev1.ResourceRequirements{Requests: quantities(cpu, mem, "")},
		}}},
	}
}

// createAll runs create for i in [0, n) on workers goroutines.
func createAll(ctx context.Context, n, workers int, create func(i int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := create(i); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

func createNodes(ctx context.Context, cs *client.Clientset, n int, cpu, mem, pods string) error {
	return createAll(ctx, n, 16, func(i int) error {
		_, err := cs.Nodes().Create(ctx, makeNode(fmt.Sprintf("node-%d", i), cpu, mem, pods))
		return err
	})
}

// checkNoOvercommit fails t if the bound pods of any node request more than
// its allocatable, and returns the bound pods per node.
func checkNoOvercommit(t testing.TB, cs *client.Clientset) map[string]int {
	t.Helper()
	ctx := context.Background()
	nodes, err := cs.Nodes().List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pods, err := cs.Pods("").List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type sum struct{ cpu, mem, pods int64 }
	used := map[string]*sum{}
	for _, p := range pods.Items {
		n := p.GetSpec().GetNodeName()
		if n == "" {
			continue
		}
		if used[n] == nil {
			used[n] = &sum{}
		}
		for _, c := range p.GetSpec().GetContainers() {
			r := c.GetResources().GetRequests()
			cpu, mem := resource.MustParse(r["cpu"].GetValue()), resource.MustParse(r["memory"].GetValue())
			used[n].cpu += cpu.MilliValue()
			used[n].mem += mem.Value()
		}
		used[n].pods++
	}
	milli := func(v string) int64 { q := resource.MustParse(v); return q.MilliValue() }
	val := func(v string) int64 { q := resource.MustParse(v); return q.Value() }
	counts := map[string]int{}
	for _, n := range nodes.Items {
		name := n.GetMetadata().GetName()
		u := used[name]
		if u == nil {
			continue
		}
		counts[name] = int(u.pods)
		a := n.GetStatus().GetAllocatable()
		if u.cpu > milli(a["cpu"].GetValue()) || u.mem > val(a["memory"].GetValue()) || u.pods > val(a["pods"].GetValue()) {
			t.Errorf("node %s overcommitted: %d millicpu, %d bytes, %d pods bound; allocatable %v", name, u.cpu, u.mem, u.pods, a)
		}
	}
	return counts
}

// bindRecorder watches pods and counts, per pod, the times its nodeName
// went from empty to set, and which pods are bound.
type bindRecorder struct {
	mu    sync.Mutex
	binds map[string]int
	node  map[string]string
}

func watchBinds(t testing.TB, cs *client.Clientset) *bindRecorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w, err := cs.Pods("").Watch(ctx, client.WatchOptions{ResourceVersion: "0"})
	if err != nil {
		t.Fatal(err)
	}
	r := &bindRecorder{binds: map[string]int{}, node: map[string]string{}}
	go func() {
		defer w.Stop()
		for {
			ev, err := w.Next()
			if err != nil {
				return
			}
			if ev.Object == nil {
				continue
			}
			m := ev.Object.GetMetadata()
			key := m.GetNamespace() + "/" + m.GetName() + "/" + m.GetUid()
			n := ev.Object.GetSpec().GetNodeName()
			r.mu.Lock()
			if prev := r.node[key]; prev != n && n != "" {
				r.binds[key]++
			}
			if n != "" {
				r.node[key] = n
			}
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *bindRecorder) bound() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.node)
}

func (r *bindRecorder) doubles() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for k, n := range r.binds {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s bound %d times", k, n))
		}
	}
	return out
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func clientListAll() client.ListOptions { return client.ListOptions{} }
