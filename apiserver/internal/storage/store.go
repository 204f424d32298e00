package storage

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Errors a Store returns. Callers test them with errors.Is.
var (
	// ErrNotFound: no object under the key.
	ErrNotFound = errors.New("not found")
	// ErrExists: a create found the key taken.
	ErrExists = errors.New("already exists")
	// ErrConflict: the object changed since the revision the write expected.
	ErrConflict = errors.New("conflict")
	// ErrCompacted: the requested revision is no longer kept.
	ErrCompacted = errors.New("compacted")
)

// KV is one stored object: its key, protobuf bytes and the revision that
// last modified it.
type KV struct {
	Key         string
	Value       []byte
	ModRevision int64
}

// Store reads and writes objects in etcd. All writes are transactions
// conditioned on the revision the caller read, so a concurrent writer's
// change is never overwritten.
type Store struct {
	cli    *clientv3.Client
	ttls   []prefixTTL
	leases *leases
}

// New returns a Store over an etcd client. The client stays the caller's.
func New(cli *clientv3.Client, opts ...Option) *Store {
	s := &Store{cli: cli, leases: newLeases(cli)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Client returns the etcd client, for maintenance (compaction) only.
func (s *Store) Client() *clientv3.Client { return s.cli }

// Get reads one key. It fails with ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) (KV, error) {
	resp, err := s.cli.Get(ctx, key)
	if err != nil {
		return KV{}, mapErr(err)
	}
	if len(resp.Kvs) == 0 {
		return KV{}, ErrNotFound
	}
	return toKV(resp.Kvs[0]), nil
}

// ListResult is one page of a range read.
type ListResult struct {
	KVs []KV
	// Revision the page was read at.
	Revision int64
	// More is true when keys remain after the last one returned.
	More bool
	// Remaining is how many keys remain after this page.
	Remaining int64
}

// List reads the keys under prefix in key order, starting at startKey (or the
// prefix itself when empty), at most limit of them (0: all), at revision rev
// (0: the current one). A compacted rev fails with ErrCompacted.
func (s *Store) List(ctx context.Context, prefix, startKey string, rev, limit int64) (ListResult, error) {
	if startKey == "" {
		startKey = prefix
	}
	opts := []clientv3.OpOption{clientv3.WithRange(clientv3.GetPrefixRangeEnd(prefix))}
	if rev > 0 {
		opts = append(opts, clientv3.WithRev(rev))
	}
	if limit > 0 {
		opts = append(opts, clientv3.WithLimit(limit))
	}
	resp, err := s.cli.Get(ctx, startKey, opts...)
	if err != nil {
		return ListResult{}, mapErr(err)
	}
	out := ListResult{KVs: make([]KV, len(resp.Kvs)), Revision: resp.Header.Revision, More: resp.More}
	for i, kv := range resp.Kvs {
		out.KVs[i] = toKV(kv)
	}
	if resp.More {
		out.Remaining = resp.Count - int64(len(resp.Kvs))
	}
	return out, nil
}

// Cond is an extra condition a create must satisfy, such as "the namespace
// key exists". A failed Cond makes Create return the Cond's Err.
type Cond struct {
	Key    string
	Exists bool
	Err    error
}

// Create stores value under key if the key is free and every cond holds. It
// returns the new revision; ErrExists when the key is taken.
func (s *Store) Create(ctx context.Context, key string, value []byte, conds ...Cond) (int64, error) {
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), "=", 0)}
	for _, c := range conds {
		op := "="
		if c.Exists {
			op = ">"
		}
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(c.Key), op, 0))
	}
	resp, err := s.put(ctx, key, string(value), func(put clientv3.Op) clientv3.Txn {
		txn := s.cli.Txn(ctx).If(cmps...).Then(put)
		if len(conds) > 0 {
			elses := []clientv3.Op{clientv3.OpGet(key, clientv3.WithCountOnly())}
			for _, c := range conds {
				elses = append(elses, clientv3.OpGet(c.Key, clientv3.WithCountOnly()))
			}
			txn = txn.Else(elses...)
		}
		return txn
	})
	if err != nil {
		return 0, mapErr(err)
	}
	if resp.Succeeded {
		return resp.Header.Revision, nil
	}
	if len(conds) == 0 || resp.Responses[0].GetResponseRange().Count > 0 {
		return 0, ErrExists
	}
	for i, c := range conds {
		found := resp.Responses[i+1].GetResponseRange().Count > 0
		if found != c.Exists {
			return 0, c.Err
		}
	}
	return 0, ErrExists
}

// Update replaces the value under key if it was last modified at expectedRev.
// It returns the new revision; ErrConflict when the key changed, ErrNotFound
// when it is gone.
func (s *Store) Update(ctx context.Context, key string, value []byte, expectedRev int64) (int64, error) {
	resp, err := s.put(ctx, key, string(value), func(put clientv3.Op) clientv3.Txn {
		return s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", expectedRev)).
			Then(put).
			Else(clientv3.OpGet(key, clientv3.WithCountOnly()))
	})
	if err != nil {
		return 0, mapErr(err)
	}
	if resp.Succeeded {
		return resp.Header.Revision, nil
	}
	if resp.Responses[0].GetResponseRange().Count == 0 {
		return 0, ErrNotFound
	}
	return 0, ErrConflict
}

// Delete removes key if it was last modified at expectedRev. It returns the
// deleting revision; ErrConflict or ErrNotFound as Update does.
func (s *Store) Delete(ctx context.Context, key string, expectedRev int64) (int64, error) {
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", expectedRev)).
		Then(clientv3.OpDelete(key)).
		Else(clientv3.OpGet(key, clientv3.WithCountOnly())).
		Commit()
	if err != nil {
		return 0, mapErr(err)
	}
	if resp.Succeeded {
		return resp.Header.Revision, nil
	}
	if resp.Responses[0].GetResponseRange().Count == 0 {
		return 0, ErrNotFound
	}
	return 0, ErrConflict
}

// Revision returns the store's current revision.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	resp, err := s.cli.Get(ctx, "/registry/", clientv3.WithCountOnly(), clientv3.WithLimit(1))
	if err != nil {
		return 0, mapErr(err)
	}
	return resp.Header.Revision, nil
}

// Compact discards revisions before rev. Watches and lists from them fail
// with ErrCompacted afterwards.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	_, err := s.cli.Compact(ctx, rev)
	if err != nil && !errors.Is(err, rpctypes.ErrCompacted) {
		return fmt.Errorf("compact to %d: %w", rev, mapErr(err))
	}
	return nil
}

func toKV(kv *mvccpb.KeyValue) KV {
	return KV{Key: string(kv.Key), Value: kv.Value, ModRevision: kv.ModRevision}
}

func mapErr(err error) error {
	if errors.Is(err, rpctypes.ErrCompacted) || errors.Is(err, rpctypes.ErrGRPCCompacted) {
		return ErrCompacted
	}
	return err
}
