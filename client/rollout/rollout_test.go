package rollout_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/client/clienttest"
	"github.com/gantryhq/gantry/client/rollout"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func tmpl(image string, hash string) *corev1.PodTemplateSpec {
	l := map[string]string{"app": "web"}
	if hash != "" {
		l["pod-template-hash"] = hash
	}
	return &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: l},
		Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Image: image}}}}
}

func rs(image, rev, cause string) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{Name: "web-" + strings.ReplaceAll(image, ":", ""), Namespace: "default",
			Annotations:     map[string]string{rollout.RevisionAnnotation: rev, rollout.ChangeCauseAnnotation: cause},
			OwnerReferences: []*metav1.OwnerReference{{ApiVersion: "apps/v1", Kind: "Deployment", Name: "web", Uid: "uid-web", Controller: ptr.To(true)}}},
		Spec: &appsv1.ReplicaSetSpec{Template: tmpl(image, "h"+rev)},
	}
}

func deployment(image string) *appsv1.Deployment {
	return &appsv1.Deployment{Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Uid: "uid-web"},
		Spec: &appsv1.DeploymentSpec{Replicas: ptr.To(int32(3)), Template: tmpl(image, "")}}
}

func TestHistoryAndUndo(t *testing.T) {
	cs, s := clienttest.New(t, deployment("img:3"), rs("img:1", "1", "first"), rs("img:3", "3", ""), rs("img:2", "2", "second"),
		&appsv1.ReplicaSet{Metadata: &metav1.ObjectMeta{Name: "unowned", Namespace: "default", Annotations: map[string]string{rollout.RevisionAnnotation: "9"}}})
	ctx := context.Background()
	hist, err := rollout.History(ctx, cs, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range hist {
		got = append(got, r.ReplicaSet.GetMetadata().GetName()+"/"+r.ChangeCause)
		if _, ok := r.Template.GetMetadata().GetLabels()["pod-template-hash"]; ok {
			t.Errorf("revision %d template keeps the hash label", r.Number)
		}
	}
	if diff := cmp.Diff([]string{"web-img1/first", "web-img2/second", "web-img3/"}, got); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}

	// Undo to the previous revision.
	d, skipped, err := rollout.Undo(ctx, cs, "default", "web", 0)
	if err != nil || skipped {
		t.Fatalf("Undo: %v skipped=%v", err, skipped)
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "img:2" {
		t.Errorf("image after undo = %s, want img:2", img)
	}
	if d.Metadata.Annotations[rollout.ChangeCauseAnnotation] != "second" {
		t.Errorf("change cause not copied: %v", d.Metadata.Annotations)
	}
	stored := s.Object("deployments", "default", "web").(*appsv1.Deployment)
	if stored.Spec.Template.Spec.Containers[0].Image != "img:2" {
		t.Error("undo not stored")
	}
	// Undo to revision 2 again: nothing to do.
	if _, skipped, err := rollout.Undo(ctx, cs, "default", "web", 2); err != nil || !skipped {
		t.Errorf("second Undo: err %v skipped %v, want skipped", err, skipped)
	}
	if _, _, err := rollout.Undo(ctx, cs, "default", "web", 7); !errors.Is(err, rollout.ErrNotFound) {
		t.Errorf("Undo to a missing revision: %v, want ErrNotFound", err)
	}
	// Paused deployments are not rolled back.
	if _, err := rollout.Pause(ctx, cs, "default", "web"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rollout.Undo(ctx, cs, "default", "web", 1); err == nil || !strings.Contains(err.Error(), "paused") {
		t.Errorf("Undo of a paused deployment: %v", err)
	}
	if _, err := rollout.Resume(ctx, cs, "default", "web"); err != nil {
		t.Fatal(err)
	}
}

func TestRestart(t *testing.T) {
	cs, _ := clienttest.New(t, deployment("img:1"))
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	d, err := rollout.Restart(context.Background(), cs, "default", "web", now)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Spec.Template.Metadata.Annotations[rollout.RestartedAtAnnotation]; got != "2026-01-02T03:04:05Z" {
		t.Errorf("restartedAt = %q", got)
	}
}

func TestStatus(t *testing.T) {
	mk := func(gen, observed int64, replicas, updated, total, available int32, conds ...*appsv1.DeploymentCondition) *appsv1.Deployment {
		return &appsv1.Deployment{Metadata: &metav1.ObjectMeta{Name: "web", Generation: gen}, Spec: &appsv1.DeploymentSpec{Replicas: ptr.To(replicas)},
			Status: &appsv1.DeploymentStatus{ObservedGeneration: observed, UpdatedReplicas: updated, Replicas: total, AvailableReplicas: available, Conditions: conds}}
	}
	tests := []struct {
		d       *appsv1.Deployment
		msg     string
		done    bool
		wantErr bool
	}{
		{mk(2, 1, 3, 3, 3, 3), "Waiting for deployment spec update to be observed...", false, false},
		{mk(1, 1, 3, 1, 4, 3), `Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...`, false, false},
		{mk(1, 1, 3, 3, 5, 3), `Waiting for deployment "web" rollout to finish: 2 old replicas are pending termination...`, false, false},
		{mk(1, 1, 3, 3, 3, 2), `Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...`, false, false},
		{mk(1, 1, 3, 3, 3, 3), `deployment "web" successfully rolled out`, true, false},
		{mk(1, 1, 3, 1, 3, 1, &appsv1.DeploymentCondition{Type: "Progressing", Status: "False", Reason: "ProgressDeadlineExceeded"}), "", false, true},
	}
	for i, tt := range tests {
		msg, done, err := rollout.Status(tt.d)
		if msg != tt.msg || done != tt.done || (err != nil) != tt.wantErr {
			t.Errorf("%d: got %q %v %v, want %q %v err=%v", i, msg, done, err, tt.msg, tt.done, tt.wantErr)
		}
	}
}
