package apiserver

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
	"github.com/gantryhq/gantry/test/integration/framework"
)

func benchPod(name string) *corev1.Pod {
	return &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "bench"}},
		Spec: &corev1.PodSpec{Containers: []*corev1.Container{{
			Name: "pause", Image: "gantry/pause:latest",
			Resources: &corev1.ResourceRequirements{Requests: map[string]*metav1.Quantity{
				"cpu": {Value: "100m"}, "memory": {Value: "500Mi"},
			}},
		}}},
	}
}

// BenchmarkAPIServerCreate measures pod creates per second through the
// apiserver (TLS gRPC, defaulting, validation, an etcd transaction each) on
// the embedded etcd, with 1, 16 and 64 concurrent clients, each on its own
// connection. Run: make bench-apiserver.
func BenchmarkAPIServerCreate(b *testing.B) {
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			s := framework.StartAPIServer(b, apiservertest.Options{})
			css := make([]*client.Clientset, clients)
			for i := range css {
				css[i] = framework.Client(b, s)
			}
			perClient := 3000 / clients
			if clients == 1 {
				perClient = 1000
			}
			ctx := context.Background()
			var total atomic.Int64
			b.ResetTimer()
			start := time.Now()
			for it := 0; it < b.N; it++ {
				var wg sync.WaitGroup
				for c := 0; c < clients; c++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						pods := css[c].Pods("default")
						for i := 0; i < perClient; i++ {
							if _, err := pods.Create(ctx, benchPod(fmt.Sprintf("p-%d-%d-%d", it, c, i))); err != nil {
								b.Error(err)
								return
							}
							total.Add(1)
						}
					}()
				}
				wg.Wait()
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(total.Load())/elapsed.Seconds(), "creates/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkAPIServerWatch measures watch delivery latency to 100 watchers:
// from just before each create is sent until each watcher receives its
// event, for 1,000 creates at 100/s.
func BenchmarkAPIServerWatch(b *testing.B) {
	const watchers, writes = 100, 1000
	s := framework.StartAPIServer(b, apiservertest.Options{})
	cs := framework.Client(b, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wcs := make([]*client.Clientset, 10)
	for i := range wcs {
		wcs[i] = framework.Client(b, s)
	}
	b.ResetTimer()
	var all []time.Duration
	for it := 0; it < b.N; it++ {
		ns := fmt.Sprintf("w%d", it)
		if _, err := cs.Namespaces().Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: ns}}); err != nil {
			b.Fatal(err)
		}
		list, err := cs.Pods(ns).List(ctx, client.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		lat := make([]time.Duration, 0, watchers*writes)
		for w := 0; w < watchers; w++ {
			watch, err := wcs[w%len(wcs)].Pods(ns).Watch(ctx, client.WatchOptions{ResourceVersion: list.ResourceVersion})
			if err != nil {
				b.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer watch.Stop()
				local := make([]time.Duration, 0, writes)
				for n := 0; n < writes; n++ {
					ev, err := watch.Next()
					if err != nil {
						b.Error(err)
						return
					}
					sent, _ := strconv.ParseInt(ev.Object.Metadata.Annotations["sent"], 10, 64)
					local = append(local, time.Since(time.Unix(0, sent)))
				}
				mu.Lock()
				lat = append(lat, local...)
				mu.Unlock()
			}()
		}
		tick := time.NewTicker(10 * time.Millisecond)
		for i := 0; i < writes; i++ {
			<-tick.C
			p := benchPod(fmt.Sprintf("p-%d", i))
			p.Metadata.Namespace = ns
			p.Metadata.Annotations = map[string]string{"sent": strconv.FormatInt(time.Now().UnixNano(), 10)}
			if _, err := cs.Pods(ns).Create(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
		tick.Stop()
		wg.Wait()
		all = append(all, lat...)
	}
	b.StopTimer()
	if len(all) == 0 {
		b.Fatal("no events received")
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 {
		return float64(all[int(p*float64(len(all)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "watch-p50-ms")
	b.ReportMetric(pct(0.99), "watch-p99-ms")
	b.ReportMetric(0, "ns/op")
}
