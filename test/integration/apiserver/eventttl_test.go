package apiserver

import (
	"context"
	"testing"
	"time"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
	"github.com/gantryhq/gantry/test/integration/framework"
)

// TestEventTTL: with --event-ttl=2s an Event is deleted about two seconds
// after its last write, and watchers see it go; other kinds stay.
func TestEventTTL(t *testing.T) {
	s := framework.StartAPIServer(t, apiservertest.Options{EventTTL: 2 * time.Second})
	cs := framework.Client(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	events := cs.Events("default")
	list, err := events.List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := events.Watch(ctx, client.WatchOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	if _, err := cs.Leases("default").Create(ctx, &coordinationv1.Lease{Metadata: &metav1.ObjectMeta{Name: "stays"}}); err != nil {
		t.Fatal(err)
	}
	ev, err := events.Create(ctx, &corev1.Event{
		Metadata:       &metav1.ObjectMeta{Name: "web-1.abc"},
		InvolvedObject: &corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web-1"},
		Reason:         "Started", Message: "Started container", Type: "Normal", Count: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	created := time.Now()
	// A repeat, as the recorder sends it, restarts the clock.
	time.Sleep(time.Second)
	ev.Count = 2
	if _, err := events.Update(ctx, ev); err != nil {
		t.Fatal(err)
	}
	updated := time.Now()

	for {
		e, err := w.Next()
		if err != nil {
			t.Fatalf("watch ended before the event expired: %v", err)
		}
		if e.Type != client.Deleted {
			continue
		}
		if e.Object.GetMetadata().GetName() != "web-1.abc" || e.Object.GetCount() != 2 {
			t.Errorf("deleted %s (count %d), want web-1.abc as last written", e.Object.GetMetadata().GetName(), e.Object.GetCount())
		}
		break
	}
	gone := time.Now()
	// etcd counts whole seconds and the lease may be shared within its
	// window: gone between the TTL after the last write and a few
	// seconds later; never before the TTL after the update.
	if gone.Sub(updated) < 2*time.Second-100*time.Millisecond {
		t.Errorf("event gone %s after its last write (%s after creation), want ≥ 2s", gone.Sub(updated), gone.Sub(created))
	}
	if _, err := events.Get(ctx, "web-1.abc"); !client.IsNotFound(err) {
		t.Errorf("get expired event: %v, want NotFound", err)
	}
	if _, err := cs.Leases("default").Get(ctx, "stays"); err != nil {
		t.Errorf("lease: %v", err)
	}
}
