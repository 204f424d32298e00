package scheduler

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/clienttest"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/client/record/recordtest"
	"github.com/gantryhq/gantry/client/scheme"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/config"
	"github.com/gantryhq/gantry/scheduler/internal/schedtest"
)

// start runs a scheduler over an in-memory apiserver seeded with objs,
// every profile recording its events in one recorder.
func start(t *testing.T, objs ...scheme.Object) (*client.Clientset, *clienttest.Server, *Scheduler, *recordtest.Recorder) {
	t.Helper()
	rec := &recordtest.Recorder{}
	cs, srv, s := startWith(t, SetupOptions{EventRecorderFor: func(string) record.EventRecorder { return rec }}, objs...)
	return cs, srv, s, rec
}

// startWith runs a scheduler set up with o (its client and factory filled
// in) over an in-memory apiserver seeded with objs.
func startWith(t *testing.T, o SetupOptions, objs ...scheme.Object) (*client.Clientset, *clienttest.Server, *Scheduler) {
	t.Helper()
	cs, srv := clienttest.New(t, objs...)
	ctx, cancel := context.WithCancel(context.Background())
	factory := informer.NewFactory(cs)
	o.ClientSet, o.Factory = cs, factory
	s, inf, err := Setup(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx)
	if !factory.WaitForCacheSync(ctx) || !inf.HasSynced() {
		t.Fatal("caches did not sync")
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait(); factory.Shutdown() })
	return cs, srv, s
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func boundPods(t *testing.T, srv *clienttest.Server) map[string]string {
	out := map[string]string{}
	for _, o := range srv.Objects("pods") {
		p := o.(*corev1.Pod)
		if n := p.GetSpec().GetNodeName(); n != "" {
			out[p.GetMetadata().GetName()] = n
		}
	}
	return out
}

func TestSchedulesWithoutOvercommit(t *testing.T) {
	objs := []scheme.Object{
		schedtest.MakeNode("n1").Capacity("2", "4Gi", "110").Obj(),
		schedtest.MakeNode("n2").Capacity("2", "4Gi", "110").Obj(),
		schedtest.MakeNode("tainted").Capacity("32", "64Gi", "110").Taint("dedicated", "gpu", "NoSchedule").Obj(),
	}
	// 10 pods of 500m: 8 fit on n1+n2, 2 do not.
	for i := range 10 {
		objs = append(objs, schedtest.MakePod(fmt.Sprintf("p%d", i)).Req("500m", "100Mi").Obj())
	}
	_, srv, s, rec := start(t, objs...)
	waitFor(t, "8 pods bound", func() bool { return len(boundPods(t, srv)) == 8 })
	waitFor(t, "FailedScheduling events", func() bool {
		n := 0
		for _, e := range rec.Events() {
			if strings.HasPrefix(e, "Warning FailedScheduling ") {
				n++
			}
		}
		return n >= 2
	})
	time.Sleep(200 * time.Millisecond)
	bound := boundPods(t, srv)
	if len(bound) != 8 {
		t.Fatalf("bound %d pods, want 8: %v", len(bound), bound)
	}
	perNode := map[string]int{}
	for _, n := range bound {
		perNode[n]++
	}
	if perNode["n1"] != 4 || perNode["n2"] != 4 {
		t.Errorf("pods per node = %v, want 4 on n1 and n2", perNode)
	}
	if got := testutil.ToFloat64(s.metrics.ScheduleAttempts.WithLabelValues(resultScheduled, "default-scheduler")); got != 8 {
		t.Errorf("scheduled attempts metric = %v, want 8", got)
	}
	if got := testutil.ToFloat64(s.metrics.ScheduleAttempts.WithLabelValues(resultUnschedulable, "default-scheduler")); got < 2 {
		t.Errorf("unschedulable attempts metric = %v, want at least 2", got)
	}
	if got := testutil.ToFloat64(s.metrics.PendingPods.WithLabelValues("unschedulable")); got != 2 {
		t.Errorf("pending unschedulable pods metric = %v, want 2", got)
	}
	var failed, scheduled string
	for _, e := range rec.Events() {
		if m, ok := strings.CutPrefix(e, "Warning FailedScheduling "); ok {
			failed = m
		}
		if m, ok := strings.CutPrefix(e, "Normal Scheduled "); ok {
			scheduled = m
		}
	}
	wantFail := "0/3 nodes are available: 2 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}."
	if !strings.HasPrefix(failed, wantFail) {
		t.Errorf("FailedScheduling message = %q, want prefix %q", failed, wantFail)
	}
	if !strings.HasPrefix(scheduled, "Successfully assigned default/p") {
		t.Errorf("Scheduled message = %q", scheduled)
	}

	// A new node lets the two unschedulable pods in.
	cs := srv.Clientset(t, "")
	createNode(t, cs, schedtest.MakeNode("n3").Capacity("2", "4Gi", "110").Obj())
	waitFor(t, "all 10 pods bound", func() bool { return len(boundPods(t, srv)) == 10 })
}

// createNode creates a node with its status (clienttest, unlike the real
// apiserver, drops the status on create).
func createNode(t *testing.T, cs *client.Clientset, n *corev1.Node) {
	t.Helper()
	ctx := context.Background()
	created, err := cs.Nodes().Create(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	created.Status = n.Status
	if _, err := cs.Nodes().UpdateStatus(ctx, created); err != nil {
		t.Fatal(err)
	}
}

func TestOtherSchedulerNameIsLeftAlone(t *testing.T) {
	_, srv, _, _ := start(t,
		schedtest.MakeNode("n1").Capacity("2", "4Gi", "110").Obj(),
		schedtest.MakePod("mine").Obj(),
		schedtest.MakePod("theirs").SchedulerName("my-scheduler").Obj(),
	)
	waitFor(t, "mine bound", func() bool { return boundPods(t, srv)["mine"] == "n1" })
	time.Sleep(300 * time.Millisecond)
	if n, ok := boundPods(t, srv)["theirs"]; ok {
		t.Errorf("pod for my-scheduler was bound to %s", n)
	}
}

func TestBindFailureForgetsAndRetries(t *testing.T) {
	cs, srv := clienttest.New(t, schedtest.MakeNode("n1").Capacity("1", "4Gi", "110").Obj())
	_ = cs
	var mu sync.Mutex
	fails := 1
	srv.AddReactor(func(a clienttest.Action) error {
		if a.Verb != "bind" {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			return fmt.Errorf("injected bind failure")
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	factory := informer.NewFactory(cs)
	s, _, err := Setup(ctx, SetupOptions{ClientSet: cs, Factory: factory})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx)
	factory.WaitForCacheSync(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	defer func() { cancel(); <-done; factory.Shutdown() }()
	if _, err := cs.Pods("default").Create(ctx, schedtest.MakePod("p").Req("1", "").Obj()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "pod bound after a failed bind", func() bool { return boundPods(t, srv)["p"] == "n1" })
	waitFor(t, "cache holds one pod", func() bool { return s.cache.PodCount() == 1 })
	if got := s.cache.Dump()["n1"].Requested.MilliCPU; got != 1000 {
		t.Errorf("n1 requested cpu = %dm, want 1000m (a forgotten bind must not count twice)", got)
	}
}

func TestNumFeasibleNodesToFind(t *testing.T) {
	for _, tc := range []struct {
		pct   int32
		nodes int
		want  int
	}{
		{0, 10, 10}, {0, 99, 99}, {0, 100, 100}, {0, 500, 230}, {0, 5000, 500}, {0, 6000, 300}, {0, 200, 100},
		{100, 5000, 5000}, {30, 1000, 300}, {1, 1000, 100},
	} {
		if got := NumFeasibleNodesToFind(tc.pct, tc.nodes); got != tc.want {
			t.Errorf("NumFeasibleNodesToFind(%d, %d) = %d, want %d", tc.pct, tc.nodes, got, tc.want)
		}
	}
}

func TestFitErrorMessage(t *testing.T) {
	fe := &FitError{NumAllNodes: 3, Statuses: framework.NodeToStatus{
		"a": framework.NewStatus(framework.Unschedulable, "Insufficient cpu"),
		"b": framework.NewStatus(framework.Unschedulable, "Insufficient cpu", "Insufficient memory"),
		"c": framework.NewStatus(framework.UnschedulableAndUnresolvable, "node(s) had untolerated taint {k: v}"),
	}}
	want := "0/3 nodes are available: 2 Insufficient cpu, 1 Insufficient memory, 1 node(s) had untolerated taint {k: v}."
	if got := fe.Error(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// Each profile's events name its own schedulerName, as kube-scheduler's
// do: a pod of my-scheduler is not reported by default-scheduler.
func TestEventsPerProfile(t *testing.T) {
	comp := config.Default()
	comp.Profiles = append(comp.Profiles, config.Profile{SchedulerName: "my-scheduler"})
	config.SetDefaults(comp)
	var mu sync.Mutex
	recs := map[string]*recordtest.Recorder{}
	_, srv, _ := startWith(t, SetupOptions{Config: comp,
		EventRecorderFor: func(name string) record.EventRecorder {
			mu.Lock()
			defer mu.Unlock()
			recs[name] = &recordtest.Recorder{}
			return recs[name]
		}},
		schedtest.MakeNode("n1").Capacity("2", "4Gi", "110").Obj(),
		schedtest.MakePod("mine").Obj(),
		schedtest.MakePod("theirs").SchedulerName("my-scheduler").Obj(),
	)

	waitFor(t, "both pods bound", func() bool {
		b := boundPods(t, srv)
		return b["mine"] == "n1" && b["theirs"] == "n1"
	})
	mu.Lock()
	defer mu.Unlock()
	if len(recs) != 2 || recs[config.DefaultSchedulerName] == nil || recs["my-scheduler"] == nil {
		t.Fatalf("recorders made for %v", recs)
	}
	for name, pod := range map[string]string{config.DefaultSchedulerName: "mine", "my-scheduler": "theirs"} {
		evs := strings.Join(recs[name].Events(), "\n")
		if !strings.Contains(evs, "Scheduled Successfully assigned default/"+pod+" to n1") {
			t.Errorf("%s recorded %q, want %s's Scheduled event", name, evs, pod)
		}
		if other := map[string]string{"mine": "theirs", "theirs": "mine"}[pod]; strings.Contains(evs, "default/"+other+" ") {
			t.Errorf("%s recorded %s's event: %q", name, other, evs)
		}
	}
}
