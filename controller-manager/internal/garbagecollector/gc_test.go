package garbagecollector_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/controller-manager/internal/controllertest"
	"github.com/gantryhq/gantry/controller-manager/internal/garbagecollector"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func deleting(rs *appsv1.ReplicaSet, finalizer string) *appsv1.ReplicaSet {
	rs.Metadata.DeletionTimestamp = timestamppb.New(controllertest.Epoch)
	rs.Metadata.Finalizers = []string{finalizer}
	return rs
}

func TestSync(t *testing.T) {
	web := map[string]string{"app": "web"}
	twoOwners := controllertest.Pod("two", web).Owner("ReplicaSet", "gone").Obj()
	twoOwners.Metadata.OwnerReferences = append(twoOwners.Metadata.OwnerReferences,
		&metav1.OwnerReference{ApiVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", Uid: "uid-web"})
	tests := []struct {
		name       string
		objs       []scheme.Object
		key        string
		wantWrites []string
	}{
		{
			name:       "dependent of a gone owner is deleted",
			objs:       []scheme.Object{controllertest.Pod("p", web).Owner("ReplicaSet", "gone").Obj()},
			key:        "pods|default|p|uid-p",
			wantWrites: []string{"delete pods default/p Background"},
		},
		{
			name: "owner recreated under the same name (another uid) counts as gone",
			objs: []scheme.Object{
				func() scheme.Object {
					rs := controllertest.ReplicaSet("web", "web", 1)
					rs.Metadata.Uid = "uid-new"
					return rs
				}(),
				controllertest.Pod("p", web).Owner("ReplicaSet", "web").Obj(),
			},
			key:        "pods|default|p|uid-p",
			wantWrites: []string{"delete pods default/p Background"},
		},
		{
			name:       "dependent with a live owner is kept",
			objs:       []scheme.Object{controllertest.ReplicaSet("web", "web", 1), controllertest.Pod("p", web).Owner("ReplicaSet", "web").Obj()},
			key:        "pods|default|p|uid-p",
			wantWrites: nil,
		},
		{
			name:       "only the dangling reference of a dependent with two owners goes",
			objs:       []scheme.Object{controllertest.ReplicaSet("web", "web", 1), twoOwners},
			key:        "pods|default|two|uid-two",
			wantWrites: []string{"update pods default/two"},
		},
		{
			name: "orphan: references removed, then the finalizer",
			objs: []scheme.Object{
				deleting(controllertest.ReplicaSet("web", "web", 1), "orphan"),
				controllertest.Pod("p", web).Owner("ReplicaSet", "web").Obj(),
				controllertest.Pod("q", web).Owner("ReplicaSet", "web").Obj(),
			},
			key:        "replicasets|default|web|uid-web",
			wantWrites: []string{"update pods default/p", "update pods default/q", "update replicasets default/web"},
		},
		{
			name: "foreground: dependents deleted first",
			objs: []scheme.Object{
				deleting(controllertest.ReplicaSet("web", "web", 1), "foregroundDeletion"),
				controllertest.Pod("p", web).Owner("ReplicaSet", "web").Obj(),
			},
			key:        "replicasets|default|web|uid-web",
			wantWrites: []string{"delete pods default/p Background"},
		},
		{
			name:       "foreground: no dependents left, finalizer removed",
			objs:       []scheme.Object{deleting(controllertest.ReplicaSet("web", "web", 1), "foregroundDeletion")},
			key:        "replicasets|default|web|uid-web",
			wantWrites: []string{"update replicasets default/web"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := controllertest.New(t, tt.objs...)
			c := garbagecollector.New(h.Ctx)
			h.Start()
			if err := c.Sync(context.Background(), tt.key); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantWrites, h.Writes()); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOrphanLeavesDependentsOwnerless(t *testing.T) {
	web := map[string]string{"app": "web"}
	h := controllertest.New(t, deleting(controllertest.ReplicaSet("web", "web", 1), "orphan"),
		controllertest.Pod("p", web).Owner("ReplicaSet", "web").Obj())
	c := garbagecollector.New(h.Ctx)
	h.Start()
	if err := c.Sync(context.Background(), "replicasets|default|web|uid-web"); err != nil {
		t.Fatal(err)
	}
	p := h.Server.Object("pods", "default", "p")
	if p == nil || len(p.GetMetadata().GetOwnerReferences()) != 0 {
		t.Fatalf("pod = %v, want kept without owner references", p)
	}
	if rs := h.Server.Object("replicasets", "default", "web"); rs != nil {
		t.Errorf("owner still stored after its last finalizer went: %v", rs)
	}
}
