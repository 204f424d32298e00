package storage

import (
	"context"
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap/zaptest"
)

func startEmbedded(t *testing.T) *clientv3.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	e, err := StartEmbedded(ctx, t.TempDir(), zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e.Client
}

func leaseOf(t *testing.T, cli *clientv3.Client, key string) clientv3.LeaseID {
	t.Helper()
	resp, err := cli.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) == 0 {
		t.Fatalf("%s: not found", key)
	}
	return clientv3.LeaseID(resp.Kvs[0].Lease)
}

// TestTTLKeysExpire: keys under a TTL prefix carry a lease, share it
// within its reuse window, keep it across updates' new leases, and are
// deleted by etcd once it runs out; other keys carry none and stay.
func TestTTLKeysExpire(t *testing.T) {
	cli := startEmbedded(t)
	ctx := context.Background()
	s := New(cli, WithTTL("/registry/events/", 4*time.Second))

	if _, err := s.Create(ctx, "/registry/pods/default/p", []byte("pod")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "/registry/events/default/a", []byte("a")); err != nil {
		t.Fatal(err)
	}
	rev, err := s.Create(ctx, "/registry/events/default/b", []byte("b"))
	if err != nil {
		t.Fatal(err)
	}
	if id := leaseOf(t, cli, "/registry/pods/default/p"); id != 0 {
		t.Errorf("pod key has lease %x, want none", id)
	}
	a, b := leaseOf(t, cli, "/registry/events/default/a"), leaseOf(t, cli, "/registry/events/default/b")
	if a == 0 || a != b {
		t.Errorf("event leases %x and %x: want one shared lease", a, b)
	}
	ttl, err := cli.TimeToLive(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if ttl.TTL < 4 || ttl.GrantedTTL > 5 {
		t.Errorf("lease TTL %d s of %d granted: want 4 to 5 s", ttl.TTL, ttl.GrantedTTL)
	}

	// An update 2.5 s later gets a lease that outlives the first by as
	// much.
	time.Sleep(2500 * time.Millisecond)
	if _, err := s.Update(ctx, "/registry/events/default/b", []byte("b2"), rev); err != nil {
		t.Fatal(err)
	}
	if id := leaseOf(t, cli, "/registry/events/default/b"); id == a || id == 0 {
		t.Errorf("updated event has lease %x, want a new one (first %x)", id, a)
	}

	waitGone(t, s, "/registry/events/default/a")
	if _, err := s.Get(ctx, "/registry/events/default/b"); err != nil {
		t.Errorf("updated event gone with the first lease: %v", err)
	}
	waitGone(t, s, "/registry/events/default/b")
	if _, err := s.Get(ctx, "/registry/pods/default/p"); err != nil {
		t.Errorf("pod without TTL: %v", err)
	}
}

func waitGone(t *testing.T, s *Store, key string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := s.Get(context.Background(), key)
		if errors.Is(err, ErrNotFound) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still there (%v)", key, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTTLLostLease: a write whose cached lease etcd has lost gets a new
// lease instead of failing.
func TestTTLLostLease(t *testing.T) {
	cli := startEmbedded(t)
	ctx := context.Background()
	s := New(cli, WithTTL("/registry/events/", time.Hour))
	if _, err := s.Create(ctx, "/registry/events/default/a", []byte("a")); err != nil {
		t.Fatal(err)
	}
	first := leaseOf(t, cli, "/registry/events/default/a")
	if _, err := cli.Revoke(ctx, first); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "/registry/events/default/b", []byte("b")); err != nil {
		t.Fatalf("create after the lease was revoked: %v", err)
	}
	if id := leaseOf(t, cli, "/registry/events/default/b"); id == first || id == 0 {
		t.Errorf("lease %x after revoking %x", id, first)
	}
}

// TestLeaseReuse: a lease serves writes while it still outlives the TTL,
// for at most maxLeaseObjects of them.
func TestLeaseReuse(t *testing.T) {
	cli := startEmbedded(t)
	ctx := context.Background()
	l := newLeases(cli)
	now := time.Now()
	l.now = func() time.Time { return now }
	ttl := 100 * time.Second // reuse window: 5 s
	first, err := l.get(ctx, ttl)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(4 * time.Second)
	for range maxLeaseObjects - 1 {
		if id, err := l.get(ctx, ttl); err != nil || id != first {
			t.Fatalf("within the window and the object limit: %x, %v; want %x", id, err, first)
		}
	}
	full, err := l.get(ctx, ttl)
	if err != nil || full == first {
		t.Fatalf("object %d: lease %x, %v; want a new one", maxLeaseObjects+1, full, err)
	}
	now = now.Add(6 * time.Second)
	if id, err := l.get(ctx, ttl); err != nil || id == full {
		t.Fatalf("past the window: lease %x, %v; want a new one", id, err)
	}
	if id, err := l.get(ctx, time.Hour); err != nil || id == full {
		t.Fatalf("another TTL: lease %x, %v; want its own", id, err)
	}
}
