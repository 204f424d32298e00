// Package ccm runs the cloud-controller-manager (app.Run, with the fake
// provider) against a real apiserver, so that the controllers' writes meet
// the real strategies: finalizers, status updates, type changes, deletion.
package ccm

import (
	"context"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/cloud-controller-manager/app"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider/fake"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
	"github.com/gantryhq/gantry/test/integration/framework"
)

const finalizer = "service.kubernetes.io/load-balancer-cleanup"

func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ok, s := cond()
		if ok {
			return
		}
		last = s
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last: %s", what, last)
}

func TestControllersAgainstAPIServer(t *testing.T) {
	api := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, api)
	ctx := context.Background()

	p := fake.New()
	p.HasRoutes = false
	for _, n := range []string{"n1", "n2"} {
		p.SetInstance(n, fake.Instance{Metadata: provider.InstanceMetadata{InstanceType: "small", Zone: "z1",
			Addresses: []*corev1.NodeAddress{{Type: "InternalIP", Address: "10.1.0." + n[1:]}}}})
		node, err := cs.Nodes().Create(ctx, &corev1.Node{
			Metadata: &metav1.ObjectMeta{Name: n},
			Spec:     &corev1.NodeSpec{Taints: []*corev1.Taint{{Key: "node.cloudprovider.kubernetes.io/uninitialized", Value: "true", Effect: "NoSchedule"}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		node.Status = &corev1.NodeStatus{Conditions: []*corev1.NodeCondition{{Type: "Ready", Status: "True"}}}
		if _, err := cs.Nodes().UpdateStatus(ctx, node); err != nil {
			t.Fatal(err)
		}
	}

	reg, err := provider.NewRegistry(fake.Registration(p))
	if err != nil {
		t.Fatal(err)
	}
	o := app.NewOptions(reg)
	o.CloudProvider, o.SecurePort, o.BindAddress, o.NodeMonitorPeriod = "fake", 0, "127.0.0.1", 200*time.Millisecond
	if errs := o.Validate(); len(errs) > 0 {
		t.Fatal(errs)
	}
	ctrls, _ := app.EnabledControllers(o.Controllers)
	cfg := &app.Config{Options: *o, Client: cs, Provider: p, Controllers: ctrls, Identity: "it"}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- app.Run(rctx, cfg.Complete(), func(net.Addr) {}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	// Nodes initialized.
	for _, n := range []string{"n1", "n2"} {
		waitFor(t, n+" initialized", func() (bool, string) {
			node, err := cs.Nodes().Get(ctx, n)
			if err != nil {
				return false, err.Error()
			}
			ok := len(node.GetSpec().GetTaints()) == 0 && node.GetSpec().GetProviderId() == "fake://"+n &&
				node.GetMetadata().GetLabels()["topology.kubernetes.io/zone"] == "z1" &&
				len(node.GetStatus().GetAddresses()) == 1 && node.GetStatus().GetAddresses()[0].GetAddress() == "10.1.0."+n[1:]
			return ok, fmt.Sprint(node)
		})
	}

	// A LoadBalancer service: finalizer, ingress, a balancer on both nodes.
	svc := &corev1.Service{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: &corev1.ServiceSpec{Type: "LoadBalancer", Selector: map[string]string{"app": "web"},
			Ports: []*corev1.ServicePort{{Name: "http", Port: 80}}},
	}
	if _, err := cs.Services("default").Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	get := func() *corev1.Service {
		s, err := cs.Services("default").Get(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	waitFor(t, "ingress and finalizer", func() (bool, string) {
		s := get()
		return len(s.GetStatus().GetLoadBalancer().GetIngress()) == 1 && slices.Contains(s.GetMetadata().GetFinalizers(), finalizer), fmt.Sprint(s)
	})
	if len(p.Balancers()) != 1 {
		t.Fatalf("balancers: %v", p.Balancers())
	}
	for _, b := range p.Balancers() {
		if !slices.Equal(b.Nodes, []string{"n1", "n2"}) || len(b.Ports) != 1 {
			t.Errorf("balancer %+v: want both nodes, one port (with its allocated node port)", b)
		}
	}

	// Type change: balancer deleted, status cleared, finalizer removed.
	s := get()
	s.Spec.Type = "ClusterIP"
	for _, sp := range s.Spec.Ports {
		sp.NodePort = 0
	}
	if _, err := cs.Services("default").Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "clean-up after type change", func() (bool, string) {
		s := get()
		return len(p.Balancers()) == 0 && len(s.GetMetadata().GetFinalizers()) == 0 && len(s.GetStatus().GetLoadBalancer().GetIngress()) == 0, fmt.Sprint(s, p.Balancers())
	})

	// Back to LoadBalancer, then deleted: the finalizer holds it until the
	// balancer is gone.
	s = get()
	s.Spec.Type = "LoadBalancer"
	if _, err := cs.Services("default").Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "balancer again", func() (bool, string) { return len(p.Balancers()) == 1, "" })
	waitFor(t, "finalizer again", func() (bool, string) {
		return slices.Contains(get().GetMetadata().GetFinalizers(), finalizer), ""
	})
	if err := cs.Services("default").Delete(ctx, "web", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "service and balancer gone", func() (bool, string) {
		_, err := cs.Services("default").Get(ctx, "web")
		return client.IsNotFound(err) && len(p.Balancers()) == 0, fmt.Sprint(err, p.Balancers())
	})

	// An instance vanishes from a NotReady node: the node is deleted.
	p.DeleteInstance("n2")
	n2, err := cs.Nodes().Get(ctx, "n2")
	if err != nil {
		t.Fatal(err)
	}
	n2.Status.Conditions = []*corev1.NodeCondition{{Type: "Ready", Status: "Unknown"}}
	if _, err := cs.Nodes().UpdateStatus(ctx, n2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "n2 deleted", func() (bool, string) {
		_, err := cs.Nodes().Get(ctx, "n2")
		return client.IsNotFound(err), fmt.Sprint(err)
	})
	if _, err := cs.Nodes().Get(ctx, "n1"); err != nil {
		t.Errorf("n1: %v", err)
	}
}
