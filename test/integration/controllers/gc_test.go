package controllers

import (
	"context"
	"testing"
	"time"

	"github.com/gantryhq/gantry/client"
)

// TestCascadingDeletion deletes deployments with each propagation policy.
func TestCascadingDeletion(t *testing.T) {
	cs, _ := setup(t, HollowOptions{})
	StartCM(t, cs, CMOptions{})
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		policy client.PropagationPolicy
	}{{"background", client.DeletePropagationBackground}, {"foreground", client.DeletePropagationForeground}, {"orphan", client.DeletePropagationOrphan}} {
		t.Run(tc.name, func(t *testing.T) {
			sel := "app=" + tc.name
			if _, err := cs.Deployments("default").Create(ctx, newDeployment(tc.name, 3, "img:1")); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 30*time.Second, "rollout", func(ctx context.Context) (bool, error) { return rolledOut(ctx, cs, "default", tc.name) })
			if err := cs.Deployments("default").Delete(ctx, tc.name, client.DeleteOptions{PropagationPolicy: tc.policy}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 30*time.Second, "deployment gone", func(ctx context.Context) (bool, error) {
				_, err := cs.Deployments("default").Get(ctx, tc.name)
				return client.IsNotFound(err), nil
			})
			if tc.policy != client.DeletePropagationOrphan {
				waitFor(t, 30*time.Second, "replica sets and pods gone", func(ctx context.Context) (bool, error) {
					rss, err := cs.ReplicaSets("default").List(ctx, client.ListOptions{LabelSelector: sel})
					if err != nil {
						return false, err
					}
					pods, err := cs.Pods("default").List(ctx, client.ListOptions{LabelSelector: sel})
					return err == nil && len(rss.Items) == 0 && len(pods.Items) == 0, err
				})
				return
			}
			// Orphan: the replica set stays, without its owner, and keeps
			// its pods.
			time.Sleep(500 * time.Millisecond)
			rss, err := cs.ReplicaSets("default").List(ctx, client.ListOptions{LabelSelector: sel})
			if err != nil {
				t.Fatal(err)
			}
			if len(rss.Items) != 1 || len(rss.Items[0].GetMetadata().GetOwnerReferences()) != 0 {
				t.Fatalf("replica sets after orphan deletion: %v", rss.Items)
			}
			pods, err := livePods(ctx, cs, "default", sel)
			if err != nil {
				t.Fatal(err)
			}
			if len(pods) != 3 {
				t.Errorf("%d pods after orphan deletion, want 3", len(pods))
			}
		})
	}
}
