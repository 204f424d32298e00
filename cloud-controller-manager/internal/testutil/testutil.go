package testutil

import (
	"context"
	"testing"
	"time"

	"github.com/gantryhq/gantry/client/informer"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// NodeBuilder builds a node.
type NodeBuilder struct{ n *corev1.Node }

// MakeNode starts a node named name, Ready, with no taints.
func MakeNode(name string) *NodeBuilder {
	return &NodeBuilder{n: &corev1.Node{
		Metadata: &metav1.ObjectMeta{Name: name},
		Spec:     &corev1.NodeSpec{},
		Status:   &corev1.NodeStatus{Conditions: []*corev1.NodeCondition{{Type: "Ready", Status: "True"}}},
	}}
}

// NotReady sets the Ready condition to status ("False", "Unknown").
func (b *NodeBuilder) NotReady(status string) *NodeBuilder {
	b.n.Status.Conditions[0].Status = status
	return b
}

// Taint adds a NoSchedule taint.
func (b *NodeBuilder) Taint(key string) *NodeBuilder {
	b.n.Spec.Taints = append(b.n.Spec.Taints, &corev1.Taint{Key: key, Effect: "NoSchedule"})
	return b
}

// Address adds an address.
func (b *NodeBuilder) Address(typ, addr string) *NodeBuilder {
	b.n.Status.Addresses = append(b.n.Status.Addresses, &corev1.NodeAddress{Type: typ, Address: addr})
	return b
}

// Label sets a label.
func (b *NodeBuilder) Label(k, v string) *NodeBuilder {
	if b.n.Metadata.Labels == nil {
		b.n.Metadata.Labels = map[string]string{}
	}
	b.n.Metadata.Labels[k] = v
	return b
}

// PodCIDR sets spec.podCIDR.
func (b *NodeBuilder) PodCIDR(cidr string) *NodeBuilder {
	b.n.Spec.PodCidr = cidr
	return b
}

// Obj returns the node.
func (b *NodeBuilder) Obj() *corev1.Node { return b.n }

// ServiceBuilder builds a service.
type ServiceBuilder struct{ s *corev1.Service }

// MakeService starts a service ns/name of type t ("LoadBalancer").
func MakeService(ns, name, t string) *ServiceBuilder {
	return &ServiceBuilder{s: &corev1.Service{
		Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:     &corev1.ServiceSpec{Type: t, Selector: map[string]string{"app": name}},
	}}
}

// Port adds a TCP port with its node port.
func (b *ServiceBuilder) Port(port, nodePort int32) *ServiceBuilder {
	b.s.Spec.Ports = append(b.s.Spec.Ports, &corev1.ServicePort{Protocol: "TCP", Port: port, NodePort: nodePort})
	return b
}

// Finalizer adds a finalizer.
func (b *ServiceBuilder) Finalizer(f string) *ServiceBuilder {
	b.s.Metadata.Finalizers = append(b.s.Metadata.Finalizers, f)
	return b
}

// Ingress sets status.loadBalancer.ingress to ips.
func (b *ServiceBuilder) Ingress(ips ...string) *ServiceBuilder {
	lb := &corev1.LoadBalancerStatus{}
	for _, ip := range ips {
		lb.Ingress = append(lb.Ingress, &corev1.LoadBalancerIngress{Ip: ip})
	}
	b.s.Status = &corev1.ServiceStatus{LoadBalancer: lb}
	return b
}

// Obj returns the service.
func (b *ServiceBuilder) Obj() *corev1.Service { return b.s }

// Eventually polls cond every 10ms until it holds, failing the test after
// 10 seconds with what and the last message cond returned.
func Eventually(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var msg string
	for time.Now().Before(deadline) {
		var ok bool
		if ok, msg = cond(); ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s: %s", what, msg)
}

// Start starts f's informers and run in the background, and stops them when
// the test ends (waiting for both).
func Start(t testing.TB, f *informer.Factory, run func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	f.Start(ctx)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controller: %v", err)
		}
		f.Shutdown()
	})
}
