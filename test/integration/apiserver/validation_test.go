package apiserver

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/codec"
	"github.com/gantryhq/gantry/client/scheme"
	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
	"github.com/gantryhq/gantry/test/integration/framework"
)

// TestValidation: bad input is refused with InvalidArgument (reason
// Invalid; BadRequest for an unknown field) naming the field, nothing is
// stored, and the server keeps serving.
func TestValidation(t *testing.T) {
	s := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, s)
	ctx := context.Background()
	pod := func(mut func(*corev1.Pod)) scheme.Object {
		p := kindCases()["pods"].obj().(*corev1.Pod)
		mut(p)
		return p
	}
	cases := []struct {
		name      string
		obj       scheme.Object
		wantField string
	}{
		{"bad name", pod(func(p *corev1.Pod) { p.Metadata.Name = "Web_1" }), "metadata.name"},
		{"missing name", pod(func(p *corev1.Pod) { p.Metadata.Name = "" }), "metadata.name"},
		{"bad label key", pod(func(p *corev1.Pod) { p.Metadata.Labels = map[string]string{"-bad": "x"} }), "metadata.labels"},
		{"bad label value", pod(func(p *corev1.Pod) { p.Metadata.Labels = map[string]string{"app": "has space"} }), "metadata.labels"},
		{"missing image", pod(func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" }), "spec.containers[0].image"},
		{"no containers", pod(func(p *corev1.Pod) { p.Spec.Containers = nil }), "spec.containers"},
		{"bad restartPolicy", pod(func(p *corev1.Pod) { p.Spec.RestartPolicy = "Sometimes" }), "spec.restartPolicy"},
		{"bad quantity", pod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources = &corev1.ResourceRequirements{Limits: map[string]*metav1.Quantity{"cpu": {Value: "lots"}}}
		}), "spec.containers[0].resources.limits[cpu]"},
		{"selector does not match template", &appsv1.Deployment{Metadata: meta("web"), Spec: &appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "other"}}, Template: podTemplate()}},
			"spec.template.metadata.labels"},
		{"missing selector", &appsv1.Deployment{Metadata: meta("web"), Spec: &appsv1.DeploymentSpec{Template: podTemplate()}}, "spec.selector"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := scheme.ForMessage(tc.obj)
			_, err := cs.Resource(res, "default").Create(ctx, tc.obj)
			if status.Code(err) != codes.InvalidArgument || !client.IsInvalid(err) {
				t.Fatalf("create: %v (reason %q), want InvalidArgument, reason Invalid", err, client.Reason(err))
			}
			if !strings.Contains(status.Convert(err).Message(), tc.wantField) {
				t.Fatalf("error %q does not name %s", status.Convert(err).Message(), tc.wantField)
			}
			list, err := cs.Resource(res, "default").List(ctx, client.ListOptions{})
			if err != nil {
				t.Fatalf("the server stopped serving: %v", err)
			}
			if len(list.Items) != 0 {
				t.Fatalf("%d objects stored after a refused create", len(list.Items))
			}
		})
	}

	t.Run("immutable change", func(t *testing.T) {
		p, err := cs.Pods("default").Create(ctx, kindCases()["pods"].obj().(*corev1.Pod))
		if err != nil {
			t.Fatal(err)
		}
		p.Spec.RestartPolicy = "Never"
		_, err = cs.Pods("default").Update(ctx, p)
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "spec") {
			t.Fatalf("update of an immutable pod field: %v, want InvalidArgument naming spec", err)
		}
		got, _ := cs.Pods("default").Get(ctx, p.Metadata.Name)
		if got.Spec.RestartPolicy != "Always" {
			t.Fatalf("refused update was stored: restartPolicy %q", got.Spec.RestartPolicy)
		}
	})

	t.Run("unknown field in a manifest", func(t *testing.T) {
		_, err := codec.DecodeManifests(strings.NewReader("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  foo: 1\n  containers: [{name: c, image: busybox}]\n"))
		if err == nil || !strings.Contains(err.Error(), `unknown field "spec.foo"`) {
			t.Fatalf("decode: %v, want unknown field \"spec.foo\"", err)
		}
	})

	t.Run("unknown protobuf field", func(t *testing.T) {
		p := kindCases()["pods"].obj().(*corev1.Pod)
		p.Metadata.Name = "unknown-field"
		b, _ := proto.Marshal(p)
		b = protowire.AppendTag(b, 999, protowire.VarintType)
		b = protowire.AppendVarint(b, 1)
		_, err := cs.ResourceService().Create(ctx, &apiv1.CreateRequest{Object: &anypb.Any{
			TypeUrl: "type.googleapis.com/gantry.core.v1.Pod", Value: b}})
		if status.Code(err) != codes.InvalidArgument || !client.IsBadRequest(err) || !strings.Contains(err.Error(), "unknown field") {
			t.Fatalf("create with an unknown field: %v (reason %q), want InvalidArgument, reason BadRequest, naming it", err, client.Reason(err))
		}
	})

	t.Run("request over 3 MiB", func(t *testing.T) {
		p := kindCases()["pods"].obj().(*corev1.Pod)
		p.Metadata.Name = "huge"
		p.Metadata.Annotations = map[string]string{"big": strings.Repeat("x", 3*1024*1024+10)}
		b, _ := proto.Marshal(p)
		_, err := cs.ResourceService().Create(ctx, &apiv1.CreateRequest{Object: &anypb.Any{
			TypeUrl: "type.googleapis.com/gantry.core.v1.Pod", Value: b}})
		if code := status.Code(err); code != codes.ResourceExhausted {
			t.Fatalf("oversized create: %v, want ResourceExhausted", err)
		}
		if _, err := cs.Namespaces().Get(ctx, "default"); err != nil {
			t.Fatalf("server not serving after an oversized request: %v", err)
		}
	})
}

// TestWatchSelectors: an object that starts matching a label selector is
// ADDED, one that stops matching is DELETED.
func TestWatchSelectors(t *testing.T) {
	s := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, s)
	ctx := context.Background()
	pods := cs.Pods("default")
	w, err := pods.Watch(ctx, client.WatchOptions{ResourceVersion: "0", LabelSelector: "tier=front"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	p, err := pods.Create(ctx, kindCases()["pods"].obj().(*corev1.Pod))
	if err != nil {
		t.Fatal(err)
	}
	p.Metadata.Labels["tier"] = "front"
	if p, err = pods.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	p.Metadata.Labels["tier"] = "back"
	if _, err = pods.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []client.EventType{client.Added, client.Deleted} {
		ev, err := w.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type != want {
			t.Fatalf("event %s, want %s", ev.Type, want)
		}
	}
}
