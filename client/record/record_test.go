package record_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/clienttest"
	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/client/record/recordtest"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func events(t *testing.T, srv *clienttest.Server) []*corev1.Event {
	var out []*corev1.Event
	for _, o := range srv.Objects("events") {
		out = append(out, o.(*corev1.Event))
	}
	return out
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func run(t *testing.T, r *record.Recorder) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestAggregation(t *testing.T) {
	cs, srv := clienttest.New(t)
	clk := &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := record.New(cs, record.Options{Component: "scheduler", Host: "h1", Now: clk.Now})
	run(t, r)

	pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "ns", Name: "web", Uid: "u1", ResourceVersion: "7"}}
	start := clk.Now()
	for range 3 {
		r.Eventf(pod, record.Warning, "FailedScheduling", "0/%d nodes are available", 3)
		clk.Add(time.Minute)
	}
	r.Eventf(pod, record.Normal, "Scheduled", "assigned to n1")
	eventually(t, "two events", func() bool {
		evs := events(t, srv)
		return len(evs) == 2 && (evs[0].GetCount() == 3 || evs[1].GetCount() == 3)
	})
	var failed *corev1.Event
	for _, e := range events(t, srv) {
		if e.GetReason() == "FailedScheduling" {
			failed = e
		}
	}
	want := &corev1.Event{
		InvolvedObject:     &corev1.ObjectReference{Kind: "Pod", ApiVersion: "v1", Namespace: "ns", Name: "web", Uid: "u1", ResourceVersion: "7"},
		Reason:             "FailedScheduling",
		Message:            "0/3 nodes are available",
		Type:               "Warning",
		Source:             &corev1.EventSource{Component: "scheduler", Host: "h1"},
		Count:              3,
		ReportingComponent: "scheduler",
		ReportingInstance:  "h1",
	}
	if diff := cmp.Diff(want, failed, protocmp.Transform(),
		protocmp.IgnoreFields(&corev1.Event{}, "metadata", "first_timestamp", "last_timestamp")); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	if got := failed.GetFirstTimestamp().AsTime(); !got.Equal(start) {
		t.Errorf("firstTimestamp %v, want %v", got, start)
	}
	if got := failed.GetLastTimestamp().AsTime(); !got.Equal(start.Add(2 * time.Minute)) {
		t.Errorf("lastTimestamp %v, want %v", got, start.Add(2*time.Minute))
	}
	if failed.GetMetadata().GetNamespace() != "ns" {
		t.Errorf("event in namespace %q", failed.GetMetadata().GetNamespace())
	}

	// Past the window, the same event is a new object.
	clk.Add(11 * time.Minute)
	r.Eventf(pod, record.Warning, "FailedScheduling", "0/%d nodes are available", 3)
	eventually(t, "a third event", func() bool { return len(events(t, srv)) == 3 })

	// If the event expired on the server, the next repeat creates it again.
	for _, e := range events(t, srv) {
		if err := cs.Events("ns").Delete(context.Background(), e.GetMetadata().GetName(), client.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	r.Eventf(pod, record.Warning, "FailedScheduling", "0/%d nodes are available", 3)
	eventually(t, "re-created event", func() bool { return len(events(t, srv)) == 1 })
}

func TestClusterScopedObject(t *testing.T) {
	cs, srv := clienttest.New(t)
	r := record.New(cs, record.Options{Component: "node-controller"})
	run(t, r)
	r.Event(&corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n1", Uid: "u"}}, record.Normal, "NodeReady", "ready")
	eventually(t, "event", func() bool { return len(events(t, srv)) == 1 })
	ev := events(t, srv)[0]
	if ev.GetMetadata().GetNamespace() != "default" || ev.GetInvolvedObject().GetKind() != "Node" || ev.GetInvolvedObject().GetNamespace() != "" {
		t.Errorf("event %v", ev)
	}
}

func TestNeverBlocks(t *testing.T) {
	cs, _ := clienttest.New(t)
	r := record.New(cs, record.Options{Component: "x", QueueSize: 2})
	pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "ns", Name: "web"}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10 { // not running: the queue fills up
			r.Eventf(pod, record.Normal, "R", "m")
		}
		r.Eventf(nil, record.Normal, "R", "nil object is dropped")
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Eventf blocked")
	}
	if r.Dropped() != 8 {
		t.Errorf("Dropped = %d, want 8", r.Dropped())
	}
}

func TestRecordtest(t *testing.T) {
	var r recordtest.Recorder
	var _ record.EventRecorder = &r
	r.Eventf(&corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "ns", Name: "p"}}, record.Normal, "Pulled", "image %s", "busybox")
	if diff := cmp.Diff([]string{"Normal Pulled image busybox"}, r.Events()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ns/p"}, r.Objects()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
