package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gantryhq/gantry/client/clienttest"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/nodeutil"
	. "github.com/gantryhq/gantry/cloud-controller-manager/internal/testutil"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider/fake"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

func TestEnabledControllers(t *testing.T) {
	tests := []struct {
		spec    []string
		want    []string
		wantErr bool
	}{
		{spec: []string{"*"}, want: []string{"cloud-node", "cloud-node-lifecycle", "service", "route"}},
		{spec: []string{"*", "-route"}, want: []string{"cloud-node", "cloud-node-lifecycle", "service"}},
		{spec: []string{"service"}, want: []string{"service"}},
		{spec: []string{"-service"}, want: nil},
		{spec: []string{"nope"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.spec), func(t *testing.T) {
			got, err := EnabledControllers(tt.spec)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	reg, _ := provider.NewRegistry(fake.Registration(fake.New()))
	o := NewOptions(reg)
	if errs := o.Validate(); len(errs) != 1 {
		t.Errorf("no --cloud-provider: errors = %v, want one", errs)
	}
	o.CloudProvider = "fake"
	if errs := o.Validate(); len(errs) != 0 {
		t.Errorf("valid options: errors = %v", errs)
	}
	o.CloudProvider, o.SecurePort, o.Controllers = "aws", 70000, []string{"bogus"}
	if errs := o.Validate(); len(errs) != 3 {
		t.Errorf("errors = %v, want 3", errs)
	}
}

// TestRun wires everything: leader election, informers, controllers and
// health over the in-memory apiserver with the fake provider.
func TestRun(t *testing.T) {
	p := fake.New()
	p.HasRoutes = false
	p.SetInstance("n1", fake.Instance{Metadata: provider.InstanceMetadata{Zone: "z1",
		Addresses: []*corev1.NodeAddress{{Type: "InternalIP", Address: "10.0.0.1"}}}})
	cs, srv := clienttest.New(t,
		MakeNode("n1").Taint(nodeutil.TaintUninitialized).Obj(),
		MakeService("default", "web", "LoadBalancer").Port(80, 30080).Obj(),
	)
	reg, _ := provider.NewRegistry(fake.Registration(p))
	o := NewOptions(reg)
	o.CloudProvider, o.SecurePort, o.BindAddress = "fake", 0, "127.0.0.1"
	if errs := o.Validate(); len(errs) > 0 {
		t.Fatal(errs)
	}
	ctrls, _ := EnabledControllers(o.Controllers)
	cfg := &Config{Options: *o, Client: cs, Provider: p, Controllers: ctrls, Identity: "test"}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg.Complete(), func(a net.Addr) { addrc <- a }) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	addr := <-addrc

	Eventually(t, "node initialized and service given an address", func() (bool, string) {
		n := srv.Object("nodes", "", "n1").(*corev1.Node)
		s := srv.Object("services", "default", "web").(*corev1.Service)
		return !nodeutil.HasTaint(n, nodeutil.TaintUninitialized) && len(s.GetStatus().GetLoadBalancer().GetIngress()) == 1,
			fmt.Sprint(n, s)
	})
	if srv.Object("leases", "kube-system", "cloud-controller-manager") == nil {
		t.Error("no leader lease")
	}
	Eventually(t, "readyz ok", func() (bool, string) {
		resp, err := http.Get("http://" + addr.String() + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})
}

// TestLeaderElection: of two replicas only the leader acts; when it stops,
// the other takes over.
func TestLeaderElection(t *testing.T) {
	cs, srv := clienttest.New(t, MakeNode("n1").Obj(), MakeService("default", "web", "LoadBalancer").Port(80, 30080).Obj())
	type replica struct {
		p      *fake.Provider
		cancel context.CancelFunc
		done   chan error
	}
	start := func(id string) *replica {
		p := fake.New()
		p.HasRoutes = false
		reg, _ := provider.NewRegistry(fake.Registration(p))
		o := NewOptions(reg)
		o.CloudProvider, o.SecurePort, o.BindAddress = "fake", 0, "127.0.0.1"
		o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = 3*time.Second, 2*time.Second, 200*time.Millisecond
		ctrls, _ := EnabledControllers(o.Controllers)
		cfg := &Config{Options: *o, Client: cs, Provider: p, Controllers: ctrls, Identity: id}
		ctx, cancel := context.WithCancel(context.Background())
		r := &replica{p: p, cancel: cancel, done: make(chan error, 1)}
		go func() { r.done <- Run(ctx, cfg.Complete(), nil) }()
		return r
	}
	a := start("a")
	Eventually(t, "a leads and ensures the load balancer", func() (bool, string) {
		return a.p.CallCount("EnsureLoadBalancer") > 0, fmt.Sprint(a.p.Calls())
	})
	b := start("b")
	defer func() { b.cancel(); <-b.done }()
	time.Sleep(time.Second)
	if calls := b.p.Calls(); len(calls) != 0 {
		t.Fatalf("standby replica acted: %v", calls)
	}
	a.cancel() // releases the lease
	if err := <-a.done; err != nil {
		t.Fatalf("a: %v", err)
	}
	// b takes over and, its provider knowing no balancer, ensures one.
	Eventually(t, "b takes over", func() (bool, string) {
		return b.p.CallCount("EnsureLoadBalancer") > 0, fmt.Sprint(b.p.Calls())
	})
	lease, _ := srv.Object("leases", "kube-system", "cloud-controller-manager").(*coordinationv1.Lease)
	if got := lease.GetSpec().GetHolderIdentity(); got != "b" {
		t.Errorf("lease holder %q, want b", got)
	}
}
