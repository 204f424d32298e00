package leaderelection_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gantryhq/gantry/client/clienttest"
	"github.com/gantryhq/gantry/client/leaderelection"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
)

const (
	leaseDuration = 1 * time.Second
	renewDeadline = 500 * time.Millisecond
	retryPeriod   = 50 * time.Millisecond
)

// candidate is one elector with its own clientset (its token is its
// identity, so reactors can partition it from the server).
type candidate struct {
	id      string
	el      *leaderelection.Elector
	started atomic.Int32
	stopped atomic.Int32
	cancel  context.CancelFunc
	done    chan struct{}
}

// harness tracks how many candidates lead at once.
type harness struct {
	t       *testing.T
	srv     *clienttest.Server
	leading atomic.Int32
	maxSeen atomic.Int32

	mu          sync.Mutex
	partitioned map[string]bool
}

func newHarness(t *testing.T) *harness {
	srv := clienttest.NewServer()
	srv.Serve(t)
	h := &harness{t: t, srv: srv, partitioned: map[string]bool{}}
	srv.AddReactor(func(a clienttest.Action) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.partitioned[a.Token] {
			return status.Error(codes.Unavailable, "partitioned")
		}
		return nil
	})
	return h
}

func (h *harness) partition(id string, on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.partitioned[id] = on
}

func (h *harness) start(id string, release bool) *candidate {
	c := &candidate{id: id, done: make(chan struct{})}
	cs := h.srv.Clientset(h.t, id)
	el, err := leaderelection.New(leaderelection.Config{
		Leases:          cs.Leases("kube-system"),
		Name:            "scheduler",
		Identity:        id,
		LeaseDuration:   leaseDuration,
		RenewDeadline:   renewDeadline,
		RetryPeriod:     retryPeriod,
		ReleaseOnCancel: release,
		Callbacks: leaderelection.Callbacks{
			OnStartedLeading: func(ctx context.Context) {
				c.started.Add(1)
				n := h.leading.Add(1)
				if n > 1 {
					h.t.Errorf("%s started leading while %d others lead", id, n-1)
				}
				for {
					m := h.maxSeen.Load()
					if n <= m || h.maxSeen.CompareAndSwap(m, n) {
						break
					}
				}
				<-ctx.Done()
				h.leading.Add(-1)
			},
			OnStoppedLeading: func() { c.stopped.Add(1) },
		},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	c.el = el
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() {
		defer close(c.done)
		// Campaign again after losing, as a restarted daemon would.
		for ctx.Err() == nil {
			el.Run(ctx)
		}
	}()
	h.t.Cleanup(func() { cancel(); <-c.done })
	return c
}

func (h *harness) lease() *coordinationv1.Lease {
	o := h.srv.Object("leases", "kube-system", "scheduler")
	if o == nil {
		return nil
	}
	return o.(*coordinationv1.Lease)
}

func waitLeader(t *testing.T, cands []*candidate, exclude string) *candidate {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, c := range cands {
			if c.id != exclude && c.el.IsLeader() {
				return c
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no leader elected")
	return nil
}

func TestExclusivityUnderPartitions(t *testing.T) {
	h := newHarness(t)
	var cands []*candidate
	for i := range 3 {
		cands = append(cands, h.start(fmt.Sprintf("c%d", i), false))
	}
	leader := waitLeader(t, cands, "")
	for round := range 3 {
		// Cut the leader off: it must stop leading within the renew
		// deadline, and another must take over only after that.
		h.partition(leader.id, true)
		cutAt := time.Now()
		next := waitLeader(t, cands, leader.id)
		if took := time.Since(cutAt); took < renewDeadline {
			t.Errorf("round %d: %s took over after %v, before the old leader's renew deadline", round, next.id, took)
		}
		if leader.el.IsLeader() {
			t.Errorf("round %d: %s still leads while cut off", round, leader.id)
		}
		h.partition(leader.id, false)
		if got := h.lease().GetSpec().GetHolderIdentity(); got != next.id {
			t.Errorf("round %d: lease held by %q, want %q", round, got, next.id)
		}
		leader = next
	}
	if got := h.lease().GetSpec().GetLeaseTransitions(); got != 3 {
		t.Errorf("leaseTransitions = %d, want 3", got)
	}
	if m := h.maxSeen.Load(); m != 1 {
		t.Errorf("at most %d leaders at once, want 1", m)
	}
}

func TestTakeoverAfterExpiry(t *testing.T) {
	h := newHarness(t)
	a := h.start("a", false)
	waitLeader(t, []*candidate{a}, "")
	b := h.start("b", false)
	time.Sleep(3 * retryPeriod)
	if b.el.IsLeader() || b.el.Leader() != "a" {
		t.Fatalf("b: leader=%v sees %q", b.el.IsLeader(), b.el.Leader())
	}
	// a stops without releasing: b waits out the lease.
	stoppedAt := time.Now()
	a.cancel()
	<-a.done
	if a.stopped.Load() != 1 {
		t.Errorf("a: OnStoppedLeading called %d times", a.stopped.Load())
	}
	waitLeader(t, []*candidate{b}, "")
	if took := time.Since(stoppedAt); took < leaseDuration-2*retryPeriod {
		t.Errorf("b took over after %v, before the lease expired", took)
	}
}

func TestReleaseOnCancel(t *testing.T) {
	// On a starved machine a may lose the lease before it is cancelled,
	// leaving nothing to release; try again then, a few times at most.
	for attempt := 0; attempt < 3; attempt++ {
		h := newHarness(t)
		a := h.start("a", true)
		waitLeader(t, []*candidate{a}, "")
		b := h.start("b", false)
		time.Sleep(3 * retryPeriod)
		wasLeader := a.el.IsLeader()
		a.cancel()
		<-a.done
		if !wasLeader {
			t.Logf("attempt %d: a lost the lease before it was cancelled", attempt)
			b.cancel()
			<-b.done
			continue
		}
		if got := h.lease().GetSpec().GetHolderIdentity(); got != "" && got != "b" {
			t.Fatalf("after release the lease is held by %q", got)
		}
		releasedAt := time.Now()
		waitLeader(t, []*candidate{b}, "")
		if took := time.Since(releasedAt); took >= leaseDuration {
			t.Errorf("b took over after %v; a released the lease, so it should not wait %v", took, leaseDuration)
		}
		return
	}
	t.Fatal("a never held the lease when it was cancelled, in 3 attempts")
}

func TestConfigValidation(t *testing.T) {
	if _, err := leaderelection.New(leaderelection.Config{}); err == nil {
		t.Error("empty config accepted")
	}
	srv := clienttest.NewServer()
	srv.Serve(t)
	cs := srv.Clientset(t, "")
	_, err := leaderelection.New(leaderelection.Config{
		Leases: cs.Leases("kube-system"), Name: "x", Identity: "me",
		LeaseDuration: time.Second, RenewDeadline: 2 * time.Second,
		Callbacks: leaderelection.Callbacks{OnStartedLeading: func(context.Context) {}},
	})
	if err == nil {
		t.Error("RenewDeadline > LeaseDuration accepted")
	}
}
