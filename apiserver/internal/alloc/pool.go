package alloc

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/gantryhq/gantry/apiserver/internal/storage"
)

// Key prefixes of allocated values.
const (
	IPPrefix   = "/registry/ranges/serviceips/"
	PortPrefix = "/registry/ranges/servicenodeports/"
)

// errTaken: the value is held by someone.
var errTaken = errors.New("already allocated")

// errFull: every value of the range is held.
var errFull = errors.New("range is full")

// pool is one range of values, each allocated value an etcd key.
type pool struct {
	store  *storage.Store
	prefix string
	size   uint64
	// name is the value at an offset (an IP or a port, as text).
	name func(offset uint64) string
	// reserved offsets below it are given out only on request (the first
	// service IP is kept for the "kubernetes" service, as in Kubernetes).
	reserved uint64
}

// owner is who holds a value: a Service's uid and, for people reading etcd,
// its namespace/name.
type owner struct{ uid, name string }

func (o owner) value() string { return o.uid + " " + o.name }

func ownerUID(value []byte) string {
	uid, _, _ := strings.Cut(string(value), " ")
	return uid
}

// taken is one value reserved by this request.
type taken struct {
	pool *pool
	name string
	rev  int64
}

// planned is what a dry run would take: the keys it found free and
// picked, so that one request is never given a value twice. nil: not a
// dry run.
type planned map[string]bool

// reserve takes name for o; errTaken when it is held. A dry run (dry not
// nil) only checks that name is free and not planned already, and plans
// it.
func (p *pool) reserve(ctx context.Context, name string, o owner, dry planned) (taken, error) {
	if dry != nil {
		key := p.prefix + name
		if dry[key] {
			return taken{}, errTaken
		}
		_, err := p.store.Get(ctx, key)
		if err == nil {
			return taken{}, errTaken
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return taken{}, fmt.Errorf("check %s: %w", key, err)
		}
		dry[key] = true
		return taken{name: name}, nil
	}
	rev, err := p.store.Create(ctx, p.prefix+name, []byte(o.value()))
	if errors.Is(err, storage.ErrExists) {
		return taken{}, errTaken
	}
	if err != nil {
		return taken{}, fmt.Errorf("reserve %s%s: %w", p.prefix, name, err)
	}
	return taken{pool: p, name: name, rev: rev}, nil
}

// next takes a free value at random: a few random tries, then a scan of
// what is held (only when the range is nearly full). A dry run only plans
// one.
func (p *pool) next(ctx context.Context, o owner, dry planned) (taken, error) {
	lo, n := p.reserved, p.size-p.reserved
	if p.size <= p.reserved {
		lo, n = 0, p.size
	}
	for range 16 {
		t, err := p.reserve(ctx, p.name(lo+randUint64(n)), o, dry)
		if !errors.Is(err, errTaken) {
			return t, err
		}
	}
	page, err := p.store.List(ctx, p.prefix, "", 0, 0)
	if err != nil {
		return taken{}, fmt.Errorf("list %s: %w", p.prefix, err)
	}
	held := make(map[string]bool, len(page.KVs))
	for _, kv := range page.KVs {
		held[strings.TrimPrefix(kv.Key, p.prefix)] = true
	}
	// Dynamic values first, then the reserved ones.
	for _, span := range [][2]uint64{{lo, n}, {0, lo}} {
		if span[1] == 0 {
			continue
		}
		start := randUint64(span[1])
		for i := uint64(0); i < span[1]; i++ {
			name := p.name(span[0] + (start+i)%span[1])
			if held[name] {
				continue
			}
			t, err := p.reserve(ctx, name, o, dry)
			if !errors.Is(err, errTaken) {
				return t, err
			}
		}
	}
	return taken{}, errFull
}

// undo deletes a value this request reserved, if still as reserved.
func (t taken) undo(ctx context.Context) error {
	if t.pool == nil {
		return nil // a dry run's
	}
	_, err := t.pool.store.Delete(ctx, t.pool.prefix+t.name, t.rev)
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrConflict) {
		return nil
	}
	return err
}

// free deletes name if uid holds it; a value held by another is left.
func (p *pool) free(ctx context.Context, name, uid string) error {
	key := p.prefix + name
	for range 3 {
		kv, err := p.store.Get(ctx, key)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("free %s: %w", key, err)
		}
		if ownerUID(kv.Value) != uid {
			return nil
		}
		_, err = p.store.Delete(ctx, key, kv.ModRevision)
		if errors.Is(err, storage.ErrConflict) {
			continue
		}
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("free %s: %w", key, err)
		}
		return nil
	}
	return fmt.Errorf("free %s: changed concurrently", key)
}

func randUint64(n uint64) uint64 {
	if n <= 1 {
		return 0
	}
	v, _ := rand.Int(rand.Reader, new(big.Int).SetUint64(n))
	return v.Uint64()
}
