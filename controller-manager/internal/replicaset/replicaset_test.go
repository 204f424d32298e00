package replicaset_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/controller-manager/internal/controllertest"
	"github.com/gantryhq/gantry/controller-manager/internal/replicaset"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
)

var (
	web   = map[string]string{"app": "web"}
	other = map[string]string{"app": "other"}
	epoch = controllertest.Epoch
)

func TestSync(t *testing.T) {
	tests := []struct {
		name       string
		objs       []scheme.Object
		wantWrites []string
		wantStatus *appsv1.ReplicaSetStatus
		wantEvents []string
	}{
		{
			name: "creates missing pods",
			objs: []scheme.Object{controllertest.ReplicaSet("web", "web", 3)},
			wantWrites: []string{
				"create pods default/web-", "create pods default/web-", "create pods default/web-",
				"updatestatus replicasets default/web",
			},
			// status counts the pods the sync started from, as Kubernetes does
			wantStatus: &appsv1.ReplicaSetStatus{ObservedGeneration: 1},
			wantEvents: []string{"Normal SuccessfulCreate", "Normal SuccessfulCreate", "Normal SuccessfulCreate"},
		},
		{
			name: "deletes unscheduled before not ready before newest ready",
			objs: []scheme.Object{
				controllertest.ReplicaSet("web", "web", 1),
				controllertest.Pod("old-ready", web).Owner("ReplicaSet", "web").Running(epoch.Add(-time.Hour)).Obj(),
				controllertest.Pod("new-ready", web).Owner("ReplicaSet", "web").Running(epoch.Add(-time.Minute)).Obj(),
				controllertest.Pod("not-ready", web).Owner("ReplicaSet", "web").Running(time.Time{}).Obj(),
				controllertest.Pod("unscheduled", web).Owner("ReplicaSet", "web").Obj(),
			},
			wantWrites: []string{
				"delete pods default/new-ready", "delete pods default/not-ready", "delete pods default/unscheduled",
				"updatestatus replicasets default/web",
			},
			// status counts the pods the sync started from
			wantStatus: &appsv1.ReplicaSetStatus{Replicas: 4, FullyLabeledReplicas: 4, ReadyReplicas: 2, AvailableReplicas: 2, ObservedGeneration: 1},
			wantEvents: []string{"Normal SuccessfulDelete", "Normal SuccessfulDelete", "Normal SuccessfulDelete"},
		},
		{
			name: "adopts a matching orphan and releases a pod that no longer matches",
			objs: []scheme.Object{
				controllertest.ReplicaSet("web", "web", 1),
				controllertest.Pod("orphan", web).Running(epoch.Add(-time.Hour)).Obj(),
				controllertest.Pod("relabelled", other).Owner("ReplicaSet", "web").Running(epoch.Add(-time.Hour)).Obj(),
			},
			wantWrites: []string{"update pods default/orphan", "update pods default/relabelled", "updatestatus replicasets default/web"},
			wantStatus: &appsv1.ReplicaSetStatus{Replicas: 1, FullyLabeledReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, ObservedGeneration: 1},
		},
		{
			name: "ignores pods of another owner, finished and terminating pods",
			objs: []scheme.Object{
				controllertest.ReplicaSet("web", "web", 1),
				controllertest.Pod("theirs", web).Owner("ReplicaSet", "else").Obj(),
				controllertest.Pod("done", web).Owner("ReplicaSet", "web").Phase("Succeeded").Obj(),
				controllertest.Pod("going", web).Owner("ReplicaSet", "web").Deleting().Obj(),
			},
			wantWrites: []string{"create pods default/web-", "updatestatus replicasets default/web"},
			wantStatus: &appsv1.ReplicaSetStatus{Replicas: 0, ObservedGeneration: 1},
			wantEvents: []string{"Normal SuccessfulCreate"},
		},
		{
			name: "minReadySeconds: ready but not yet available",
			objs: []scheme.Object{
				func() scheme.Object {
					rs := controllertest.ReplicaSet("web", "web", 2)
					rs.Spec.MinReadySeconds = 30
					return rs
				}(),
				controllertest.Pod("a", web).Owner("ReplicaSet", "web").Running(epoch.Add(-time.Minute)).Obj(),
				controllertest.Pod("b", web).Owner("ReplicaSet", "web").Running(epoch.Add(-10 * time.Second)).Obj(),
			},
			wantWrites: []string{"updatestatus replicasets default/web"},
			wantStatus: &appsv1.ReplicaSetStatus{Replicas: 2, FullyLabeledReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 1, ObservedGeneration: 1},
		},
		{
			name: "nothing to do",
			objs: []scheme.Object{func() scheme.Object {
				rs := controllertest.ReplicaSet("web", "web", 0)
				rs.Status = &appsv1.ReplicaSetStatus{ObservedGeneration: 1}
				return rs
			}()},
			wantWrites: nil,
			wantStatus: &appsv1.ReplicaSetStatus{ObservedGeneration: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := controllertest.New(t, tt.objs...)
			c := replicaset.New(h.Ctx)
			h.Start()
			if err := c.Sync(context.Background(), "default/web"); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			if diff := cmp.Diff(tt.wantWrites, h.Writes()); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
			rs := h.Server.Object("replicasets", "default", "web").(*appsv1.ReplicaSet)
			if diff := cmp.Diff(tt.wantStatus, rs.GetStatus(), protocmp.Transform()); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
			var events []string
			for _, e := range h.Recorder.Events() {
				f := strings.Fields(e)
				events = append(events, f[0]+" "+f[1])
			}
			if diff := cmp.Diff(tt.wantEvents, events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExpectations checks that a sync after a scale-up does not create
// again before the informer has seen the pods.
func TestExpectations(t *testing.T) {
	h := controllertest.New(t, controllertest.ReplicaSet("web", "web", 5))
	c := replicaset.New(h.Ctx)
	// Sync twice in a row: the second sync must not create again, whether
	// or not the informer has seen the first sync's pods yet.
	h.Start()
	ctx := context.Background()
	syncOK := func() {
		t.Helper()
		// A conflict (a status written from a stale cache) is an
		// ordinary requeue; sync again as the queue would.
		for i := 0; ; i++ {
			err := c.Sync(ctx, "default/web")
			if err == nil {
				return
			}
			if !client.IsConflict(err) || i > 100 {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	syncOK()
	syncOK()
	creates := 0
	for _, w := range h.Writes() {
		if strings.HasPrefix(w, "create pods") {
			creates++
		}
	}
	if creates != 5 {
		t.Fatalf("created %d pods, want 5", creates)
	}
	h.WaitFor("5 pods", func() bool { return len(h.Server.Objects("pods")) == 5 })
	// Once the cache has seen them, the pods are what the sync counts.
	time.Sleep(100 * time.Millisecond)
	syncOK()
	for _, w := range h.Writes() {
		if strings.HasPrefix(w, "create") || strings.HasPrefix(w, "delete") {
			t.Errorf("unexpected write %s", w)
		}
	}
}
