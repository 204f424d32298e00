package queue

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/schedtest"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Step(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func byPriority(a, b *framework.QueuedPodInfo) bool {
	return a.Priority() > b.Priority() || a.Priority() == b.Priority() && a.Timestamp.Before(b.Timestamp)
}

func newQueue() (*Queue, *fakeClock) {
	clk := &fakeClock{now: time.Unix(1000, 0)}
	return New(byPriority, Options{Now: clk.Now}), clk
}

func pod(name string, prio int32) *corev1.Pod { return schedtest.MakePod(name).Priority(prio).Obj() }

func TestPopOrder(t *testing.T) {
	q, clk := newQueue()
	q.Add(pod("low", 1))
	clk.Step(time.Millisecond)
	q.Add(pod("high", 10))
	clk.Step(time.Millisecond)
	q.Add(pod("low-later", 1))
	var got []string
	for range 3 {
		p := q.Pop()
		got = append(got, p.Pod.GetMetadata().GetName())
		q.Done(p.Key)
	}
	if d := cmp.Diff([]string{"high", "low", "low-later"}, got); d != "" {
		t.Errorf("pop order (-want +got):\n%s", d)
	}
}

func TestBackoffDoublesToMax(t *testing.T) {
	q, _ := newQueue()
	p := &framework.QueuedPodInfo{PodInfo: framework.NewPodInfo(pod("p", 0))}
	var got []time.Duration
	for attempts := 1; attempts <= 6; attempts++ {
		p.Attempts = attempts
		got = append(got, q.backoffDuration(p))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("backoff (-want +got):\n%s", d)
	}
}

func TestUnschedulableMovesOnEvent(t *testing.T) {
	q, clk := newQueue()
	q.Add(pod("p", 0))
	p := q.Pop()
	cycle := q.SchedulingCycle()
	q.AddUnschedulable(p, cycle, false)
	if a, b, u := q.Len(); a != 0 || b != 0 || u != 1 {
		t.Fatalf("sets = %d/%d/%d, want the pod unschedulable", a, b, u)
	}
	// A node is added while the pod still backs off: back-off queue.
	q.MoveAllToActiveOrBackoff(NodeAdd)
	if a, b, u := q.Len(); a != 0 || b != 1 || u != 0 {
		t.Fatalf("sets = %d/%d/%d, want the pod backing off", a, b, u)
	}
	q.FlushBackoffCompleted()
	if a, _, _ := q.Len(); a != 0 {
		t.Fatal("flushed before the back-off expired")
	}
	clk.Step(1100 * time.Millisecond)
	q.FlushBackoffCompleted()
	if a, b, u := q.Len(); a != 1 || b != 0 || u != 0 {
		t.Fatalf("sets = %d/%d/%d, want the pod active", a, b, u)
	}
}

func TestMoveDuringCycleGoesToBackoff(t *testing.T) {
	q, _ := newQueue()
	q.Add(pod("p", 0))
	p := q.Pop()
	cycle := q.SchedulingCycle()
	// The cluster changes while the pod is being scheduled.
	q.MoveAllToActiveOrBackoff(NodeAdd)
	q.AddUnschedulable(p, cycle, false)
	if _, b, u := q.Len(); b != 1 || u != 0 {
		t.Errorf("backoff=%d unschedulable=%d, want the pod in back-off (the change may help it)", b, u)
	}
}

func TestErrorsGoToBackoff(t *testing.T) {
	q, _ := newQueue()
	q.Add(pod("p", 0))
	p := q.Pop()
	q.AddUnschedulable(p, q.SchedulingCycle(), true)
	if _, b, _ := q.Len(); b != 1 {
		t.Errorf("backoff = %d, want 1", b)
	}
}

func TestLeftoverUnschedulableRetried(t *testing.T) {
	q, clk := newQueue()
	q.Add(pod("p", 0))
	p := q.Pop()
	q.AddUnschedulable(p, q.SchedulingCycle(), false)
	clk.Step(DefaultMaxUnschedulableTime + time.Second)
	q.FlushUnschedulableLeftover()
	if a, _, u := q.Len(); a != 1 || u != 0 {
		t.Errorf("active=%d unschedulable=%d, want the pod active after %v", a, u, DefaultMaxUnschedulableTime)
	}
}

func TestUpdateAndDelete(t *testing.T) {
	q, _ := newQueue()
	q.Add(pod("p", 0))
	p := q.Pop()
	q.AddUnschedulable(p, q.SchedulingCycle(), false)
	old := p.Pod
	// A status-only change keeps it unschedulable.
	same := pod("p", 0)
	same.Status.Message = "x"
	q.Update(old, same)
	if _, _, u := q.Len(); u != 1 {
		t.Fatalf("unschedulable = %d after a status update, want 1", u)
	}
	// A spec change retries it.
	changed := pod("p", 0)
	changed.Spec.NodeSelector = map[string]string{"a": "b"}
	q.Update(old, changed)
	if a, b, u := q.Len(); a+b != 1 || u != 0 {
		t.Fatalf("sets = %d/%d/%d after a spec change, want it retried", a, b, u)
	}
	q.Delete(changed)
	if a, b, u := q.Len(); a+b+u != 0 {
		t.Fatalf("sets = %d/%d/%d after delete, want empty", a, b, u)
	}
}

func TestDeletedInFlightNotRequeued(t *testing.T) {
	q, _ := newQueue()
	q.Add(pod("p", 0))
	p := q.Pop()
	q.Delete(p.Pod)
	q.AddUnschedulable(p, q.SchedulingCycle(), false)
	if a, b, u := q.Len(); a+b+u != 0 {
		t.Errorf("sets = %d/%d/%d, want a pod deleted during its cycle gone", a, b, u)
	}
}

func TestPopBlocksUntilAddAndCloses(t *testing.T) {
	q, _ := newQueue()
	got := make(chan *framework.QueuedPodInfo)
	go func() { got <- q.Pop() }()
	select {
	case <-got:
		t.Fatal("Pop returned on an empty queue")
	case <-time.After(50 * time.Millisecond):
	}
	q.Add(pod("p", 0))
	if p := <-got; p == nil || p.Attempts != 1 {
		t.Fatalf("Pop = %+v, want the pod at its first attempt", p)
	}
	go func() { got <- q.Pop() }()
	q.Close()
	if p := <-got; p != nil {
		t.Fatal("Pop after Close returned a pod")
	}
}

func TestNominatedPods(t *testing.T) {
	q, _ := newQueue()
	a := framework.NewPodInfo(pod("a", 10))
	q.AddNominatedPod(a, "n1")
	q.AddNominatedPod(a, "n2")
	if len(q.NominatedPodsForNode("n1")) != 0 || len(q.NominatedPodsForNode("n2")) != 1 {
		t.Fatal("a pod is nominated to one node at a time")
	}
	q.DeleteNominatedPod(a.Key)
	if q.HasNominatedPods() {
		t.Fatal("nomination not deleted")
	}
}
