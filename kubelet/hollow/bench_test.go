package hollow

import (
	"context"
	"fmt"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/clienttest"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// BenchmarkHollowNodes starts 200 hollow nodes in one process (against the
// in-memory fake apiserver), runs 5 pods on each, and reports what one node
// costs: heap and goroutines, and the time to start it.
func BenchmarkHollowNodes(b *testing.B) {
	const nodes, podsPerNode = 200, 5
	cs, _ := clienttest.New(b)
	ctx := context.Background()
	goruntime.GC()
	var before goruntime.MemStats
	goruntime.ReadMemStats(&before)
	g0 := goruntime.NumGoroutine()
	start := time.Now()
	var ns []*Node
	for i := range nodes {
		n, err := Start(ctx, cs, fmt.Sprintf("hollow-%d", i), Options{})
		if err != nil {
			b.Fatal(err)
		}
		ns = append(ns, n)
	}
	perNodeStart := time.Since(start) / nodes
	for i := range nodes {
		for j := range podsPerNode {
			pod := &corev1.Pod{
				Metadata: &metav1.ObjectMeta{Name: fmt.Sprintf("p-%d-%d", i, j), Namespace: "default"},
				Spec:     &corev1.PodSpec{NodeName: ns[i].Name(), RestartPolicy: "Always", Containers: []*corev1.Container{{Name: "c", Image: "x"}}},
			}
			if _, err := cs.Pods("default").Create(ctx, pod); err != nil {
				b.Fatal(err)
			}
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		l, err := cs.Pods("default").List(ctx, client.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		running := 0
		for _, p := range l.Items {
			if p.GetStatus().GetPhase() == "Running" {
				running++
			}
		}
		if running == nodes*podsPerNode {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d pods running", running, nodes*podsPerNode)
		}
		time.Sleep(100 * time.Millisecond)
	}
	allRunning := time.Since(start)
	goruntime.GC()
	var after goruntime.MemStats
	goruntime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/nodes/1024, "heap-KiB/node")
	b.ReportMetric(float64(goruntime.NumGoroutine()-g0)/nodes, "goroutines/node")
	b.ReportMetric(float64(perNodeStart.Microseconds())/1000, "start-ms/node")
	b.ReportMetric(allRunning.Seconds(), "all-running-s")
	b.ReportMetric(0, "ns/op")
	for _, n := range ns {
		n.Stop()
	}
}
