package scheduler

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/test/integration/framework"
)

// BenchmarkSchedulingBasic is the shape of kube-scheduler's scheduler_perf
// SchedulingBasic: nodes of 4 CPU, 32Gi and 110 pods; 1,000 pods already
// placed; then 10,000 pause pods (100m CPU, 500Mi) created and scheduled,
// with the real apiserver and embedded etcd in the loop. It reports
// pods/s (10,000 over the time from the first create to the last bind)
// and p50-pods/s (the median of per-second samples).
//
//	make bench-scheduler
func BenchmarkSchedulingBasic(b *testing.B) {
	for _, nodes := range []int{500, 5000} {
		b.Run(fmt.Sprintf("%dNodes", nodes), func(b *testing.B) {
			for range b.N {
				schedulingBasic(b, nodes, 1000, 10000)
			}
		})
	}
}

// BenchmarkSchedulingBacklog is SchedulingBasic with the 10,000 pods created
// before the scheduler starts: the clock runs from the scheduler's start
// (informers listing included) to the last bind, so pod creation does not
// compete with scheduling for the apiserver.
func BenchmarkSchedulingBacklog(b *testing.B) {
	for _, nodes := range []int{500, 5000} {
		b.Run(fmt.Sprintf("%dNodes", nodes), func(b *testing.B) {
			for range b.N {
				schedulingBacklog(b, nodes, 1000, 10000)
			}
		})
	}
}

func schedulingBacklog(b *testing.B, numNodes, initPods, measurePods int) {
	b.StopTimer()
	srv := framework.StartAPIServer(b, apiservertest.Options{Logger: zap.NewNop()})
	cs := framework.Client(b, srv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := createNodes(ctx, cs, numNodes, "4", "32Gi", "110"); err != nil {
		b.Fatal(err)
	}
	err := createAll(ctx, initPods+measurePods, 64, func(i int) error {
		var p = makePod(fmt.Sprintf("pod-%d", i), "100m", "500Mi")
		if i < initPods {
			p.Spec.NodeName = fmt.Sprintf("node-%d", i%numNodes)
		}
		_, err := cs.Pods("default").Create(ctx, p)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	list, err := cs.Pods("").List(ctx, client.ListOptions{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	w, err := cs.Pods("").Watch(ctx, client.WatchOptions{ResourceVersion: list.ResourceVersion, FieldSelector: "spec.nodeName!="})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	var bound atomic.Int64
	allBound := make(chan struct{})
	go func() {
		for {
			ev, err := w.Next()
			if err != nil {
				return
			}
			if ev.Type == client.Added && bound.Add(1) == int64(measurePods) {
				close(allBound)
			}
		}
	}()
	b.StartTimer()
	start, cpu0 := time.Now(), processCPU()
	stop := startScheduler(b, srv, schedOpts{identity: "bench"})
	defer stop()
	select {
	case <-allBound:
	case <-time.After(10 * time.Minute):
		b.Fatalf("only %d of %d pods bound after 10 minutes", bound.Load(), measurePods)
	}
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	b.StopTimer()
	reportCPU(b, cpu, measurePods)
	b.ReportMetric(float64(measurePods)/elapsed.Seconds(), "pods/s")
	stop()
	checkNoOvercommit(b, cs)
}

func schedulingBasic(b *testing.B, numNodes, initPods, measurePods int) {
	b.StopTimer()
	srv := framework.StartAPIServer(b, apiservertest.Options{Logger: zap.NewNop()})
	cs := framework.Client(b, srv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := createNodes(ctx, cs, numNodes, "4", "32Gi", "110"); err != nil {
		b.Fatal(err)
	}
	err := createAll(ctx, initPods, 16, func(i int) error {
		p := makePod(fmt.Sprintf("init-%d", i), "100m", "500Mi")
		p.Spec.NodeName = fmt.Sprintf("node-%d", i%numNodes)
		_, err := cs.Pods("default").Create(ctx, p)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	stop := startScheduler(b, srv, schedOpts{identity: "bench"})
	defer stop()

	// Count binds through a watch of bound pods from now on.
	list, err := cs.Pods("").List(ctx, client.ListOptions{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	w, err := cs.Pods("").Watch(ctx, client.WatchOptions{ResourceVersion: list.ResourceVersion, FieldSelector: "spec.nodeName!="})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	var bound atomic.Int64
	allBound := make(chan struct{})
	go func() {
		for {
			ev, err := w.Next()
			if err != nil {
				return
			}
			if ev.Type == client.Added {
				if bound.Add(1) == int64(measurePods) {
					close(allBound)
				}
			}
		}
	}()

	var samples []float64
	sampleDone := make(chan struct{})
	go func() {
		defer close(sampleDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		last := int64(0)
		for {
			select {
			case <-ctx.Done():
				return
			case <-allBound:
				return
			case <-t.C:
				cur := bound.Load()
				samples = append(samples, float64(cur-last))
				last = cur
			}
		}
	}()

	// Creators spread over several connections, as many clients would.
	creators := make([]*client.Clientset, 8)
	for i := range creators {
		creators[i] = framework.Client(b, srv)
	}
	b.StartTimer()
	start, cpu0 := time.Now(), processCPU()
	go func() {
		err := createAll(ctx, measurePods, 64, func(i int) error {
			_, err := creators[i%len(creators)].Pods("default").Create(ctx, makePod(fmt.Sprintf("pod-%d", i), "100m", "500Mi"))
			return err
		})
		if err != nil && ctx.Err() == nil {
			b.Error(err)
			cancel()
		}
		fmt.Printf("%d creates took %v (%d bound by then)\n", measurePods, time.Since(start), bound.Load())
	}()
	select {
	case <-allBound:
	case <-ctx.Done():
		b.Fatal("cancelled")
	case <-time.After(10 * time.Minute):
		b.Fatalf("only %d of %d pods bound after 10 minutes", bound.Load(), measurePods)
	}
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	b.StopTimer()
	<-sampleDone
	reportCPU(b, cpu, measurePods)
	b.ReportMetric(float64(measurePods)/elapsed.Seconds(), "pods/s")
	if len(samples) > 0 {
		slices.Sort(samples)
		b.ReportMetric(samples[len(samples)/2], "p50-pods/s")
	}
	stop()
	checkNoOvercommit(b, cs)
}

// processCPU is the CPU time (user and system) this process has used:
// apiserver, etcd, scheduler and the benchmark's clients together.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU spent per pod, and what that allows on this
// machine's two cores when nothing else runs (the machine is shared, so
// wall-clock rates depend on the other work running).
func reportCPU(b *testing.B, cpu time.Duration, pods int) {
	perPod := cpu.Seconds() * 1000 / float64(pods)
	b.ReportMetric(perPod, "cpu-ms/pod")
	if perPod > 0 {
		b.ReportMetric(2*1000/perPod, "2core-pods/s")
	}
}
