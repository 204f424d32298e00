package endpoints_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/controller-manager/internal/controllertest"
	"github.com/gantryhq/gantry/controller-manager/internal/endpoints"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

var web = map[string]string{"app": "web"}

func svc() *corev1.Service {
	return &corev1.Service{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"team": "a"}},
		Spec: &corev1.ServiceSpec{Selector: web, Ports: []*corev1.ServicePort{
			{Name: "http", Port: 80, Protocol: "TCP", TargetPort: &metav1.IntOrString{Value: &metav1.IntOrString_StrVal{StrVal: "web"}}},
			{Name: "metrics", Port: 9000, Protocol: "TCP", TargetPort: &metav1.IntOrString{Value: &metav1.IntOrString_IntVal{IntVal: 9090}}},
		}},
	}
}

func named(b *controllertest.PodBuilder, port int32) *corev1.Pod {
	p := b.Obj()
	p.Spec.Containers[0].Ports = []*corev1.ContainerPort{{Name: "web", ContainerPort: port}}
	return p
}

func addr(ip, pod, node string) *corev1.EndpointAddress {
	return &corev1.EndpointAddress{Ip: ip, NodeName: ptr.To(node), TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: pod, Uid: "uid-" + pod}}
}

func TestSync(t *testing.T) {
	ready := controllertest.Epoch.Add(-time.Minute)
	ports8080 := []*corev1.EndpointPort{{Name: "http", Port: 8080, Protocol: "TCP"}, {Name: "metrics", Port: 9090, Protocol: "TCP"}}
	tests := []struct {
		name       string
		objs       []scheme.Object
		want       []*corev1.EndpointSubset
		wantWrites []string
	}{
		{
			name: "ready and not ready pods, named target port resolved per pod",
			objs: []scheme.Object{svc(),
				named(controllertest.Pod("a", web).Running(ready).IP("10.0.0.2"), 8080),
				named(controllertest.Pod("b", web).Running(time.Time{}).IP("10.0.0.3"), 8080),
				named(controllertest.Pod("c", web).Running(ready).IP("10.0.0.4"), 8081),
				named(controllertest.Pod("no-ip", web).Running(ready), 8080),
				named(controllertest.Pod("done", web).Running(ready).IP("10.0.0.9").Phase("Succeeded"), 8080),
				named(controllertest.Pod("other", map[string]string{"app": "x"}).Running(ready).IP("10.0.0.8"), 8080),
			},
			want: []*corev1.EndpointSubset{
				{Addresses: []*corev1.EndpointAddress{addr("10.0.0.2", "a", "node-1")}, NotReadyAddresses: []*corev1.EndpointAddress{addr("10.0.0.3", "b", "node-1")}, Ports: ports8080},
				{Addresses: []*corev1.EndpointAddress{addr("10.0.0.4", "c", "node-1")}, Ports: []*corev1.EndpointPort{{Name: "http", Port: 8081, Protocol: "TCP"}, {Name: "metrics", Port: 9090, Protocol: "TCP"}}},
			},
			wantWrites: []string{"create endpoints default/web"},
		},
		{
			name: "pod without the named port only gets the numeric one",
			objs: []scheme.Object{svc(), controllertest.Pod("a", web).Running(ready).IP("10.0.0.2").Obj()},
			want: []*corev1.EndpointSubset{
				{Addresses: []*corev1.EndpointAddress{addr("10.0.0.2", "a", "node-1")}, Ports: []*corev1.EndpointPort{{Name: "metrics", Port: 9090, Protocol: "TCP"}}},
			},
			wantWrites: []string{"create endpoints default/web"},
		},
		{
			name: "up to date endpoints are not written",
			objs: []scheme.Object{svc(),
				&corev1.Endpoints{Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"team": "a"}}},
			},
			want:       nil,
			wantWrites: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := controllertest.New(t, tt.objs...)
			c := endpoints.New(h.Ctx)
			h.Start()
			if err := c.Sync(context.Background(), "default/web"); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantWrites, h.Writes()); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
			ep, _ := h.Server.Object("endpoints", "default", "web").(*corev1.Endpoints)
			if diff := cmp.Diff(tt.want, ep.GetSubsets(), protocmp.Transform()); diff != "" {
				t.Errorf("subsets (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServiceDeletedRemovesEndpoints(t *testing.T) {
	h := controllertest.New(t, &corev1.Endpoints{Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default"}})
	c := endpoints.New(h.Ctx)
	h.Start()
	if err := c.Sync(context.Background(), "default/web"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"delete endpoints default/web"}, h.Writes()); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
}
