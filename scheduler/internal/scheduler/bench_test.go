package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gantryhq/gantry/client/clienttest"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/scheme"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/cache"
	"github.com/gantryhq/gantry/scheduler/internal/config"
	"github.com/gantryhq/gantry/scheduler/internal/plugins"
	"github.com/gantryhq/gantry/scheduler/internal/queue"
	"github.com/gantryhq/gantry/scheduler/internal/runtime"
	"github.com/gantryhq/gantry/scheduler/internal/schedtest"
)

// BenchmarkSchedulingAlgorithm measures the scheduler's ceiling without the
// real apiserver: SchedulingBasic's shape (nodes of 4 CPU, 32Gi, 110 pods;
// 1,000 pods placed; 10,000 pods of 100m and 500Mi scheduled).
//
//   - FakeAPI: the whole scheduler (informers, queue, cache, plugins,
//     Bind RPCs) against the in-memory apiserver of client/clienttest;
//     the pods are created before the clock starts.
//   - NoAPI: the scheduling loop alone: pods pushed into the queue, a
//     binder plugin that only counts.
func BenchmarkSchedulingAlgorithm(b *testing.B) {
	for _, nodes := range []int{500, 5000} {
		b.Run(fmt.Sprintf("FakeAPI/%dNodes", nodes), func(b *testing.B) {
			for range b.N {
				benchFakeAPI(b, nodes, 1000, 10000)
			}
		})
		b.Run(fmt.Sprintf("NoAPI/%dNodes", nodes), func(b *testing.B) {
			for range b.N {
				benchNoAPI(b, nodes, 1000, 10000)
			}
		})
	}
}

func benchNodes(n int) []*corev1.Node {
	out := make([]*corev1.Node, n)
	for i := range out {
		out[i] = schedtest.MakeNode(fmt.Sprintf("node-%d", i)).Capacity("4", "32Gi", "110").Obj()
	}
	return out
}

func benchFakeAPI(b *testing.B, numNodes, initPods, pods int) {
	b.StopTimer()
	var objs []scheme.Object
	for _, n := range benchNodes(numNodes) {
		objs = append(objs, n)
	}
	for i := range initPods {
		objs = append(objs, schedtest.MakePod(fmt.Sprintf("init-%d", i)).Req("100m", "500Mi").Node(fmt.Sprintf("node-%d", i%numNodes)).Obj())
	}
	for i := range pods {
		objs = append(objs, schedtest.MakePod(fmt.Sprintf("pod-%d", i)).Req("100m", "500Mi").Obj())
	}
	cs, _ := clienttest.New(b, objs...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	factory := informer.NewFactory(cs)
	s, inf, err := Setup(ctx, SetupOptions{ClientSet: cs, Factory: factory})
	if err != nil {
		b.Fatal(err)
	}
	factory.Start(ctx)
	if !factory.WaitForCacheSync(ctx) || !inf.HasSynced() {
		b.Fatal("not synced")
	}
	// The pending informer has queued every pod once synced.
	waitQueued(b, s.queue, pods)
	b.StartTimer()
	start := time.Now()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.Run(ctx) }()
	for s.Scheduled.Load() < int64(pods) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	wg.Wait()
	factory.Shutdown()
	b.ReportMetric(float64(pods)/elapsed.Seconds(), "pods/s")
}

func waitQueued(b *testing.B, q *queue.Queue, n int) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		a, _, _ := q.Len()
		if a >= n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d pods queued", a)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// countingBinder binds by counting.
type countingBinder struct{}

func (countingBinder) Name() string { return "CountingBinder" }
func (countingBinder) Bind(context.Context, *framework.CycleState, *framework.PodInfo, string) *framework.Status {
	return nil
}

func benchNoAPI(b *testing.B, numNodes, initPods, pods int) {
	b.StopTimer()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg := plugins.NewInTreeRegistry()
	reg["CountingBinder"] = func(context.Context, json.RawMessage, framework.Handle) (framework.Plugin, error) {
		return countingBinder{}, nil
	}
	snapshot := cache.NewEmptySnapshot()
	profile := config.Profile{SchedulerName: config.DefaultSchedulerName, Plugins: &config.Plugins{
		Bind: config.PluginSet{Enabled: []config.Plugin{{Name: "CountingBinder"}}, Disabled: []config.Plugin{{Name: "*"}}},
	}}
	fwk, err := runtime.New(ctx, reg, profile, runtime.Options{Snapshot: snapshot})
	if err != nil {
		b.Fatal(err)
	}
	c := cache.New()
	for _, n := range benchNodes(numNodes) {
		c.AddNode(n)
	}
	for i := range initPods {
		if err := c.AddPod(schedtest.MakePod(fmt.Sprintf("init-%d", i)).Req("100m", "500Mi").Node(fmt.Sprintf("node-%d", i%numNodes)).Obj()); err != nil {
			b.Fatal(err)
		}
	}
	q := queue.New(fwk.QueueSortFunc(), queue.Options{})
	for i := range pods {
		q.Add(schedtest.MakePod(fmt.Sprintf("pod-%d", i)).Req("100m", "500Mi").Obj())
	}
	s := New(Options{Cache: c, Queue: q, Snapshot: snapshot, Profiles: map[string]*runtime.Framework{config.DefaultSchedulerName: fwk}})
	b.StartTimer()
	start := time.Now()
	for range pods {
		s.ScheduleOne(ctx)
	}
	s.bindings.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if got := s.Scheduled.Load(); got != int64(pods) {
		b.Fatalf("scheduled %d pods, want %d", got, pods)
	}
	if got := c.PodCount(); got != pods+initPods {
		b.Fatalf("cache holds %d pods, want %d", got, pods+initPods)
	}
	b.ReportMetric(float64(pods)/elapsed.Seconds(), "pods/s")
}
