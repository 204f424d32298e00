package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/rollout"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
)

func setImage(ctx context.Context, t *testing.T, cs *client.Clientset, name, image string, annotations map[string]string) {
	t.Helper()
	err := client.RetryOnConflict(ctx, func() error {
		d, err := cs.Deployments("default").Get(ctx, name)
		if err != nil {
			return err
		}
		d.Spec.Template.Spec.Containers[0].Image = image
		if d.Spec.Template.Metadata.Annotations == nil && len(annotations) > 0 {
			d.Spec.Template.Metadata.Annotations = map[string]string{}
		}
		for k, v := range annotations {
			d.Spec.Template.Metadata.Annotations[k] = v
		}
		_, err = cs.Deployments("default").Update(ctx, d)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func rsCount(ctx context.Context, cs *client.Clientset, selector string) (int, error) {
	l, err := cs.ReplicaSets("default").List(ctx, client.ListOptions{LabelSelector: selector})
	if err != nil {
		return 0, err
	}
	return len(l.Items), nil
}

func TestProgressDeadlineExceeded(t *testing.T) {
	cs, _ := setup(t, HollowOptions{})
	StartCM(t, cs, CMOptions{})
	ctx := context.Background()
	d := newDeployment("stuck", 2, "img:1")
	d.Spec.ProgressDeadlineSeconds = ptr.To(int32(2))
	if _, err := cs.Deployments("default").Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "first rollout", func(ctx context.Context) (bool, error) { return rolledOut(ctx, cs, "default", "stuck") })
	// The new pods never become ready.
	setImage(ctx, t, cs, "stuck", "img:2", map[string]string{NotReadyAnnotation: "true"})
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := rollout.Wait(wctx, cs, "default", "stuck", nil)
	if !errors.Is(err, rollout.ErrProgressDeadlineExceeded) {
		t.Fatalf("rollout wait: %v, want the progress deadline exceeded", err)
	}
	got, err := cs.Deployments("default").Get(ctx, "stuck")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range got.GetStatus().GetConditions() {
		if c.GetType() == "Progressing" && (c.GetStatus() != "False" || c.GetReason() != "ProgressDeadlineExceeded") {
			t.Errorf("Progressing = %s/%s", c.GetStatus(), c.GetReason())
		}
	}
	// The old pods still serve: maxUnavailable 25% of 2 rounds down to 0.
	pods, err := livePods(ctx, cs, "default", "app=stuck")
	if err != nil {
		t.Fatal(err)
	}
	ready := 0
	for _, p := range pods {
		if isReady(p) {
			ready++
		}
	}
	if ready != 2 {
		t.Errorf("%d ready pods during the stuck rollout, want the 2 old ones", ready)
	}
}

func TestPauseResumeRestart(t *testing.T) {
	cs, _ := setup(t, HollowOptions{})
	StartCM(t, cs, CMOptions{})
	ctx := context.Background()
	if _, err := cs.Deployments("default").Create(ctx, newDeployment("web", 3, "img:1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "first rollout", func(ctx context.Context) (bool, error) { return rolledOut(ctx, cs, "default", "web") })
	if _, err := rollout.Pause(ctx, cs, "default", "web"); err != nil {
		t.Fatal(err)
	}
	setImage(ctx, t, cs, "web", "img:2", nil)
	time.Sleep(500 * time.Millisecond)
	if n, err := rsCount(ctx, cs, "app=web"); err != nil || n != 1 {
		t.Fatalf("%d replica sets while paused (err %v), want 1", n, err)
	}
	if _, err := rollout.Resume(ctx, cs, "default", "web"); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := rollout.Wait(wctx, cs, "default", "web", nil); err != nil {
		t.Fatal(err)
	}
	before, err := livePods(ctx, cs, "default", "app=web")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rollout.Restart(ctx, cs, "default", "web", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := rollout.Wait(wctx, cs, "default", "web", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "every pod replaced", func(ctx context.Context) (bool, error) {
		after, err := livePods(ctx, cs, "default", "app=web")
		if err != nil || len(after) != 3 {
			return false, err
		}
		for _, a := range after {
			for _, b := range before {
				if a.GetMetadata().GetUid() == b.GetMetadata().GetUid() {
					return false, nil
				}
			}
		}
		return true, nil
	})
	hist, err := rollout.History(ctx, cs, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 {
		t.Errorf("%d revisions, want 3 (img:1, img:2, restart)", len(hist))
	}
}

// TestRecreate samples a Recreate rollout: old and new pods never run at
// the same time.
func TestRecreate(t *testing.T) {
	cs, _ := setup(t, HollowOptions{ReadyDelay: 50 * time.Millisecond})
	StartCM(t, cs, CMOptions{})
	ctx := context.Background()
	d := newDeployment("web", 4, "img:1")
	d.Spec.Strategy = &appsv1.DeploymentStrategy{Type: "Recreate"}
	if _, err := cs.Deployments("default").Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "first rollout", func(ctx context.Context) (bool, error) { return rolledOut(ctx, cs, "default", "web") })
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var mixed []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for sctx.Err() == nil {
			l, err := cs.Pods("default").List(sctx, client.ListOptions{LabelSelector: "app=web"})
			if err == nil {
				images := map[string]int{}
				for _, p := range l.Items {
					images[p.GetSpec().GetContainers()[0].GetImage()]++
				}
				if len(images) > 1 {
					mixed = append(mixed, fmt.Sprint(images))
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	setImage(ctx, t, cs, "web", "img:2", nil)
	waitFor(t, 30*time.Second, "recreated", func(ctx context.Context) (bool, error) {
		ok, err := rolledOut(ctx, cs, "default", "web")
		if !ok || err != nil {
			return false, err
		}
		pods, err := cs.Pods("default").List(ctx, client.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			return false, err
		}
		for _, p := range pods.Items {
			if p.GetSpec().GetContainers()[0].GetImage() != "img:2" {
				return false, nil
			}
		}
		return len(pods.Items) == 4, nil
	})
	stop()
	wg.Wait()
	if len(mixed) > 0 {
		t.Errorf("old and new pods together during Recreate: %v", mixed[:min(3, len(mixed))])
	}
}
