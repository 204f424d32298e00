package auth

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestRequestAttributes(t *testing.T) {
	const svc = "/gantry.api.v1.ResourceService/"
	pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "web", Labels: map[string]string{"app": "web"}}}
	deploy := &appsv1.Deployment{Metadata: &metav1.ObjectMeta{Name: "api", Namespace: "prod"}}
	node := &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n1", Namespace: "ignored"}}

	tests := []struct {
		method string
		req    any
		want   Attributes
	}{
		{"Get", &apiv1.GetRequest{Resource: "pods", Namespace: "default", Name: "web"},
			Attributes{Verb: "get", Resource: "pods", Namespace: "default", Name: "web"}},
		{"List", &apiv1.ListRequest{Resource: "deployments"},
			Attributes{Verb: "list", APIGroup: "apps", Resource: "deployments"}},
		{"Watch", &apiv1.WatchRequest{Resource: "leases", Namespace: "kube-node-lease"},
			Attributes{Verb: "watch", APIGroup: "coordination.k8s.io", Resource: "leases", Namespace: "kube-node-lease"}},
		{"Delete", &apiv1.DeleteRequest{Resource: "nodes", Name: "n1"},
			Attributes{Verb: "delete", Resource: "nodes", Name: "n1"}},
		{"Create", &apiv1.CreateRequest{Object: mustAny(t, pod)},
			Attributes{Verb: "create", Resource: "pods", Namespace: "default", Name: "web"}},
		{"Update", &apiv1.UpdateRequest{Object: mustAny(t, deploy)},
			Attributes{Verb: "update", APIGroup: "apps", Resource: "deployments", Namespace: "prod", Name: "api"}},
		{"UpdateStatus", &apiv1.UpdateStatusRequest{Object: mustAny(t, node)},
			Attributes{Verb: "update", Resource: "nodes", Subresource: "status", Name: "n1"}},
		{"Create", &apiv1.CreateRequest{},
			Attributes{Verb: "create"}},
		{"Bind", &apiv1.BindRequest{Namespace: "default", Name: "web", NodeName: "n1"},
			Attributes{Verb: "create", Resource: "pods", Subresource: "binding", Namespace: "default", Name: "web"}},
		{"Version", &apiv1.VersionRequest{},
			Attributes{Verb: "get"}},
		{"Frobnicate", nil,
			Attributes{Verb: "frobnicate"}},
	}
	for _, tc := range tests {
		t.Run(tc.method, func(t *testing.T) {
			tc.want.FullMethod = svc + tc.method
			got := RequestAttributes(svc+tc.method, tc.req)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("RequestAttributes (-want +got):\n%s", diff)
			}
		})
	}
}
