package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	"go.uber.org/zap"

	"github.com/gantryhq/gantry/apiserver/internal/storage"
	"github.com/gantryhq/gantry/client/scheme"
)

// Watch event types, as Kubernetes names them.
const (
	Added    = "ADDED"
	Modified = "MODIFIED"
	Deleted  = "DELETED"
	Bookmark = "BOOKMARK"
)

// WatchEvent is one change sent to a watcher.
type WatchEvent struct {
	Type string
	// Object is nil for a Bookmark.
	Object proto.Message
	// ResourceVersion is the event's revision.
	ResourceVersion int64
}

// WatchOptions pick what a watch sees.
type WatchOptions struct {
	Namespace string
	Selector  Selector
	// ResourceVersion to watch after; "" or "0" first sends the current
	// objects as ADDED.
	ResourceVersion string
	// Bookmarks asks for BOOKMARK events; they come as often as
	// RequestProgressEvery asks etcd for progress.
	Bookmarks bool
}

// RequestProgressEvery asks etcd, every interval until ctx ends, to tell
// every watch how far it has seen; watches that asked for bookmarks pass
// that on as BOOKMARK events. One ticker serves all watches.
func (r *Registry) RequestProgressEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.store.RequestProgress(ctx); err != nil && ctx.Err() == nil {
				r.logger.Debug("request watch progress", zap.Error(err))
			}
		}
	}
}

// Watch streams changes to send until ctx ends or send fails. It returns a
// ReasonGone error when the revision is compacted.
func (r *Registry) Watch(ctx context.Context, res *scheme.Resource, opts WatchOptions, send func(WatchEvent) error) error {
	var rev int64
	if opts.ResourceVersion == "" || opts.ResourceVersion == "0" {
		list, err := r.List(ctx, res, ListOptions{Namespace: opts.Namespace, Selector: opts.Selector})
		if err != nil {
			return err
		}
		for _, obj := range list.Items {
			if err := send(WatchEvent{Type: Added, Object: obj, ResourceVersion: list.ResourceVersion}); err != nil {
				return err
			}
		}
		rev = list.ResourceVersion
	} else {
		v, err := strconv.ParseInt(opts.ResourceVersion, 10, 64)
		if err != nil || v < 0 {
			return errBadRequest("invalid resourceVersion %q", opts.ResourceVersion)
		}
		rev = v
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := r.store.Watch(ctx, Prefix(res, opts.Namespace), rev)
	defer w.Close()

	for {
		events, err := w.Next()
		if errors.Is(err, storage.ErrCompacted) {
			return errGone(fmt.Sprintf("too old resource version: %d (%v)", rev, err))
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		for _, ev := range events {
			out, ok, err := r.translate(res, opts.Selector, ev)
			if err != nil {
				return err
			}
			if ev.Type == storage.Progress {
				if !opts.Bookmarks {
					continue
				}
				out = WatchEvent{Type: Bookmark, ResourceVersion: ev.Revision}
				ok = true
			}
			if !ok {
				continue
			}
			if err := send(out); err != nil {
				return err
			}
		}
	}
}

// translate turns a storage event into what a watcher with sel sees: an
// object that starts matching is ADDED, one that stops matching DELETED.
func (r *Registry) translate(res *scheme.Resource, sel Selector, ev storage.Event) (WatchEvent, bool, error) {
	switch ev.Type {
	case storage.Progress:
		return WatchEvent{}, false, nil
	case storage.Delete:
		obj, err := r.decode(res, ev.KV)
		if err != nil {
			return WatchEvent{}, false, err
		}
		if !sel.Matches(obj) {
			return WatchEvent{}, false, nil
		}
		return WatchEvent{Type: Deleted, Object: obj, ResourceVersion: ev.Revision}, true, nil
	}
	obj, err := r.decode(res, ev.KV)
	if err != nil {
		return WatchEvent{}, false, err
	}
	cur := sel.Matches(obj)
	prev := ev.Prev != nil
	if prev && !sel.Empty() {
		old, err := r.decode(res, *ev.Prev)
		if err != nil {
			return WatchEvent{}, false, err
		}
		prev = sel.Matches(old)
	}
	switch {
	case cur && prev:
		return WatchEvent{Type: Modified, Object: obj, ResourceVersion: ev.Revision}, true, nil
	case cur:
		return WatchEvent{Type: Added, Object: obj, ResourceVersion: ev.Revision}, true, nil
	case prev:
		return WatchEvent{Type: Deleted, Object: obj, ResourceVersion: ev.Revision}, true, nil
	}
	return WatchEvent{}, false, nil
}
