package service_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/clienttest"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/record/recordtest"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/controller/service"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/nodeutil"
	. "github.com/gantryhq/gantry/cloud-controller-manager/internal/testutil"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider/fake"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

type harness struct {
	t   *testing.T
	cs  *client.Clientset
	srv *clienttest.Server
	p   *fake.Provider
	rec *recordtest.Recorder
}

func newHarness(t *testing.T, p *fake.Provider, start bool, objs ...*corev1.Node) *harness {
	cs, srv := clienttest.New(t)
	for _, n := range objs {
		if err := srv.Add(n); err != nil {
			t.Fatal(err)
		}
	}
	h := &harness{t: t, cs: cs, srv: srv, p: p, rec: &recordtest.Recorder{}}
	if start {
		h.start()
	}
	return h
}

func (h *harness) start() {
	f := informer.NewFactory(h.cs)
	c := service.New(service.Config{Client: h.cs, Informers: f, LoadBalancer: h.p, Recorder: h.rec, ClusterName: "test"})
	Start(h.t, f, c.Run)
}

func (h *harness) svc(name string) *corev1.Service {
	o := h.srv.Object("services", "default", name)
	if o == nil {
		return nil
	}
	return o.(*corev1.Service)
}

func (h *harness) create(s *corev1.Service) *corev1.Service {
	h.t.Helper()
	out, err := h.cs.Services(s.GetMetadata().GetNamespace()).Create(context.Background(), s)
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// balancer returns the fake's balancer of service default/name.
func (h *harness) balancer(name string) (fake.Balancer, bool) {
	for _, b := range h.p.Balancers() {
		if b.Service == "default/"+name {
			return b, true
		}
	}
	return fake.Balancer{}, false
}

func ingress(s *corev1.Service) []string {
	var out []string
	for _, i := range s.GetStatus().GetLoadBalancer().GetIngress() {
		out = append(out, i.GetIp())
	}
	return out
}

func (h *harness) setNode(n *corev1.Node) {
	h.t.Helper()
	ctx := context.Background()
	cur, err := h.cs.Nodes().Get(ctx, n.GetMetadata().GetName())
	if err != nil {
		h.t.Fatal(err)
	}
	next := proto.Clone(n).(*corev1.Node)
	next.Metadata = cur.Metadata
	if next, err = h.cs.Nodes().Update(ctx, next); err != nil {
		h.t.Fatal(err)
	}
	next.Status = n.Status
	if _, err := h.cs.Nodes().UpdateStatus(ctx, next); err != nil {
		h.t.Fatal(err)
	}
}

func TestLoadBalancerLifecycle(t *testing.T) {
	p := fake.New()
	h := newHarness(t, p, true,
		MakeNode("n1").Address("InternalIP", "10.0.0.1").Obj(),
		MakeNode("n2").NotReady("False").Address("InternalIP", "10.0.0.2").Obj(),
		MakeNode("n3").Label(nodeutil.LabelExcludeFromLB, "").Address("InternalIP", "10.0.0.3").Obj(),
	)
	h.create(MakeService("default", "web", service.TypeLoadBalancer).Port(80, 30080).Port(443, 30443).Obj())
	h.create(MakeService("default", "plain", "ClusterIP").Port(80, 0).Obj())

	// Ensured: a balancer on the ready, not excluded nodes; status written;
	// finalizer added.
	Eventually(t, "ingress written", func() (bool, string) {
		s := h.svc("web")
		return len(ingress(s)) == 1, fmt.Sprint(s.GetStatus())
	})
	s := h.svc("web")
	if diff := cmp.Diff([]string{"192.0.2.1"}, ingress(s)); diff != "" {
		t.Errorf("ingress (-want +got):\n%s", diff)
	}
	if !slices.Contains(s.GetMetadata().GetFinalizers(), service.Finalizer) {
		t.Errorf("finalizers = %v, want %s", s.GetMetadata().GetFinalizers(), service.Finalizer)
	}
	b, ok := h.balancer("web")
	if !ok {
		t.Fatalf("no balancer for web: %v", p.Balancers())
	}
	want := fake.Balancer{Service: "default/web", Ports: []string{"443/TCP->30443", "80/TCP->30080"}, Nodes: []string{"n1"}, IP: "192.0.2.1"}
	if diff := cmp.Diff(want, b); diff != "" {
		t.Errorf("balancer (-want +got):\n%s", diff)
	}
	if _, ok := h.balancer("plain"); ok {
		t.Error("a ClusterIP service got a balancer")
	}
	if got := h.svc("plain").GetMetadata().GetFinalizers(); len(got) != 0 {
		t.Errorf("ClusterIP service got finalizers %v", got)
	}

	// A node turning Ready joins through UpdateLoadBalancer, not a full
	// ensure.
	ensures := p.CallCount("EnsureLoadBalancer")
	h.setNode(MakeNode("n2").Address("InternalIP", "10.0.0.2").Obj())
	Eventually(t, "n2 in the balancer", func() (bool, string) {
		b, _ := h.balancer("web")
		return slices.Equal(b.Nodes, []string{"n1", "n2"}), fmt.Sprint(b.Nodes)
	})
	if got := p.CallCount("EnsureLoadBalancer"); got != ensures {
		t.Errorf("EnsureLoadBalancer called %d more times for a node change", got-ensures)
	}
	if p.CallCount("UpdateLoadBalancer") == 0 {
		t.Error("UpdateLoadBalancer not called for a node change")
	}

	// A heartbeat changes nothing that matters: no provider call.
	p.ClearCalls()
	hb := MakeNode("n1").Address("InternalIP", "10.0.0.1").Obj()
	hb.Status.Conditions[0].LastHeartbeatTime = timestamppb.Now()
	h.setNode(hb)
	time.Sleep(200 * time.Millisecond)
	if calls := p.Calls(); len(calls) != 0 {
		t.Errorf("provider called after a heartbeat: %v", calls)
	}

	// A node leaving (deleted) leaves the balancer.
	if err := h.cs.Nodes().Delete(context.Background(), "n1", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	Eventually(t, "n1 out of the balancer", func() (bool, string) {
		b, _ := h.balancer("web")
		return slices.Equal(b.Nodes, []string{"n2"}), fmt.Sprint(b.Nodes)
	})

	// A port change is a full ensure.
	cur := h.svc("web")
	cur.Spec.Ports = cur.Spec.Ports[:1]
	if _, err := h.cs.Services("default").Update(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
	Eventually(t, "port removed", func() (bool, string) {
		b, _ := h.balancer("web")
		return len(b.Ports) == 1, fmt.Sprint(b.Ports)
	})

	// Changing type deletes the balancer, clears the status, drops the
	// finalizer.
	cur = h.svc("web")
	cur.Spec.Type = "ClusterIP"
	if _, err := h.cs.Services("default").Update(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
	Eventually(t, "cleaned up after type change", func() (bool, string) {
		s := h.svc("web")
		_, has := h.balancer("web")
		return !has && len(s.GetMetadata().GetFinalizers()) == 0 && s.GetStatus().GetLoadBalancer() == nil, fmt.Sprint(s)
	})

	events := strings.Join(h.rec.Events(), "\n")
	for _, reason := range []string{"EnsuringLoadBalancer", "EnsuredLoadBalancer", "UpdatedLoadBalancer", "DeletingLoadBalancer", "DeletedLoadBalancer"} {
		if !strings.Contains(events, reason) {
			t.Errorf("no %s event in:\n%s", reason, events)
		}
	}
}

func TestDeleteServiceRemovesBalancer(t *testing.T) {
	p := fake.New()
	h := newHarness(t, p, true, MakeNode("n1").Obj())
	h.create(MakeService("default", "web", service.TypeLoadBalancer).Port(80, 30080).Obj())
	Eventually(t, "balancer", func() (bool, string) { _, ok := h.balancer("web"); return ok, "" })
	Eventually(t, "finalizer", func() (bool, string) { return len(h.svc("web").GetMetadata().GetFinalizers()) == 1, "" })

	if err := h.cs.Services("default").Delete(context.Background(), "web", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	Eventually(t, "service and balancer gone", func() (bool, string) {
		_, has := h.balancer("web")
		return !has && h.svc("web") == nil, fmt.Sprint(p.Balancers())
	})
}

// TestFinalizerNeverLeaks: while the provider fails to delete, the service
// stays (with its finalizer); once it can, both go.
func TestFinalizerNeverLeaks(t *testing.T) {
	p := fake.New()
	h := newHarness(t, p, true, MakeNode("n1").Obj())
	h.create(MakeService("default", "web", service.TypeLoadBalancer).Port(80, 30080).Obj())
	Eventually(t, "ingress", func() (bool, string) { return len(ingress(h.svc("web"))) == 1, "" })

	p.SetError("EnsureLoadBalancerDeleted", errors.New("cloud API down"))
	if err := h.cs.Services("default").Delete(context.Background(), "web", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	Eventually(t, "failed deletes", func() (bool, string) {
		return p.CallCount("EnsureLoadBalancerDeleted") >= 3, fmt.Sprint(p.Calls())
	})
	s := h.svc("web")
	if s == nil || !slices.Contains(s.GetMetadata().GetFinalizers(), service.Finalizer) {
		t.Fatalf("service gone or finalizer removed while the balancer still exists: %v", s)
	}
	if _, ok := h.balancer("web"); !ok {
		t.Fatal("balancer gone though deletes failed")
	}
	if !strings.Contains(strings.Join(h.rec.Events(), "\n"), "DeleteLoadBalancerFailed") {
		t.Errorf("no DeleteLoadBalancerFailed event: %v", h.rec.Events())
	}
	p.SetError("EnsureLoadBalancerDeleted", nil)
	Eventually(t, "service and balancer gone", func() (bool, string) {
		_, has := h.balancer("web")
		return !has && h.svc("web") == nil, ""
	})
}

// TestCleansUpServiceDeletedWhileDown: a service deleted while the controller
// was not running is held by its finalizer; the controller deletes its
// balancer when it starts.
func TestCleansUpServiceDeletedWhileDown(t *testing.T) {
	p := fake.New()
	h := newHarness(t, p, false, MakeNode("n1").Obj())
	s := h.create(MakeService("default", "web", service.TypeLoadBalancer).Port(80, 30080).Finalizer(service.Finalizer).Obj())
	if _, err := p.EnsureLoadBalancer(context.Background(), "test", s, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.cs.Services("default").Delete(context.Background(), "web", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if h.svc("web") == nil {
		t.Fatal("service deleted at once despite its finalizer")
	}
	h.start()
	Eventually(t, "service and balancer gone", func() (bool, string) {
		_, has := h.balancer("web")
		return !has && h.svc("web") == nil, fmt.Sprint(p.Balancers())
	})
}

func TestEnsureErrorRetries(t *testing.T) {
	p := fake.New()
	p.SetError("EnsureLoadBalancer", errors.New("quota exceeded"))
	h := newHarness(t, p, true, MakeNode("n1").Obj())
	h.create(MakeService("default", "web", service.TypeLoadBalancer).Port(80, 30080).Obj())
	Eventually(t, "retries", func() (bool, string) { return p.CallCount("EnsureLoadBalancer") >= 3, fmt.Sprint(p.Calls()) })
	if got := ingress(h.svc("web")); len(got) != 0 {
		t.Fatalf("ingress %v written though ensure failed", got)
	}
	if !strings.Contains(strings.Join(h.rec.Events(), "\n"), "Warning SyncLoadBalancerFailed Error syncing load balancer: quota exceeded") {
		t.Errorf("events = %v", h.rec.Events())
	}
	p.SetError("EnsureLoadBalancer", nil)
	Eventually(t, "ingress", func() (bool, string) { return len(ingress(h.svc("web"))) == 1, "" })
}
