package deployment_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/controller-manager/internal/controllertest"
	"github.com/gantryhq/gantry/controller-manager/internal/deployment"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// rsFor is a replica set of d for the template running image, at revision
// rev, with replicas all available.
func rsFor(d *appsv1.Deployment, image string, rev, replicas int32, created time.Time) *appsv1.ReplicaSet {
	tmpl := controllertest.Template(map[string]string{"app": "web"}, image)
	hash := deployment.ComputeHash(tmpl, nil)
	tmpl.Metadata.Labels[deployment.PodTemplateHashLabel] = hash
	return &appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{
			Name: d.Metadata.Name + "-" + hash, Namespace: "default", Uid: "uid-rs-" + image, Generation: 1,
			Labels:            map[string]string{"app": "web", deployment.PodTemplateHashLabel: hash},
			CreationTimestamp: timestamppb.New(created),
			Annotations: map[string]string{
				deployment.RevisionAnnotation:        strconv.Itoa(int(rev)),
				deployment.DesiredReplicasAnnotation: strconv.Itoa(int(d.Spec.GetReplicas())),
				deployment.MaxReplicasAnnotation:     strconv.Itoa(int(d.Spec.GetReplicas() + deployment.MaxSurge(d))),
			},
			OwnerReferences: []*metav1.OwnerReference{{ApiVersion: "apps/v1", Kind: "Deployment", Name: d.Metadata.Name, Uid: d.Metadata.Uid, Controller: ptr.To(true)}},
		},
		Spec: &appsv1.ReplicaSetSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", deployment.PodTemplateHashLabel: hash}},
			Template: tmpl,
		},
		Status: &appsv1.ReplicaSetStatus{Replicas: replicas, ReadyReplicas: replicas, AvailableReplicas: replicas, ObservedGeneration: 1},
	}
}

var t0 = controllertest.Epoch.Add(-time.Hour)

func TestSync(t *testing.T) {
	withImage := func(d *appsv1.Deployment, f func(*appsv1.Deployment)) *appsv1.Deployment { f(d); return d }
	base := controllertest.Deployment("web", "web", "img:1", 10)
	tests := []struct {
		name string
		objs []scheme.Object
		// want replicas per image after the sync ("img:1=8")
		wantReplicas []string
		wantWrites   []string
		wantEvents   []string
		check        func(t *testing.T, d *appsv1.Deployment)
	}{
		{
			name:         "new deployment creates its first replica set at full size",
			objs:         []scheme.Object{base},
			wantReplicas: []string{"img:1=10"},
			wantWrites: []string{"create replicasets default/web-" + deployment.ComputeHash(base.Spec.Template, nil),
				"update deployments default/web", "updatestatus deployments default/web", "updatestatus deployments default/web"},
			wantEvents: []string{"Normal ScalingReplicaSet Scaled up replica set web-" + deployment.ComputeHash(base.Spec.Template, nil) + " from 0 to 10"},
			check: func(t *testing.T, d *appsv1.Deployment) {
				if got := d.Metadata.Annotations[deployment.RevisionAnnotation]; got != "1" {
					t.Errorf("revision = %q, want 1", got)
				}
			},
		},
		{
			name: "template change: new replica set surges to maxSurge",
			objs: []scheme.Object{
				withImage(controllertest.Deployment("web", "web", "img:2", 10), func(*appsv1.Deployment) {}),
				rsFor(base, "img:1", 1, 10, t0),
			},
			// 10 + 25% surge (3) = 13 pods at most; and since 10 are
			// available and 8 must stay, 2 old ones go at once
			wantReplicas: []string{"img:1=8", "img:2=3"},
			check: func(t *testing.T, d *appsv1.Deployment) {
				if got := d.Metadata.Annotations[deployment.RevisionAnnotation]; got != "2" {
					t.Errorf("revision = %q, want 2", got)
				}
			},
		},
		{
			name: "old replica set scaled down within maxUnavailable",
			objs: []scheme.Object{
				controllertest.Deployment("web", "web", "img:2", 10),
				rsFor(base, "img:1", 1, 10, t0),
				func() scheme.Object {
					rs := rsFor(base, "img:2", 2, 3, t0.Add(time.Minute))
					rs.Status.AvailableReplicas, rs.Status.ReadyReplicas = 0, 0
					return rs
				}(),
			},
			// min available 10-2=8; 10 available -> 2 may go
			wantReplicas: []string{"img:1=8", "img:2=3"},
			wantEvents:   []string{"Normal ScalingReplicaSet Scaled down replica set web-" + deployment.ComputeHash(controllertest.Template(map[string]string{"app": "web"}, "img:1"), nil) + " from 10 to 8"},
		},
		{
			name: "a stale status (pods still being deleted) does not count as available",
			objs: []scheme.Object{
				controllertest.Deployment("web", "web", "img:2", 10),
				func() scheme.Object {
					rs := rsFor(base, "img:1", 1, 10, t0)
					rs.Spec.Replicas = ptr.To(int32(8)) // scaled down, status not yet caught up
					return rs
				}(),
				func() scheme.Object {
					rs := rsFor(base, "img:2", 2, 5, t0.Add(time.Minute))
					rs.Status.AvailableReplicas, rs.Status.ReadyReplicas = 3, 3
					return rs
				}(),
			},
			// really 8+3 available, 8 must stay: 3 may go (not 5)
			wantReplicas: []string{"img:1=5", "img:2=5"},
		},
		{
			name: "recreate scales the old replica set to zero first",
			objs: []scheme.Object{
				withImage(controllertest.Deployment("web", "web", "img:2", 10), func(d *appsv1.Deployment) {
					d.Spec.Strategy = &appsv1.DeploymentStrategy{Type: "Recreate"}
				}),
				rsFor(base, "img:1", 1, 10, t0),
			},
			wantReplicas: []string{"img:1=0"},
		},
		{
			name: "paused deployment does not roll out",
			objs: []scheme.Object{
				withImage(controllertest.Deployment("web", "web", "img:2", 10), func(d *appsv1.Deployment) { d.Spec.Paused = true }),
				rsFor(base, "img:1", 1, 10, t0),
			},
			wantReplicas: []string{"img:1=10"},
			check: func(t *testing.T, d *appsv1.Deployment) {
				c := cond(d, "Progressing")
				if c == nil || c.Reason != "DeploymentPaused" || c.Status != "Unknown" {
					t.Errorf("Progressing = %v, want Unknown/DeploymentPaused", c)
				}
			},
		},
		{
			name: "scaling during a rollout is proportional",
			objs: []scheme.Object{
				controllertest.Deployment("web", "web", "img:2", 20),
				rsFor(base, "img:1", 1, 8, t0),
				rsFor(base, "img:2", 2, 5, t0.Add(time.Minute)),
			},
			// allowed 20+5=25, now 13: +12 split 8:5 -> +7, +4, and the
			// rounding's rest to the largest
			wantReplicas: []string{"img:1=16", "img:2=9"},
		},
		{
			name: "history beyond revisionHistoryLimit is deleted, oldest first",
			objs: []scheme.Object{
				withImage(controllertest.Deployment("web", "web", "img:4", 2), func(d *appsv1.Deployment) {
					d.Spec.RevisionHistoryLimit = ptr.To(int32(1))
					d.Status = &appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2, ReadyReplicas: 2}
				}),
				rsFor(base, "img:1", 1, 0, t0),
				rsFor(base, "img:2", 2, 0, t0.Add(time.Minute)),
				rsFor(base, "img:3", 3, 0, t0.Add(2*time.Minute)),
				rsFor(controllertest.Deployment("web", "web", "img:4", 2), "img:4", 4, 2, t0.Add(3*time.Minute)),
			},
			wantReplicas: []string{"img:3=0", "img:4=2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := controllertest.New(t, tt.objs...)
			c := deployment.New(h.Ctx)
			h.Start()
			if err := c.Sync(context.Background(), "default/web"); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			writes := h.Writes()
			if tt.wantWrites != nil {
				if diff := cmp.Diff(tt.wantWrites, writes); diff != "" {
					t.Errorf("writes (-want +got):\n%s", diff)
				}
			}
			var got []string
			for _, o := range h.Server.Objects("replicasets") {
				rs := o.(*appsv1.ReplicaSet)
				got = append(got, rs.Spec.Template.Spec.Containers[0].Image+"="+strconv.Itoa(int(rs.Spec.GetReplicas())))
			}
			sortStrings(got)
			if diff := cmp.Diff(tt.wantReplicas, got); diff != "" {
				t.Errorf("replica sets (-want +got):\n%s", diff)
			}
			if tt.wantEvents != nil {
				if diff := cmp.Diff(tt.wantEvents, h.Recorder.Events()); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
			}
			if tt.check != nil {
				tt.check(t, h.Server.Object("deployments", "default", "web").(*appsv1.Deployment))
			}
		})
	}
}

func TestProgressDeadlineExceeded(t *testing.T) {
	d := controllertest.Deployment("web", "web", "img:2", 10)
	d.Spec.ProgressDeadlineSeconds = ptr.To(int32(60))
	d.Metadata.Annotations = map[string]string{deployment.RevisionAnnotation: "2"}
	old := timestamppb.New(controllertest.Epoch.Add(-2 * time.Minute))
	// 13 pods (the most maxSurge allows), 8 available (the least
	// maxUnavailable allows): nothing can move until new pods are ready.
	d.Status = &appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 13, UpdatedReplicas: 5, AvailableReplicas: 8, ReadyReplicas: 8, UnavailableReplicas: 2,
		Conditions: []*appsv1.DeploymentCondition{{Type: "Progressing", Status: "True", Reason: "ReplicaSetUpdated", LastUpdateTime: old, LastTransitionTime: old}}}
	oldRS := rsFor(controllertest.Deployment("web", "web", "img:1", 10), "img:1", 1, 8, t0)
	newRS := rsFor(d, "img:2", 2, 5, t0.Add(time.Minute))
	newRS.Status.AvailableReplicas, newRS.Status.ReadyReplicas = 0, 0
	h := controllertest.New(t, d, oldRS, newRS)
	c := deployment.New(h.Ctx)
	h.Start()
	if err := c.Sync(context.Background(), "default/web"); err != nil {
		t.Fatal(err)
	}
	got := h.Server.Object("deployments", "default", "web").(*appsv1.Deployment)
	p := cond(got, "Progressing")
	if p == nil || p.Status != "False" || p.Reason != "ProgressDeadlineExceeded" {
		t.Fatalf("Progressing = %v, want False/ProgressDeadlineExceeded", p)
	}
	a := cond(got, "Available")
	if a == nil || a.Status != "True" {
		t.Errorf("Available = %v, want True (8 >= 10-2)", a)
	}
	found := false
	for _, e := range h.Recorder.Events() {
		found = found || strings.Contains(e, "ProgressDeadlineExceeded")
	}
	if !found {
		t.Errorf("no ProgressDeadlineExceeded event in %v", h.Recorder.Events())
	}
}

func TestMaxSurgeMaxUnavailable(t *testing.T) {
	is := func(v int32) *metav1.IntOrString {
		return &metav1.IntOrString{Value: &metav1.IntOrString_IntVal{IntVal: v}}
	}
	ss := func(v string) *metav1.IntOrString {
		return &metav1.IntOrString{Value: &metav1.IntOrString_StrVal{StrVal: v}}
	}
	tests := []struct {
		replicas            int32
		surge, unavail      *metav1.IntOrString
		wantSurge, wantUnav int32
	}{
		{10, ss("25%"), ss("25%"), 3, 2},
		{1, ss("25%"), ss("25%"), 1, 0},
		{4, is(0), is(0), 0, 1},
		{3, is(1), is(5), 1, 3},
		{0, ss("50%"), ss("50%"), 0, 0},
	}
	for _, tt := range tests {
		d := controllertest.Deployment("d", "d", "i", tt.replicas)
		d.Spec.Strategy.RollingUpdate.MaxSurge, d.Spec.Strategy.RollingUpdate.MaxUnavailable = tt.surge, tt.unavail
		if s, u := deployment.MaxSurge(d), deployment.MaxUnavailable(d); s != tt.wantSurge || u != tt.wantUnav {
			t.Errorf("replicas %d surge %v unavailable %v: got %d/%d, want %d/%d", tt.replicas, tt.surge, tt.unavail, s, u, tt.wantSurge, tt.wantUnav)
		}
	}
}

func cond(d *appsv1.Deployment, typ string) *appsv1.DeploymentCondition {
	for _, c := range d.GetStatus().GetConditions() {
		if c.Type == typ {
			return c
		}
	}
	return nil
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
