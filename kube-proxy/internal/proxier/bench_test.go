package proxier

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gantryhq/gantry/kube-proxy/internal/iptables"
	"github.com/gantryhq/gantry/kube-proxy/internal/iptables/iptablestest"
)

// recorder keeps the data of the last Restore and how long it took.
type recorder struct {
	iptables.Interface
	mu   sync.Mutex
	last []byte
	took time.Duration
}

func (r *recorder) Restore(ctx context.Context, data []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = append(r.last[:0], data...)
	start := time.Now()
	err := r.Interface.Restore(ctx, data)
	r.took = time.Since(start)
	return err
}

// BenchmarkSync measures syncs against real iptables in a network namespace
// it makes, at 1,000, 5,000 and 10,000 services with two endpoints each:
//
//   - full-sync-ms: a full sync (every chain rewritten), steady state;
//   - one-change-ms: an ordinary sync after one service's endpoints changed;
//   - restore-ms: a bare iptables-restore of the full sync's input;
//   - full-sync-go-ms: the full sync's time outside iptables-restore (the
//     proxier's own work);
//   - jump-check-ms: checking the eight jumps from built-in chains, which a
//     full sync does at start, after an error and hourly;
//   - first-sync-ms: the first sync into an empty namespace.
//
// Each figure is the median over the iterations (-benchtime), the full sync
// and the bare restore taking turns to go first. Run it with
// `make bench-proxy`. GANTRY_BENCH_SERVICES overrides the sizes
// ("1000,5000"); GANTRY_IPTABLES picks the backend (legacy or nft; empty:
// the system's iptables); GANTRY_BENCH_DUMP writes the first sync's input to
// a file.
func BenchmarkSync(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Fatal("BenchmarkSync needs root (ip netns add)")
	}
	sizes := []int{1000, 5000, 10000}
	if env := os.Getenv("GANTRY_BENCH_SERVICES"); env != "" {
		sizes = nil
		for _, f := range strings.Split(env, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				b.Fatalf("GANTRY_BENCH_SERVICES: %v", err)
			}
			sizes = append(sizes, n)
		}
	}
	backend := os.Getenv("GANTRY_IPTABLES")
	for _, n := range sizes {
		b.Run("services="+strconv.Itoa(n), func(b *testing.B) {
			ns := "gtpbench" + strconv.Itoa(os.Getpid())
			if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
				b.Fatalf("ip netns add: %v: %s", err, out)
			}
			defer exec.Command("ip", "netns", "del", ns).Run()
			runner, err := iptables.New(ns, backend)
			if err != nil {
				b.Fatal(err)
			}
			defer runner.Close()
			rec := &recorder{Interface: runner}
			ctx := context.Background()
			p := New(rec, Options{ClusterCIDR: podCIDR}, nil, zap.NewNop())
			for i := range n {
				name := fmt.Sprintf("svc-%05d", i)
				ip := fmt.Sprintf("10.%d.%d.%d", 96+i/65536, (i/256)%256, i%256)
				p.OnServiceAdd(makeService("default", name, ip).port("http", 80, 0).obj())
				p.OnEndpointsAdd(makeEndpoints("default", name).subset("http", 8080,
					fmt.Sprintf("10.244.%d.%d", (2*i)/256%256, (2*i)%256), fmt.Sprintf("10.245.%d.%d", (2*i+1)/256%256, (2*i+1)%256)).obj())
			}
			start := time.Now()
			if err := p.Sync(ctx); err != nil {
				b.Fatal(err)
			}
			first := time.Since(start)
			b.Logf("%s, %d services: first sync %s, %d bytes", runner.Version(), n, first, len(rec.last))
			if path := os.Getenv("GANTRY_BENCH_DUMP"); path != "" {
				if err := os.WriteFile(path, rec.last, 0o644); err != nil {
					b.Fatal(err)
				}
			}

			// The machine is shared: take medians, and alternate which of
			// the full sync and the bare restore goes first.
			var full, one, raw, jumps, overhead []time.Duration
			timed := func(out *[]time.Duration, fn func() error) {
				start := time.Now()
				if err := fn(); err != nil {
					b.Fatal(err)
				}
				*out = append(*out, time.Since(start))
			}
			fullData := append([]byte(nil), rec.last...)
			fullSync := func() error {
				p.ForceFullSync()
				start := time.Now()
				err := p.Sync(ctx)
				overhead = append(overhead, time.Since(start)-rec.took)
				fullData = append(fullData[:0], rec.last...)
				return err
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%2 == 0 {
					timed(&full, fullSync)
				}
				timed(&raw, func() error { return runner.Restore(ctx, fullData) })
				if i%2 == 1 {
					timed(&full, fullSync)
				}

				name := fmt.Sprintf("svc-%05d", i%n)
				p.OnEndpointsUpdate(nil, makeEndpoints("default", name).subset("http", 8080,
					"10.246.0.1", fmt.Sprintf("10.246.1.%d", i%250)).obj())
				timed(&one, func() error { return p.Sync(ctx) })
				timed(&jumps, p.ensureJumps)
			}
			b.ReportMetric(float64(first.Microseconds())/1000, "first-sync-ms")
			b.ReportMetric(median(full), "full-sync-ms")
			b.ReportMetric(median(one), "one-change-ms")
			b.ReportMetric(median(raw), "restore-ms")
			b.ReportMetric(median(full)/median(raw), "full/restore")
			b.ReportMetric(median(jumps), "jump-check-ms")
			b.ReportMetric(median(overhead), "full-sync-go-ms")
		})
	}
}

// median of ds, in milliseconds.
func median(ds []time.Duration) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[len(s)/2].Microseconds()) / 1000
}

// BenchmarkRender measures the proxier's own work at 10,000 services, with
// a fake iptables: a full sync's rule text (full-render-ms) and an ordinary
// sync's after one service changed (one-change-render-ms).
func BenchmarkRender(b *testing.B) {
	const n = 10000
	fake := iptablestest.New()
	p := New(fake, Options{ClusterCIDR: podCIDR}, nil, zap.NewNop())
	for i := range n {
		name := fmt.Sprintf("svc-%05d", i)
		p.OnServiceAdd(makeService("default", name, fmt.Sprintf("10.%d.%d.%d", 96+i/65536, (i/256)%256, i%256)).port("http", 80, 0).obj())
		p.OnEndpointsAdd(makeEndpoints("default", name).subset("http", 8080, "10.244.0.1", "10.244.0.2").obj())
	}
	ctx := context.Background()
	start := time.Now()
	if err := p.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	first := time.Since(start)
	var full, one time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.ForceFullSync()
		start = time.Now()
		if err := p.Sync(ctx); err != nil {
			b.Fatal(err)
		}
		full += time.Since(start)
		p.OnEndpointsUpdate(nil, makeEndpoints("default", fmt.Sprintf("svc-%05d", i%n)).subset("http", 8080, "10.244.0.1", fmt.Sprintf("10.246.1.%d", i%250)).obj())
		start = time.Now()
		if err := p.Sync(ctx); err != nil {
			b.Fatal(err)
		}
		one += time.Since(start)
	}
	b.ReportMetric(float64(first.Microseconds())/1000, "first-render-ms")
	b.ReportMetric(float64(full.Microseconds())/1000/float64(b.N), "full-render-ms")
	b.ReportMetric(float64(one.Microseconds())/1000/float64(b.N), "one-change-render-ms")
}
