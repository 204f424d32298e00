package controllers

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/rollout"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func TestDeploymentScale(t *testing.T) {
	cs, _ := setup(t, HollowOptions{})
	StartCM(t, cs, CMOptions{})
	ctx := context.Background()
	if _, err := cs.Deployments("default").Create(ctx, newDeployment("web", 0, "img:1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "a replica set at 0", func(ctx context.Context) (bool, error) {
		l, err := cs.ReplicaSets("default").List(ctx, client.ListOptions{})
		return err == nil && len(l.Items) == 1, err
	})
	for _, n := range []int32{50, 5} {
		setReplicas(ctx, t, cs, "default", "web", n)
		waitFor(t, 60*time.Second, fmt.Sprintf("%d available pods", n), func(ctx context.Context) (bool, error) {
			pods, err := cs.Pods("default").List(ctx, client.ListOptions{LabelSelector: "app=web"})
			if err != nil {
				return false, err
			}
			ok, err := rolledOut(ctx, cs, "default", "web")
			return ok && len(pods.Items) == int(n), err
		})
	}
}

// TestRollingUpdateBounds samples the pods all through a rolling update:
// never fewer than replicas - maxUnavailable available, never more than
// replicas + maxSurge pods; then rolls back.
func TestRollingUpdateBounds(t *testing.T) {
	cs, _ := setup(t, HollowOptions{ReadyDelay: 100 * time.Millisecond})
	StartCM(t, cs, CMOptions{})
	ctx := context.Background()
	const replicas, surge, unavailable = 10, 3, 2
	d := newDeployment("web", replicas, "img:1")
	d.Spec.Strategy = &appsv1.DeploymentStrategy{Type: "RollingUpdate", RollingUpdate: &appsv1.RollingUpdateDeployment{
		MaxSurge:       &metav1.IntOrString{Value: &metav1.IntOrString_IntVal{IntVal: surge}},
		MaxUnavailable: &metav1.IntOrString{Value: &metav1.IntOrString_StrVal{StrVal: "20%"}},
	}}
	if _, err := cs.Deployments("default").Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "first rollout", func(ctx context.Context) (bool, error) { return rolledOut(ctx, cs, "default", "web") })

	// Sample.
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var samples int
	var violations []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for sctx.Err() == nil {
			pods, err := livePods(sctx, cs, "default", "app=web")
			if err != nil {
				continue
			}
			avail := 0
			for _, p := range pods {
				if isReady(p) {
					avail++
				}
			}
			mu.Lock()
			samples++
			if len(pods) > replicas+surge {
				violations = append(violations, fmt.Sprintf("%d pods > %d", len(pods), replicas+surge))
			}
			if avail < replicas-unavailable {
				violations = append(violations, fmt.Sprintf("%d available < %d", avail, replicas-unavailable))
			}
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	err := client.RetryOnConflict(ctx, func() error {
		d, err := cs.Deployments("default").Get(ctx, "web")
		if err != nil {
			return err
		}
		d.Spec.Template.Spec.Containers[0].Image = "img:2"
		_, err = cs.Deployments("default").Update(ctx, d)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "rollout of img:2", func(ctx context.Context) (bool, error) {
		ok, err := rolledOut(ctx, cs, "default", "web")
		if !ok || err != nil {
			return false, err
		}
		pods, err := livePods(ctx, cs, "default", "app=web")
		if err != nil {
			return false, err
		}
		for _, p := range pods {
			if p.GetSpec().GetContainers()[0].GetImage() != "img:2" {
				return false, nil
			}
		}
		return len(pods) == replicas, nil
	})
	stop()
	wg.Wait()
	if samples < 5 {
		t.Errorf("only %d samples taken", samples)
	}
	if len(violations) > 0 {
		t.Errorf("%d of %d samples out of bounds, e.g. %v", len(violations), samples, violations[:min(5, len(violations))])
	}
	got, err := cs.Deployments("default").Get(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if rev := got.GetMetadata().GetAnnotations()["deployment.kubernetes.io/revision"]; rev != "2" {
		t.Errorf("revision = %q, want 2", rev)
	}
	t.Logf("%d samples, bounds held", samples)

	// Roll back: the old template returns, as revision 3.
	if _, skipped, err := rollout.Undo(ctx, cs, "default", "web", 0); err != nil || skipped {
		t.Fatalf("undo: %v (skipped %v)", err, skipped)
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var msgs []string
	if err := rollout.Wait(wctx, cs, "default", "web", func(m string) { msgs = append(msgs, m) }); err != nil {
		t.Fatalf("rollout wait: %v (messages %q)", err, msgs)
	}
	pods, err := livePods(ctx, cs, "default", "app=web")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		if img := p.GetSpec().GetContainers()[0].GetImage(); img != "img:1" {
			t.Errorf("pod %s runs %s after rollback, want img:1", p.GetMetadata().GetName(), img)
		}
	}
	hist, err := rollout.History(ctx, cs, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[1].Number != 3 || hist[1].Template.GetSpec().GetContainers()[0].GetImage() != "img:1" {
		for _, h := range hist {
			t.Logf("revision %d: %s", h.Number, h.Template.GetSpec().GetContainers()[0].GetImage())
		}
		t.Errorf("history after rollback: want img:2 at 2 and img:1 at 3")
	}
}
