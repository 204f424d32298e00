package devcluster

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

var (
	start = time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)
	fresh = timestamppb.New(start.Add(3 * time.Second))
	stale = timestamppb.New(start.Add(-time.Minute))
)

// node makes a Node with conditions given as type, status pairs, each
// reported at fresh.
func node(name string, conds ...string) *corev1.Node {
	n := &corev1.Node{Metadata: &metav1.ObjectMeta{Name: name}, Status: &corev1.NodeStatus{}}
	for i := 0; i+1 < len(conds); i += 2 {
		n.Status.Conditions = append(n.Status.Conditions, &corev1.NodeCondition{Type: conds[i], Status: conds[i+1], LastHeartbeatTime: fresh})
	}
	return n
}

func staleNode(name string) *corev1.Node {
	n := node(name, "Ready", "True")
	n.Status.Conditions[0].LastHeartbeatTime = stale
	return n
}

func TestNodesReady(t *testing.T) {
	for _, tc := range []struct {
		name          string
		nodes         []*corev1.Node
		want          int
		ok            bool
		ready, others []string
	}{
		{"none registered", nil, 2, false, nil, nil},
		{"all ready", []*corev1.Node{node("gantry-node-2", "Ready", "True"), node("gantry-node-1", "MemoryPressure", "False", "Ready", "True")}, 2, true,
			[]string{"gantry-node-1", "gantry-node-2"}, nil},
		{"one not ready", []*corev1.Node{node("a", "Ready", "True"), node("b", "Ready", "False")}, 2, false, []string{"a"}, []string{"b"}},
		{"unknown and no condition", []*corev1.Node{node("a", "Ready", "Unknown"), node("b")}, 1, false, nil, []string{"a", "b"}},
		{"more than wanted", []*corev1.Node{node("a", "Ready", "True"), node("b", "Ready", "True"), node("c", "Ready", "True")}, 2, true,
			[]string{"a", "b", "c"}, nil},
		{"want zero is never ok", nil, 0, false, nil, nil},
		{"ready before the restart does not count", []*corev1.Node{staleNode("a"), node("b", "Ready", "True")}, 2, false,
			[]string{"b"}, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, ready, others := NodesReady(tc.nodes, tc.want, start)
			if ok != tc.ok {
				t.Errorf("ok = %v, want %v", ok, tc.ok)
			}
			if diff := cmp.Diff(tc.ready, ready); diff != "" {
				t.Errorf("ready (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.others, others); diff != "" {
				t.Errorf("not ready (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeploymentAvailable(t *testing.T) {
	three := int32(3)
	d := func(gen, observed int64, updated, available int32) *appsv1.Deployment {
		return &appsv1.Deployment{
			Metadata: &metav1.ObjectMeta{Name: "demo", Generation: gen},
			Spec:     &appsv1.DeploymentSpec{Replicas: &three},
			Status:   &appsv1.DeploymentStatus{ObservedGeneration: observed, UpdatedReplicas: updated, AvailableReplicas: available},
		}
	}
	for _, tc := range []struct {
		name string
		d    *appsv1.Deployment
		want bool
	}{
		{"fresh", d(1, 0, 0, 0), false},
		{"rolled out", d(1, 1, 3, 3), true},
		{"old generation observed", d(2, 1, 3, 3), false},
		{"two of three available", d(1, 1, 3, 2), false},
		{"available but not updated", d(1, 1, 1, 3), false},
		{"replicas unset means one", &appsv1.Deployment{Metadata: &metav1.ObjectMeta{Generation: 1},
			Status: &appsv1.DeploymentStatus{ObservedGeneration: 1, UpdatedReplicas: 1, AvailableReplicas: 1}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, progress := DeploymentAvailable(tc.d); got != tc.want {
				t.Errorf("DeploymentAvailable = %v (%s), want %v", got, progress, tc.want)
			}
		})
	}
}

func TestLoadBalancerAddresses(t *testing.T) {
	svc := &corev1.Service{
		Spec: &corev1.ServiceSpec{Ports: []*corev1.ServicePort{{Port: 80}, {Port: 443}}},
		Status: &corev1.ServiceStatus{LoadBalancer: &corev1.LoadBalancerStatus{Ingress: []*corev1.LoadBalancerIngress{
			{Ip: "10.244.255.9"}, {Hostname: "lb.local"}, {},
		}}},
	}
	want := []string{"10.244.255.9:80", "10.244.255.9:443", "lb.local:80", "lb.local:443"}
	if diff := cmp.Diff(want, LoadBalancerAddresses(svc)); diff != "" {
		t.Errorf("LoadBalancerAddresses (-want +got):\n%s", diff)
	}
	if got := LoadBalancerAddresses(&corev1.Service{}); got != nil {
		t.Errorf("no status: got %v, want none", got)
	}
}

func TestNodeReadyWithoutSince(t *testing.T) {
	if !NodeReady(staleNode("a"), time.Time{}) {
		t.Error("a stale Ready node is not ready when since is zero")
	}
}
