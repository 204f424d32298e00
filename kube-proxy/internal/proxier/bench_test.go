package proxier

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gantryhq/gantry/kube-proxy/internal/iptables"
	"github.com/gantryhq/gantry/kube-proxy/internal/iptables/iptablestest"
)

// recorder keeps the data of the last Restore.
type recorder struct {
	iptables.Interface
	mu   sync.Mutex
	last []byte
}

func (r *recorder) Restore(ctx context.Context, data []byte) error {
	r.mu.Lock()
	r.last = append(r.last[:0], data...)
	r.mu.Unlock()
	return r.Interface.Restore(ctx, data)
}

// BenchmarkSync measures syncs against real iptables in a network namespace
// it makes, at 1,000, 5,000 and 10,000 services with two endpoints each:
//
//   - full-sync-ms: a full sync (every chain rewritten), steady state;
//   - one-change-ms: an ordinary sync after one service's endpoints changed;
//   - restore-ms: a bare iptables-restore of the full sync's input;
//   - jump-check-ms: checking the eight jumps from built-in chains, which a
//     full sync does at start, after an error and hourly;
//   - first-sync-ms: the first sync into an empty namespace.
//
// Run it with `make bench-proxy`. GANTRY_BENCH_SERVICES overrides the sizes
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

			var full, one, raw, jumps time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p.ForceFullSync()
				start = time.Now()
				if err := p.Sync(ctx); err != nil {
					b.Fatal(err)
				}
				full += time.Since(start)
				fullData := append([]byte(nil), rec.last...)

				name := fmt.Sprintf("svc-%05d", i%n)
				p.OnEndpointsUpdate(nil, makeEndpoints("default", name).subset("http", 8080,
					"10.246.0.1", fmt.Sprintf("10.246.1.%d", i%250)).obj())
				start = time.Now()
				if err := p.Sync(ctx); err != nil {
					b.Fatal(err)
				}
				one += time.Since(start)

				start = time.Now()
				if err := runner.Restore(ctx, fullData); err != nil {
					b.Fatal(err)
				}
				raw += time.Since(start)

				start = time.Now()
				if err := p.ensureJumps(); err != nil {
					b.Fatal(err)
				}
				jumps += time.Since(start)
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
			b.ReportMetric(float64(first.Microseconds())/1000, "first-sync-ms")
			b.ReportMetric(ms(full), "full-sync-ms")
			b.ReportMetric(ms(one), "one-change-ms")
			b.ReportMetric(ms(raw), "restore-ms")
			b.ReportMetric(ms(full)/ms(raw), "full/restore")
			b.ReportMetric(ms(jumps), "jump-check-ms")
		})
	}
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
