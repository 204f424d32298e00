package storage

import (
	"context"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// EventType is what happened to a key.
type EventType int

const (
	// Put: the key was created or modified.
	Put EventType = iota
	// Delete: the key was removed.
	Delete
	// Progress: no change; Revision says how far the watch has seen.
	Progress
)

// Event is one change seen by a watch.
type Event struct {
	Type EventType
	// KV is the new value (Put) or the deleted key with the deleting revision
	// and the last value (Delete).
	KV KV
	// Prev is the value before a Put that modified an existing key; nil for a
	// create.
	Prev *KV
	// Revision is the event's revision (for Progress, the store's).
	Revision int64
}

// Watch streams the changes under prefix after revision rev, in order, none
// skipped or repeated. The returned function reads the next batch of events;
// it fails with ErrCompacted when rev is no longer kept, and with the
// context's error when ctx ends. Progress asks etcd to report the current
// revision, which arrives as a Progress event.
type Watch struct {
	ch     clientv3.WatchChan
	cancel context.CancelFunc
	wctx   context.Context
}

// Watch starts a watch of prefix after rev.
func (s *Store) Watch(ctx context.Context, prefix string, rev int64) *Watch {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	ch := s.cli.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithPrevKV())
	return &Watch{ch: ch, cancel: cancel, wctx: wctx}
}

// Next blocks for the next batch of events.
func (w *Watch) Next() ([]Event, error) {
	resp, ok := <-w.ch
	if !ok {
		if err := w.wctx.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("etcd watch closed")
	}
	if resp.CompactRevision != 0 {
		return nil, fmt.Errorf("%w: oldest kept revision is %d", ErrCompacted, resp.CompactRevision)
	}
	if err := resp.Err(); err != nil {
		return nil, mapErr(err)
	}
	if resp.IsProgressNotify() {
		return []Event{{Type: Progress, Revision: resp.Header.Revision}}, nil
	}
	out := make([]Event, 0, len(resp.Events))
	for _, ev := range resp.Events {
		e := Event{KV: toKV(ev.Kv), Revision: ev.Kv.ModRevision}
		switch ev.Type {
		case mvccpb.DELETE:
			e.Type = Delete
			if ev.PrevKv != nil {
				e.KV.Value = ev.PrevKv.Value
			}
		default:
			e.Type = Put
			if ev.PrevKv != nil {
				p := toKV(ev.PrevKv)
				e.Prev = &p
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// Close stops the watch.
func (w *Watch) Close() { w.cancel() }

// RequestProgress asks etcd to send every watch of this store a Progress
// event with the current revision.
func (s *Store) RequestProgress(ctx context.Context) error {
	return s.cli.RequestProgress(clientv3.WithRequireLeader(ctx))
}
