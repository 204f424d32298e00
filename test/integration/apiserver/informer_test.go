package apiserver

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/informer"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
	"github.com/gantryhq/gantry/test/integration/framework"
)

// gatedLW lets a test cut an informer's watch and hold its next one until
// released, so that the revision it resumes from can be compacted meanwhile.
type gatedLW struct {
	*client.Typed[*coordinationv1.Lease]
	mu      sync.Mutex
	gate    chan struct{}
	current *client.Watcher[*coordinationv1.Lease]
	watches int
}

func (g *gatedLW) Watch(ctx context.Context, opts client.WatchOptions) (*client.Watcher[*coordinationv1.Lease], error) {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	w, err := g.Typed.Watch(ctx, opts)
	g.mu.Lock()
	g.current = w
	g.watches++
	g.mu.Unlock()
	return w, err
}

// cut stops the current watch and holds the next one until the returned
// release is called.
func (g *gatedLW) cut() (release func()) {
	gate := make(chan struct{})
	g.mu.Lock()
	g.gate = gate
	w := g.current
	g.mu.Unlock()
	w.Stop()
	return func() {
		g.mu.Lock()
		g.gate = nil
		g.mu.Unlock()
		close(gate)
	}
}

// waitConverged waits until the informer's cache holds exactly what a fresh
// List returns.
func waitConverged(t *testing.T, ctx context.Context, inf *informer.Informer[*coordinationv1.Lease], leases *client.Typed[*coordinationv1.Lease]) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var diff string
	for time.Now().Before(deadline) {
		list, err := leases.List(ctx, client.ListOptions{})
		if err == nil {
			cached := inf.Lister().List(nil)
			if diff = compareObjects(list.Items, cached); diff == "" {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("informer cache never equalled a fresh List: %s", diff)
}

func compareObjects(want, got []*coordinationv1.Lease) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d objects in List, %d in the cache", len(want), len(got))
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Metadata.Name < got[j].Metadata.Name })
	sort.Slice(want, func(i, j int) bool { return want[i].Metadata.Name < want[j].Metadata.Name })
	for i := range want {
		if !proto.Equal(want[i], got[i]) {
			return fmt.Sprintf("%s differs", want[i].Metadata.Name)
		}
	}
	return ""
}

func mutateLeases(t *testing.T, ctx context.Context, leases *client.Typed[*coordinationv1.Lease], round int) {
	t.Helper()
	for i := 0; i < 20; i++ {
		if _, err := leases.Create(ctx, &coordinationv1.Lease{Metadata: &metav1.ObjectMeta{Name: fmt.Sprintf("r%d-%d", round, i)}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 10; i++ {
		if err := leases.Delete(ctx, fmt.Sprintf("base-%d", round*10+i), client.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		name := fmt.Sprintf("r%d-%d", round, i)
		l, err := leases.Get(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		l.Spec = &coordinationv1.LeaseSpec{HolderIdentity: ptr("holder")}
		if _, err := leases.Update(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
}

func startLeaseInformer(t *testing.T, ctx context.Context, lw informer.ListerWatcher[*coordinationv1.Lease]) *informer.Informer[*coordinationv1.Lease] {
	t.Helper()
	inf := informer.New[*coordinationv1.Lease](lw, informer.Options{MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond})
	go inf.Run(ctx)
	deadline := time.Now().Add(30 * time.Second)
	for !inf.HasSynced() {
		if time.Now().After(deadline) {
			t.Fatal("informer did not sync")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return inf
}

// TestInformerRelistsAfterCompaction: the informer's watch resumes from a
// compacted revision, gets OUT_OF_RANGE, relists, and its cache equals a
// fresh List.
func TestInformerRelistsAfterCompaction(t *testing.T) {
	s := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leases := cs.Leases("default")
	for i := 0; i < 30; i++ {
		if _, err := leases.Create(ctx, &coordinationv1.Lease{Metadata: &metav1.ObjectMeta{Name: fmt.Sprintf("base-%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	lw := &gatedLW{Typed: leases}
	inf := startLeaseInformer(t, ctx, lw)
	waitConverged(t, ctx, inf, leases)

	release := lw.cut()
	mutateLeases(t, ctx, leases, 0)
	s.Compact(ctx)
	// The resumed watch must now fail: its revision is gone.
	if _, err := leases.Watch(ctx, client.WatchOptions{ResourceVersion: inf.LastSyncResourceVersion()}); err == nil {
		// The error may arrive on the first Next rather than at open.
		w, _ := leases.Watch(ctx, client.WatchOptions{ResourceVersion: inf.LastSyncResourceVersion()})
		if _, err := w.Next(); !client.IsGone(err) {
			t.Fatalf("watch from the compacted revision: %v, want OUT_OF_RANGE", err)
		}
		w.Stop()
	}
	release()
	waitConverged(t, ctx, inf, leases)
}

// TestInformerSurvivesAPIServerRestart: changes made after a restart reach
// the cache.
func TestInformerSurvivesAPIServerRestart(t *testing.T) {
	s := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leases := cs.Leases("default")
	for i := 0; i < 30; i++ {
		if _, err := leases.Create(ctx, &coordinationv1.Lease{Metadata: &metav1.ObjectMeta{Name: fmt.Sprintf("base-%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	inf := startLeaseInformer(t, ctx, leases)
	waitConverged(t, ctx, inf, leases)
	s.Restart()
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, err = leases.List(ctx, client.ListOptions{}); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("apiserver not back after restart: %v", err)
	}
	mutateLeases(t, ctx, leases, 1)
	waitConverged(t, ctx, inf, leases)
}
