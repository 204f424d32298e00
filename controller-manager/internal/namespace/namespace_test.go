package namespace_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gantryhq/gantry/controller-manager/internal/controllertest"
	"github.com/gantryhq/gantry/controller-manager/internal/namespace"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func terminating(name string) *corev1.Namespace {
	return &corev1.Namespace{
		Metadata: &metav1.ObjectMeta{Name: name, DeletionTimestamp: timestamppb.New(controllertest.Epoch)},
		Spec:     &corev1.NamespaceSpec{Finalizers: []string{"kubernetes"}},
		Status:   &corev1.NamespaceStatus{Phase: "Terminating"},
	}
}

func TestSync(t *testing.T) {
	pod := controllertest.Pod("p", nil).Obj()
	pod.Metadata.Namespace = "gone"
	keep := controllertest.Pod("q", nil).Obj()
	h := controllertest.New(t, terminating("gone"), pod, keep,
		&corev1.Service{Metadata: &metav1.ObjectMeta{Name: "s", Namespace: "gone"}, Spec: &corev1.ServiceSpec{}})
	c := namespace.New(h.Ctx, time.Hour)
	h.Start()
	ctx := context.Background()
	if err := c.Sync(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	// Content deleted; the finalizer stays until a sync finds it gone.
	if diff := cmp.Diff([]string{"delete pods gone/p", "delete services gone/s"}, h.Writes()); diff != "" {
		t.Errorf("first sync writes (-want +got):\n%s", diff)
	}
	if err := c.Sync(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"update namespaces gone"}, h.Writes()); diff != "" {
		t.Errorf("second sync writes (-want +got):\n%s", diff)
	}
	// With its last finalizer gone, the API removes the namespace.
	if ns := h.Server.Object("namespaces", "", "gone"); ns != nil {
		t.Errorf("namespace still stored: %v", ns)
	}
	if h.Server.Object("pods", "default", "q") == nil {
		t.Error("a pod of another namespace was deleted")
	}
}

func TestActiveNamespaceUntouched(t *testing.T) {
	h := controllertest.New(t, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "live"}, Spec: &corev1.NamespaceSpec{Finalizers: []string{"kubernetes"}}},
		controllertest.Pod("p", nil).Obj())
	c := namespace.New(h.Ctx, time.Hour)
	h.Start()
	if err := c.Sync(context.Background(), "live"); err != nil {
		t.Fatal(err)
	}
	if w := h.Writes(); len(w) != 0 {
		t.Errorf("writes = %v, want none", w)
	}
}
