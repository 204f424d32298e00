package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Option configures a Store.
type Option func(*Store)

// WithTTL makes the keys under prefix expire ttl after their last write
// (and at most a twentieth of ttl, or a minute, later), as kube-apiserver
// does for events with --event-ttl. etcd deletes them itself; watchers see
// the deletion.
func WithTTL(prefix string, ttl time.Duration) Option {
	return func(s *Store) {
		if ttl > 0 {
			s.ttls = append(s.ttls, prefixTTL{prefix: prefix, ttl: ttl})
		}
	}
}

type prefixTTL struct {
	prefix string
	ttl    time.Duration
}

// Granting an etcd lease per write would cost a round trip and a lease
// each; like kube-apiserver's lease manager, the writes of a short window
// share one lease, granted for the TTL plus that window, and a lease
// carries at most maxLeaseObjects keys so that its expiry deletes a
// bounded batch.
const (
	maxLeaseReuse   = time.Minute
	maxLeaseObjects = 1000
)

// leases hands out etcd leases by TTL.
type leases struct {
	cli *clientv3.Client
	now func() time.Time

	mu    sync.Mutex
	byTTL map[time.Duration]*grant
}

type grant struct {
	id      clientv3.LeaseID
	expires time.Time // by the local clock
	objects int
}

func newLeases(cli *clientv3.Client) *leases {
	return &leases{cli: cli, now: time.Now, byTTL: map[time.Duration]*grant{}}
}

// get returns a lease that lives at least ttl from now.
func (l *leases) get(ctx context.Context, ttl time.Duration) (clientv3.LeaseID, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if g := l.byTTL[ttl]; g != nil && g.expires.Sub(now) >= ttl && g.objects < maxLeaseObjects {
		g.objects++
		return g.id, nil
	}
	reuse := min(ttl/20, maxLeaseReuse)
	secs := int64((ttl + reuse + time.Second - 1) / time.Second) // rounded up
	resp, err := l.cli.Grant(ctx, secs)
	if err != nil {
		return 0, fmt.Errorf("grant a lease of %ds: %w", secs, err)
	}
	l.byTTL[ttl] = &grant{id: resp.ID, expires: now.Add(time.Duration(secs) * time.Second), objects: 1}
	return resp.ID, nil
}

// forget drops a lease etcd no longer knows (revoked, or expired early).
func (l *leases) forget(id clientv3.LeaseID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ttl, g := range l.byTTL {
		if g.id == id {
			delete(l.byTTL, ttl)
		}
	}
}

// ttlOf returns the TTL of key, 0 for none.
func (s *Store) ttlOf(key string) time.Duration {
	for _, p := range s.ttls {
		if strings.HasPrefix(key, p.prefix) {
			return p.ttl
		}
	}
	return 0
}

// put commits a transaction whose success branch puts value under key,
// attaching the key's lease when it has a TTL. build makes the transaction
// from the put. A lease etcd has lost is forgotten and the write tried
// once more with a new one.
func (s *Store) put(ctx context.Context, key, value string, build func(put clientv3.Op) clientv3.Txn) (*clientv3.TxnResponse, error) {
	ttl := s.ttlOf(key)
	if ttl == 0 {
		return build(clientv3.OpPut(key, value)).Commit()
	}
	commit := func() (clientv3.LeaseID, *clientv3.TxnResponse, error) {
		id, err := s.leases.get(ctx, ttl)
		if err != nil {
			return 0, nil, err
		}
		resp, err := build(clientv3.OpPut(key, value, clientv3.WithLease(id))).Commit()
		return id, resp, err
	}
	id, resp, err := commit()
	if errors.Is(err, rpctypes.ErrLeaseNotFound) {
		s.leases.forget(id)
		_, resp, err = commit()
	}
	return resp, err
}
