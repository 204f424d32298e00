package kubelet

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantryhq/gantry/client"
	e2e "github.com/gantryhq/gantry/test/e2e/framework"
)

// BenchmarkKubelet measures pod startup latency through the kubelet on
// Docker — from the pod's creation to the watch event that shows it
// Running — for pods created one a second and in bursts of ten, beside a
// bare `docker run` of the same image, and the kubelet's RSS idle and with
// 20 pods. Run it with `make bench-kubelet` (-benchtime 1x: one pass).
// KUBELET_BENCH_PODS changes the number of pods of each phase (100).
func BenchmarkKubelet(b *testing.B) {
	pods := 100
	if v, err := strconv.Atoi(os.Getenv("KUBELET_BENCH_PODS")); err == nil && v > 0 {
		pods = v
	}
	// The deployed resync interval (the e2e tests use 5 s).
	e := newEnv(b, "--log-level=info", "--resync-interval=30s")
	ctx := context.Background()
	time.Sleep(3 * time.Second)
	rssIdle := rssMiB(b, e.cmd.Process.Pid)

	// A watch notes when each pod is first seen Running.
	w, err := e.cs.Pods("default").Watch(ctx, client.WatchOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	var mu sync.Mutex
	running := map[string]time.Time{}
	seen := make(chan string, 1024)
	go func() {
		for {
			ev, err := w.Next()
			if err != nil {
				return
			}
			if ev.Object.GetStatus().GetPhase() != "Running" {
				continue
			}
			name := ev.Object.GetMetadata().GetName()
			mu.Lock()
			if _, ok := running[name]; !ok {
				running[name] = time.Now()
				seen <- name
			}
			mu.Unlock()
		}
	}()
	created := map[string]time.Time{}
	create := func(name string) {
		p := e.pod(name, "gantry/demo:latest")
		t0 := time.Now()
		if _, err := e.cs.Pods("default").Create(ctx, p); err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		created[name] = t0
		mu.Unlock()
	}
	waitRunning := func(names []string) {
		deadline := time.After(2 * time.Minute)
		want := map[string]bool{}
		for _, n := range names {
			want[n] = true
		}
		mu.Lock()
		for n := range want {
			if _, ok := running[n]; ok {
				delete(want, n)
			}
		}
		mu.Unlock()
		for len(want) > 0 {
			select {
			case n := <-seen:
				delete(want, n)
			case <-deadline:
				b.Fatalf("pods not Running: %v", want)
			}
		}
	}
	latencies := func(names []string) []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		var out []time.Duration
		for _, n := range names {
			out = append(out, running[n].Sub(created[n]))
		}
		return out
	}
	deleteAll := func(names []string) {
		zero := int64(1)
		for _, n := range names {
			if err := e.cs.Pods("default").Delete(ctx, n, client.DeleteOptions{GracePeriodSeconds: &zero}); err != nil && !client.IsNotFound(err) {
				b.Fatal(err)
			}
		}
		e.waitFor("pods deleted", 3*time.Minute, func() (bool, string) {
			l, err := e.cs.Pods("default").List(ctx, client.ListOptions{})
			if err != nil {
				return false, err.Error()
			}
			return len(l.Items) == 0, fmt.Sprintf("%d pods left", len(l.Items))
		})
	}

	b.ResetTimer()
	// One pod a second.
	var steady []string
	tick := time.NewTicker(time.Second)
	for i := range pods {
		name := fmt.Sprintf("steady-%d", i)
		create(name)
		steady = append(steady, name)
		if i < pods-1 {
			<-tick.C
		}
	}
	tick.Stop()
	waitRunning(steady)
	steadyLat := latencies(steady)
	deleteAll(steady)

	// Bursts of ten.
	var burst []string
	for i := 0; i < pods/10; i++ {
		var names []string
		var wg sync.WaitGroup
		for j := range 10 {
			name := fmt.Sprintf("burst-%d-%d", i, j)
			names = append(names, name)
			wg.Add(1)
			go func() { defer wg.Done(); create(name) }()
		}
		wg.Wait()
		waitRunning(names)
		burst = append(burst, names...)
		time.Sleep(time.Second)
	}
	burstLat := latencies(burst)
	deleteAll(burst)

	// 20 pods: the kubelet's RSS.
	var twenty []string
	for i := range 20 {
		name := fmt.Sprintf("rss-%d", i)
		create(name)
		twenty = append(twenty, name)
	}
	waitRunning(twenty)
	time.Sleep(5 * time.Second)
	rss20 := rssMiB(b, e.cmd.Process.Pid)
	deleteAll(twenty)

	// A bare docker run of the same image, on the same network.
	var dockerLat []time.Duration
	for i := range 20 {
		name := fmt.Sprintf("bench-bare-%s-%d", e.node, i)
		t0 := time.Now()
		out, err := exec.Command("docker", "run", "-d", "--name", name, "--network", e.network, "--label", "io.gantry.bench="+e.node, "gantry/demo:latest").CombinedOutput()
		if err != nil {
			b.Fatalf("docker run: %v: %s", err, out)
		}
		dockerLat = append(dockerLat, time.Since(t0))
		time.Sleep(200 * time.Millisecond)
	}
	e2e.RemoveContainers(b, "label=io.gantry.bench="+e.node)
	// Ten bare docker runs at once, as a burst of pods asks of the engine.
	var burstDocker []time.Duration
	for i := 0; i < 3; i++ {
		var wg sync.WaitGroup
		var bmu sync.Mutex
		for j := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				out, err := exec.Command("docker", "run", "-d", "--network", e.network, "--label", "io.gantry.bench="+e.node, "gantry/demo:latest").CombinedOutput()
				if err != nil {
					b.Errorf("docker run %d: %v: %s", j, err, out)
				}
				bmu.Lock()
				burstDocker = append(burstDocker, time.Since(t0))
				bmu.Unlock()
			}()
		}
		wg.Wait()
		e2e.RemoveContainers(b, "label=io.gantry.bench="+e.node)
	}
	b.StopTimer()

	all := append(append([]time.Duration{}, steadyLat...), burstLat...)
	b.ReportMetric(ms(pct(all, 50)), "startup-p50-ms")
	b.ReportMetric(ms(pct(all, 99)), "startup-p99-ms")
	b.ReportMetric(ms(pct(steadyLat, 50)), "steady-p50-ms")
	b.ReportMetric(ms(pct(steadyLat, 99)), "steady-p99-ms")
	b.ReportMetric(ms(pct(burstLat, 50)), "burst-p50-ms")
	b.ReportMetric(ms(pct(burstLat, 99)), "burst-p99-ms")
	b.ReportMetric(ms(pct(dockerLat, 50)), "docker-run-p50-ms")
	b.ReportMetric(ms(pct(burstDocker, 50)), "docker-run-burst-p50-ms")
	b.ReportMetric(ms(pct(burstDocker, 99)), "docker-run-burst-p99-ms")
	b.ReportMetric(rssIdle, "rss-idle-MiB")
	b.ReportMetric(rss20, "rss-20pods-MiB")
	b.ReportMetric(0, "ns/op")
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// rssMiB is the resident set size of process pid.
func rssMiB(b *testing.B, pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
