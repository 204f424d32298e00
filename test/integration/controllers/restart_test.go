package controllers

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/client"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// TestRestartsNeverOvershoot restarts the controller-manager five times
// while a ReplicaSet scales to 100 and checks, all along, that there are
// never more than 100 pods.
func TestRestartsNeverOvershoot(t *testing.T) {
	cs, _ := setup(t, HollowOptions{ReadyDelay: 50 * time.Millisecond})
	ctx := context.Background()
	const want = 100
	rs := &appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: &appsv1.ReplicaSetSpec{Replicas: ptr.To(int32(want)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, Template: template("web", "img:1")},
	}
	if _, err := cs.ReplicaSets("default").Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var maxSeen, samples atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for sctx.Err() == nil {
			l, err := cs.Pods("default").List(sctx, client.ListOptions{LabelSelector: "app=web"})
			if err == nil {
				samples.Add(1)
				if n := int64(len(l.Items)); n > maxSeen.Load() {
					maxSeen.Store(n)
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	for i := range 5 {
		// Stop each controller-manager soon after it made progress, so
		// that every restart lands in the middle of the scale-up, with
		// creates in flight.
		before := maxSeen.Load()
		cm := StartCM(t, cs, CMOptions{})
		deadline := time.Now().Add(10 * time.Second)
		for maxSeen.Load() == before && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(15)) * time.Millisecond)
		cm.Stop()
		t.Logf("restart %d: max pods so far %d", i+1, maxSeen.Load())
	}
	StartCM(t, cs, CMOptions{})
	waitFor(t, 60*time.Second, "100 ready pods", func(ctx context.Context) (bool, error) {
		r, err := cs.ReplicaSets("default").Get(ctx, "web")
		return err == nil && r.GetStatus().GetReadyReplicas() == want, err
	})
	time.Sleep(300 * time.Millisecond)
	stop()
	wg.Wait()
	if m := maxSeen.Load(); m > want {
		t.Fatalf("saw %d pods, more than %d", m, want)
	}
	t.Logf("%d samples, at most %d pods", samples.Load(), maxSeen.Load())
}
