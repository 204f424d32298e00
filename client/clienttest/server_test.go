package clienttest_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/clienttest"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func TestServerContract(t *testing.T) {
	ctx := context.Background()
	seeded := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "seeded"}, Status: &corev1.PodStatus{Phase: "Running"}}
	cs, srv := clienttest.New(t, seeded)

	// Add keeps the status and defaults the namespace; Create clears it.
	if p := srv.Object("pods", "default", "seeded").(*corev1.Pod); p.GetStatus().GetPhase() != "Running" {
		t.Errorf("seeded pod lost its status")
	}
	created, err := cs.Pods("default").Create(ctx, &corev1.Pod{
		Metadata: &metav1.ObjectMeta{GenerateName: "web-"},
		Status:   &corev1.PodStatus{Phase: "Running"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := created.GetMetadata().GetName(); !strings.HasPrefix(n, "web-") || len(n) != len("web-")+5 {
		t.Errorf("generated name %q", n)
	}
	if created.GetStatus() != nil {
		t.Errorf("Create kept the status")
	}
	if _, err := cs.Pods("default").Create(ctx, &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "Bad_Name"}}); !client.IsInvalid(err) || client.IsBadRequest(err) {
		t.Errorf("invalid name: got %v (reason %q), want Invalid", err, client.Reason(err))
	}

	// A no-op update does not move the revision.
	rev := srv.Revision()
	same, err := cs.Pods("default").Update(ctx, created)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Revision() != rev || same.GetMetadata().GetResourceVersion() != created.GetMetadata().GetResourceVersion() {
		t.Errorf("no-op update wrote a new revision")
	}

	// Kinds without status refuse UpdateStatus.
	lease, err := cs.Leases("kube-system").Create(ctx, &coordinationv1.Lease{
		Metadata: &metav1.ObjectMeta{Name: "l"},
		Spec:     &coordinationv1.LeaseSpec{HolderIdentity: proto.String("a")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Leases("kube-system").UpdateStatus(ctx, lease); !client.IsBadRequest(err) {
		t.Errorf("UpdateStatus of a lease: got %v, want bad request", err)
	}

	// Unknown propagation policies are refused; known ones are recorded.
	if err := cs.Pods("default").Delete(ctx, "seeded", client.DeleteOptions{PropagationPolicy: "Sideways"}); !client.IsBadRequest(err) {
		t.Errorf("bad policy: got %v, want bad request", err)
	}
	if err := cs.Pods("default").Delete(ctx, "seeded", client.DeleteOptions{PropagationPolicy: client.DeletePropagationForeground}); err != nil {
		t.Fatal(err)
	}
	a := srv.Actions()
	if last := a[len(a)-1]; last.Verb != "delete" || last.Delete.GetPropagationPolicy() != "Foreground" {
		t.Errorf("last action %+v", last)
	}
}
