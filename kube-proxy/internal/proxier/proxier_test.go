package proxier

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap/zaptest"

	"github.com/gantryhq/gantry/kube-proxy/internal/iptables/iptablestest"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// TestRulesGolden: the full sync's iptables-restore input for a table of
// services and endpoints.
func TestRulesGolden(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      Options
		services  []*corev1.Service
		endpoints []*corev1.Endpoints
	}{
		{
			name:     "clusterip-two-endpoints",
			opts:     Options{ClusterCIDR: "10.244.0.0/16"},
			services: []*corev1.Service{makeService("default", "web", "10.96.0.10").port("http", 80, 0).obj()},
			endpoints: []*corev1.Endpoints{makeEndpoints("default", "web").
				subset("http", 8080, "10.244.0.12", "10.244.0.11").notReady("10.244.0.13").obj()},
		},
		{
			name: "no-endpoints-reject",
			services: []*corev1.Service{
				makeService("default", "empty", "10.96.0.20").port("", 80, 0).obj(),
				makeService("default", "empty-np", "10.96.0.21").typ("NodePort").port("", 80, 30080).externalIP("192.0.2.7").obj(),
			},
		},
		{
			name:     "nodeport-externalip-masquerade-all",
			opts:     Options{MasqueradeAll: true, RandomFully: true},
			services: []*corev1.Service{makeService("shop", "api", "10.96.0.30").typ("NodePort").port("https", 443, 30443).externalIP("192.0.2.8").obj()},
			endpoints: []*corev1.Endpoints{makeEndpoints("shop", "api").
				subset("https", 8443, "10.244.1.5").obj()},
		},
		{
			name:     "localhost-nodeports",
			opts:     Options{LocalhostNodePorts: true},
			services: []*corev1.Service{makeService("default", "np", "10.96.0.31").typ("NodePort").port("", 80, 30081).obj()},
			endpoints: []*corev1.Endpoints{makeEndpoints("default", "np").
				subset("", 8080, "10.244.1.6").obj()},
		},
		{
			name: "traffic-policy-local",
			opts: Options{Hostname: "node-1", ClusterCIDR: "10.244.0.0/16"},
			services: []*corev1.Service{
				makeService("default", "etp", "10.96.0.50").typ("NodePort").policies("Cluster", "Local").port("", 80, 30050).obj(),
				makeService("default", "itp", "10.96.0.51").policies("Local", "").port("", 80, 0).obj(),
			},
			endpoints: []*corev1.Endpoints{
				makeEndpoints("default", "etp").subset("", 8080, "10.244.0.21", "10.244.1.22").
					on("node-1", "10.244.0.21").on("node-2", "10.244.1.22").obj(),
				makeEndpoints("default", "itp").subset("", 8080, "10.244.1.23").on("node-2", "10.244.1.23").obj(),
			},
		},
		{
			// A VIP ingress IP is served on the node as an external IP;
			// a Proxy one is not: traffic reaches the load balancer,
			// which forwards it to the node ports.
			name: "loadbalancer-ipmode",
			services: []*corev1.Service{
				makeService("default", "vip", "10.96.0.60").typ("LoadBalancer").port("", 80, 30060).lb("192.0.2.60", "VIP").obj(),
				makeService("default", "proxied", "10.96.0.61").typ("LoadBalancer").port("", 80, 30061).lb("192.0.2.61", "Proxy").obj(),
			},
			endpoints: []*corev1.Endpoints{
				makeEndpoints("default", "vip").subset("", 8080, "10.244.0.60").obj(),
				makeEndpoints("default", "proxied").subset("", 8080, "10.244.0.61").obj(),
			},
		},
		{
			name:     "session-affinity-three-endpoints",
			services: []*corev1.Service{makeService("default", "sticky", "10.96.0.40").affinity(600).port("", 80, 0).obj()},
			endpoints: []*corev1.Endpoints{makeEndpoints("default", "sticky").
				subset("", 80, "10.244.0.21", "10.244.0.22", "10.244.0.23").obj()},
		},
		{
			name: "multi-port-headless-externalname",
			services: []*corev1.Service{
				makeService("default", "dns", "10.96.0.53").port("dns-tcp", 53, 0).udp("dns", 53).obj(),
				makeService("default", "headless", "None").port("", 80, 0).obj(),
				makeService("default", "ext", "").typ("ExternalName").obj(),
			},
			endpoints: []*corev1.Endpoints{
				makeEndpoints("default", "dns").subset("dns-tcp", 53, "10.244.0.2").obj(),
				makeEndpoints("default", "headless").subset("", 80, "10.244.0.3").obj(),
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := iptablestest.New()
			p := New(fake, tc.opts, nil, zaptest.NewLogger(t))
			for _, s := range tc.services {
				p.OnServiceAdd(s)
			}
			for _, e := range tc.endpoints {
				p.OnEndpointsAdd(e)
			}
			if err := p.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, fake.Last())
			wantJumps, wantSysctls := len(jumps), map[string]string{}
			if tc.opts.LocalhostNodePorts {
				wantJumps += len(firewallJumps)
				wantSysctls[routeLocalnet] = "1"
			}
			if len(fake.Rules) != wantJumps {
				t.Errorf("full sync ensured %d jump rules, want %d: %v", len(fake.Rules), wantJumps, fake.Rules)
			}
			if diff := cmp.Diff(wantSysctls, fake.Sysctls); diff != "" {
				t.Errorf("sysctls (-want +got):\n%s", diff)
			}
		})
	}
}

func declared(data string) []string {
	var out []string
	for _, l := range strings.Split(data, "\n") {
		if strings.HasPrefix(l, ":") {
			name, _, _ := strings.Cut(l[1:], " ")
			out = append(out, name)
		}
	}
	return out
}

func deleted(data string) []string {
	var out []string
	for _, l := range strings.Split(data, "\n") {
		if c, ok := strings.CutPrefix(l, "-X "); ok {
			out = append(out, c)
		}
	}
	return out
}

// TestPartialSync: an ordinary sync rewrites the top-level chains and only
// the changed service's chains; a removed endpoint's and service's chains
// are deleted; a failed restore makes the next sync full.
func TestPartialSync(t *testing.T) {
	ctx := context.Background()
	fake := iptablestest.New()
	// Left by an earlier run: deleted by the first full sync.
	fake.Saved["nat"] = "*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-LEFTOVER000000 - [0:0]\n:OTHER-CHAIN - [0:0]\nCOMMIT\n"
	reg := prometheus.NewRegistry()
	p := New(fake, Options{}, NewMetrics(reg), zaptest.NewLogger(t))
	a := makeService("default", "a", "10.96.0.1").port("", 80, 0).obj()
	b := makeService("default", "b", "10.96.0.2").port("", 80, 0).obj()
	p.OnServiceAdd(a)
	p.OnServiceAdd(b)
	p.OnEndpointsAdd(makeEndpoints("default", "a").subset("", 80, "10.244.0.1", "10.244.0.2").obj())
	p.OnEndpointsAdd(makeEndpoints("default", "b").subset("", 80, "10.244.0.3").obj())
	if err := p.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	nameA := ServicePortName{Namespace: "default", Name: "a", Protocol: "TCP"}
	nameB := ServicePortName{Namespace: "default", Name: "b", Protocol: "TCP"}
	sepA1, sepA2 := sepChain(nameA, endpoint{ip: "10.244.0.1", port: 80}), sepChain(nameA, endpoint{ip: "10.244.0.2", port: 80})
	first := fake.Last()
	if diff := cmp.Diff([]string{"KUBE-SVC-LEFTOVER000000"}, deleted(first)); diff != "" {
		t.Errorf("first sync deleted (-want +got):\n%s", diff)
	}
	if strings.Contains(first, "OTHER-CHAIN") {
		t.Errorf("first sync touched a chain it does not own:\n%s", first)
	}

	// Endpoint 10.244.0.2 of a goes away.
	p.OnEndpointsUpdate(nil, makeEndpoints("default", "a").subset("", 80, "10.244.0.1").obj())
	if err := p.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got := fake.Last()
	// KUBE-SERVICES is as it was: only a's chains are written.
	want := []string{svcChain(nameA), sepA1, sepA2}
	if diff := cmp.Diff(want, declared(got)); diff != "" {
		t.Errorf("partial sync declared (-want +got):\n%s\n%s", diff, got)
	}
	if diff := cmp.Diff([]string{sepA2}, deleted(got)); diff != "" {
		t.Errorf("partial sync deleted (-want +got):\n%s", diff)
	}
	if strings.Contains(got, "*filter") {
		t.Errorf("partial sync rewrote the unchanged filter table:\n%s", got)
	}

	// b is deleted: its chains go, its KUBE-SERVICES rule too.
	p.OnServiceDelete(b)
	if err := p.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got = fake.Last()
	if diff := cmp.Diff([]string{sepChain(nameB, endpoint{ip: "10.244.0.3", port: 80}), svcChain(nameB)}, deleted(got)); diff != "" {
		t.Errorf("deleting b deleted (-want +got):\n%s", diff)
	}
	if strings.Contains(got, "-j "+svcChain(nameB)) {
		t.Errorf("b's KUBE-SERVICES rule survived its deletion:\n%s", got)
	}

	// A failed restore: the next sync is full again.
	fake.Err = errors.New("boom")
	p.OnServiceUpdate(nil, a)
	if err := p.Sync(ctx); err == nil {
		t.Fatal("sync with a failing iptables-restore succeeded")
	}
	fake.Err = nil
	if err := p.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(declared(fake.Last()), " "), svcChain(nameA)) {
		t.Errorf("sync after a failure is not full:\n%s", fake.Last())
	}

	// An ordinary sync with nothing changed writes nothing.
	restores := len(fake.Restores)
	if err := p.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if len(fake.Restores) != restores {
		t.Errorf("idle sync ran iptables-restore:\n%s", fake.Last())
	}
	if got := testutil.ToFloat64(p.metrics.rules.WithLabelValues("nat")); got != 4+1+1+1+2 {
		t.Errorf("nat rules metric %v, want 9", got)
	}
	if n := testutil.CollectAndCount(reg, "kubeproxy_sync_proxy_rules_duration_seconds"); n != 2 {
		t.Errorf("sync duration histogram has %d series, want full and partial", n)
	}
	if err := p.Healthy(time.Minute); err != nil {
		t.Errorf("healthy after syncs: %v", err)
	}
}

func TestCleanupOnlyOwnChains(t *testing.T) {
	fake := iptablestest.New()
	fake.Chains["nat"] = []string{"PREROUTING", "KUBE-SERVICES", "KUBE-SVC-AAAA", "KUBE-SEP-BBBB", "DOCKER", "KUBE-MARK-MASQ", "KUBE-POSTROUTING"}
	fake.Chains["filter"] = []string{"INPUT", "KUBE-FORWARD", "KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "DOCKER-USER"}
	for _, j := range jumps {
		_, _ = fake.EnsureRule(j.table, j.chain, j.rule...)
	}
	_, _ = fake.EnsureRule("nat", "PREROUTING", "-j", "DOCKER")
	if err := Cleanup(context.Background(), fake); err != nil {
		t.Fatal(err)
	}
	want := "*filter\n:KUBE-FORWARD - [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-EXTERNAL-SERVICES - [0:0]\n" +
		"-X KUBE-FORWARD\n-X KUBE-SERVICES\n-X KUBE-EXTERNAL-SERVICES\nCOMMIT\n" +
		"*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-AAAA - [0:0]\n:KUBE-SEP-BBBB - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n:KUBE-POSTROUTING - [0:0]\n" +
		"-X KUBE-SERVICES\n-X KUBE-SVC-AAAA\n-X KUBE-SEP-BBBB\n-X KUBE-MARK-MASQ\n-X KUBE-POSTROUTING\nCOMMIT\n"
	if diff := cmp.Diff(want, fake.Last()); diff != "" {
		t.Errorf("cleanup restore (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"nat/PREROUTING: -j DOCKER"}, fake.Rules); diff != "" {
		t.Errorf("rules left (-want +got):\n%s", diff)
	}
}

func TestRunnerBoundsFrequency(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runs := make(chan time.Time, 100)
	r := NewRunner(func(context.Context) error { runs <- time.Now(); return nil }, 200*time.Millisecond, time.Hour)
	go r.Run(ctx)
	first := <-runs
	for range 20 {
		r.Trigger()
	}
	second := <-runs
	if d := second.Sub(first); d < 190*time.Millisecond {
		t.Errorf("second run %v after the first, want at least the 200ms minimum", d)
	}
	select {
	case <-runs:
		t.Errorf("20 triggers made more than one run")
	case <-time.After(400 * time.Millisecond):
	}
}
