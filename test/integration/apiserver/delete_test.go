package apiserver

import (
	"context"
	"testing"
	"time"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
	"github.com/gantryhq/gantry/test/integration/framework"
)

func TestGracefulPodDeletion(t *testing.T) {
	s := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, s)
	ctx := context.Background()
	pods := cs.Pods("default")

	// An unbound pod goes at once.
	if _, err := pods.Create(ctx, kindCases()["pods"].obj().(*corev1.Pod)); err != nil {
		t.Fatal(err)
	}
	if _, deleted, err := pods.DeleteObject(ctx, "web-1", client.DeleteOptions{}); err != nil || !deleted {
		t.Fatalf("delete unbound pod: deleted=%v err=%v; want deleted at once", deleted, err)
	}

	// A bound pod is marked, with its grace period, until deleted with 0.
	p := kindCases()["pods"].obj().(*corev1.Pod)
	p.Spec.TerminationGracePeriodSeconds = ptr(int64(45))
	if _, err := pods.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Bind(ctx, "default", "web-1", "node-1"); err != nil {
		t.Fatalf("bind: %v", err)
	}
	if _, err := cs.Bind(ctx, "default", "web-1", "node-2"); !client.IsFailedPrecondition(err) {
		t.Fatalf("second bind: want FailedPrecondition, got %v", err)
	}
	before := time.Now()
	obj, deleted, err := pods.DeleteObject(ctx, "web-1", client.DeleteOptions{})
	if err != nil || deleted {
		t.Fatalf("delete bound pod: deleted=%v err=%v; want marked only", deleted, err)
	}
	m := obj.GetMetadata()
	if m.DeletionTimestamp == nil || m.GetDeletionGracePeriodSeconds() != 45 {
		t.Fatalf("deletionTimestamp %v grace %d; want set and 45", m.DeletionTimestamp, m.GetDeletionGracePeriodSeconds())
	}
	if d := m.DeletionTimestamp.AsTime().Sub(before); d < 43*time.Second || d > 47*time.Second {
		t.Fatalf("deletionTimestamp is %v after the delete, want about 45s", d)
	}
	if _, err := cs.Bind(ctx, "default", "web-1", "node-2"); err == nil {
		t.Fatalf("bind of a terminating pod succeeded")
	}
	// The kubelet's final delete.
	if _, deleted, err := pods.DeleteObject(ctx, "web-1", client.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}); err != nil || !deleted {
		t.Fatalf("final delete: deleted=%v err=%v", deleted, err)
	}
	if _, err := pods.Get(ctx, "web-1"); !client.IsNotFound(err) {
		t.Fatalf("after final delete: %v, want NotFound", err)
	}
}

func TestFinalizersHoldDeletion(t *testing.T) {
	s := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, s)
	ctx := context.Background()
	svcs := cs.Services("default")
	svc := kindCases()["services"].obj().(*corev1.Service)
	svc.Metadata.Finalizers = []string{"example.com/cleanup"}
	if _, err := svcs.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	obj, deleted, err := svcs.DeleteObject(ctx, "web", client.DeleteOptions{})
	if err != nil || deleted || obj.Metadata.DeletionTimestamp == nil {
		t.Fatalf("delete: deleted=%v err=%v ts=%v; want held with deletionTimestamp", deleted, err, obj.GetMetadata().GetDeletionTimestamp())
	}
	got, err := svcs.Get(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	got.Metadata.Finalizers = append(got.Metadata.Finalizers, "example.com/another")
	if _, err := svcs.Update(ctx, got); !client.IsInvalid(err) {
		t.Fatalf("adding a finalizer while deleting: want Invalid, got %v", err)
	}
	got.Metadata.Finalizers = nil
	if _, err := svcs.Update(ctx, got); err != nil {
		t.Fatalf("remove finalizer: %v", err)
	}
	if _, err := svcs.Get(ctx, "web"); !client.IsNotFound(err) {
		t.Fatalf("after the last finalizer: %v, want NotFound", err)
	}

	// Orphan propagation is recorded as the orphan finalizer.
	if _, err := svcs.Create(ctx, kindCases()["services"].obj().(*corev1.Service)); err != nil {
		t.Fatal(err)
	}
	obj, _, err = svcs.DeleteObject(ctx, "web", client.DeleteOptions{PropagationPolicy: client.DeletePropagationOrphan})
	if err != nil || len(obj.Metadata.Finalizers) != 1 || obj.Metadata.Finalizers[0] != "orphan" {
		t.Fatalf("orphan delete: finalizers %v err %v; want [orphan]", obj.GetMetadata().GetFinalizers(), err)
	}
}

func TestNamespaces(t *testing.T) {
	s := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, s)
	ctx := context.Background()
	for _, name := range []string{"default", "kube-system", "kube-node-lease"} {
		if _, err := cs.Namespaces().Get(ctx, name); err != nil {
			t.Errorf("namespace %s: %v", name, err)
		}
	}
	p := kindCases()["pods"].obj().(*corev1.Pod)
	p.Metadata.Namespace = "missing"
	if _, err := cs.Pods("missing").Create(ctx, p); !client.IsNotFound(err) {
		t.Fatalf("create in a missing namespace: want NotFound, got %v", err)
	}
	if _, err := cs.Namespaces().Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "doomed"}}); err != nil {
		t.Fatal(err)
	}
	if err := cs.Namespaces().Delete(ctx, "doomed", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	p.Metadata.Namespace = "doomed"
	if _, err := cs.Pods("doomed").Create(ctx, p); !client.IsFailedPrecondition(err) {
		t.Fatalf("create in a terminating namespace: want FailedPrecondition, got %v", err)
	}
	ns, err := cs.Namespaces().Get(ctx, "doomed")
	if err != nil || ns.GetStatus().GetPhase() != "Terminating" {
		t.Fatalf("deleted namespace: phase %q err %v; want Terminating", ns.GetStatus().GetPhase(), err)
	}
}
