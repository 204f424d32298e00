package docker

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/gantryhq/gantry/cloud-controller-manager/internal/lb"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

var cmpProto = protocmp.Transform()

func TestConfigDedupesAndSkips(t *testing.T) {
	svc := &corev1.Service{Spec: &corev1.ServiceSpec{Ports: []*corev1.ServicePort{
		{Name: "http", Port: 80, NodePort: 30080},
		{Name: "dns", Protocol: "UDP", Port: 53, NodePort: 30053},
		{Name: "unallocated", Port: 81},
	}}}
	nodes := []*corev1.Node{node("a", "10.0.0.2"), node("b", "10.0.0.1"), node("c", "10.0.0.2"), node("d", "not-an-ip")}
	got := Config(svc, nodes)
	want := lb.Config{Listeners: []lb.Listener{{Name: "http", Port: 80, Protocol: "TCP", Backends: []string{"10.0.0.1:30080", "10.0.0.2:30080"}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
