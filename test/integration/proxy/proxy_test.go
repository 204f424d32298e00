// Package proxy holds integration tests of kube-proxy: the real daemon
// (in-process) against a real apiserver, writing real iptables rules in a
// network namespace the test makes.
package proxy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/kube-proxy/app"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
	"github.com/gantryhq/gantry/test/integration/framework"
)

func netns(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("kube-proxy integration tests need root (ip netns add)")
	}
	name := "gtpi" + strconv.Itoa(os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	return name
}

func save(t *testing.T, ns, table string) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, "iptables-save", "-t", table).CombinedOutput()
	if err != nil {
		t.Fatalf("iptables-save: %v: %s", err, out)
	}
	return string(out)
}

// eventually polls until cond holds on the nat table, or fails after 20s.
func eventually(t *testing.T, ns, what string, cond func(nat string) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		nat := save(t, ns, "nat")
		if cond(nat) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s; nat table:\n%s", what, nat)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestKubeProxy: Services and Endpoints created through the apiserver
// (cluster IP and node port allocated there) become rules; endpoint and
// service removals remove them; /healthz and /metrics serve; --cleanup
// leaves nothing.
func TestKubeProxy(t *testing.T) {
	ns := netns(t)
	srv := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	opts := app.NewOptions()
	opts.Kubeconfig = srv.ConfigPath
	opts.HostnameOverride = "node-1"
	opts.HealthzBindAddress = "127.0.0.1:0"
	opts.MetricsBindAddress = "127.0.0.1:0"
	opts.MinSyncPeriod = 50 * time.Millisecond
	opts.ClusterCIDR = "10.244.0.0/16"
	if errs := opts.Validate(); len(errs) > 0 {
		t.Fatal(errs)
	}
	addrs := make(chan [2]net.Addr, 1)
	cfg := &app.Config{Options: opts, Logger: zaptest.NewLogger(t), Hostname: "node-1", NetNS: ns,
		Ready: func(h, m net.Addr) { addrs <- [2]net.Addr{h, m} }}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx, cfg.Complete()) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("kube-proxy: %v", err)
		}
	}()

	svc, err := cs.Services("default").Create(ctx, &corev1.Service{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: &corev1.ServiceSpec{Type: "NodePort", Selector: map[string]string{"app": "web"},
			Ports: []*corev1.ServicePort{{Name: "http", Port: 80}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ip, nodePort := svc.Spec.ClusterIp, svc.Spec.Ports[0].NodePort
	ep := &corev1.Endpoints{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Subsets: []*corev1.EndpointSubset{{
			Addresses: []*corev1.EndpointAddress{{Ip: "10.244.0.11"}, {Ip: "10.244.0.12"}},
			Ports:     []*corev1.EndpointPort{{Name: "http", Port: 8080}},
		}},
	}
	if ep, err = cs.Endpoints("default").Create(ctx, ep); err != nil {
		t.Fatal(err)
	}
	eventually(t, ns, "service rules", func(nat string) bool {
		return strings.Contains(nat, "-d "+ip+"/32 ") &&
			strings.Contains(nat, fmt.Sprintf("--dport %d ", nodePort)) &&
			strings.Contains(nat, "--to-destination 10.244.0.11:8080") &&
			strings.Contains(nat, "--to-destination 10.244.0.12:8080")
	})

	ep.Subsets[0].Addresses = ep.Subsets[0].Addresses[:1]
	if _, err := cs.Endpoints("default").Update(ctx, ep); err != nil {
		t.Fatal(err)
	}
	eventually(t, ns, "removed endpoint's rules gone", func(nat string) bool {
		return !strings.Contains(nat, "10.244.0.12") && strings.Contains(nat, "--to-destination 10.244.0.11:8080")
	})

	var a [2]net.Addr
	select {
	case a = <-addrs:
	case <-ctx.Done():
		t.Fatal("kube-proxy never listened")
	}
	if code, body := httpGet(t, "http://"+a[0].String()+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d %s", code, body)
	}
	if _, body := httpGet(t, "http://"+a[1].String()+"/metrics"); !strings.Contains(body, "kubeproxy_sync_proxy_rules_duration_seconds_count") ||
		!strings.Contains(body, `kubeproxy_sync_proxy_rules_iptables_total{table="nat"}`) {
		t.Errorf("/metrics lacks the sync histogram or rule counts:\n%s", body)
	}

	if err := cs.Services("default").Delete(ctx, "web", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, ns, "deleted service's chains gone", func(nat string) bool {
		return !strings.Contains(nat, "KUBE-SVC-") && !strings.Contains(nat, "KUBE-SEP-") && !strings.Contains(nat, ip)
	})
	stop()
	if err := <-done; err != nil {
		t.Fatalf("kube-proxy: %v", err)
	}
	done <- nil

	// --cleanup, as the binary would run it.
	opts.Cleanup = true
	if err := app.Run(ctx, (&app.Config{Options: opts, Logger: zaptest.NewLogger(t), NetNS: ns}).Complete()); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
	for _, table := range []string{"nat", "filter"} {
		if out := save(t, ns, table); strings.Contains(out, "KUBE-") {
			t.Errorf("%s table after --cleanup:\n%s", table, out)
		}
	}
}
