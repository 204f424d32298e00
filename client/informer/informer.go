package informer

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/client/workqueue"
)

// ListerWatcher is what an informer lists and watches; *client.Typed[T] is
// one.
type ListerWatcher[T scheme.Object] interface {
	List(ctx context.Context, opts client.ListOptions) (*client.List[T], error)
	Watch(ctx context.Context, opts client.WatchOptions) (*client.Watcher[T], error)
}

// Options tune an informer. The zero value is usable.
type Options struct {
	// LabelSelector and FieldSelector restrict what the informer lists and
	// watches; the cache holds only matching objects.
	LabelSelector string
	FieldSelector string
	// PageSize is the page size of a list (default 500).
	PageSize int64
	// MinBackoff and MaxBackoff bound the wait before listing or watching
	// again after an error (defaults 100ms and 30s); it doubles, with
	// jitter, while errors repeat.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// Logger (default: none).
	Logger *zap.Logger
}

// Handler is told of changes to the cache. Nil functions are skipped. The
// objects are shared with the cache: do not change them.
type Handler[T scheme.Object] struct {
	// OnAdd is called for an object new to the cache, including every
	// object of the first list (and every cached object, for a handler
	// added later).
	OnAdd func(obj T)
	// OnUpdate is called when a cached object changes.
	OnUpdate func(oldObj, newObj T)
	// OnDelete is called when an object leaves the cache: with its final
	// state when a watch saw the deletion, or with its last cached state
	// when a relist found it gone.
	OnDelete func(obj T)
}

// Informer is a watch-backed cache of one resource; see the package
// documentation.
type Informer[T scheme.Object] struct {
	lw       ListerWatcher[T]
	opts     Options
	log      *zap.Logger
	store    *Indexer[T]
	resource string

	// mu orders cache changes with handler registration, so that every
	// handler sees every change exactly once.
	mu        sync.Mutex
	listeners []*listener[T]
	started   bool
	done      <-chan struct{} // the Run context's Done, once started
	wg        sync.WaitGroup  // listener goroutines

	synced atomic.Bool
	lastRV atomic.Value // string
}

// New returns an informer over lw; run it with [Informer.Run].
func New[T scheme.Object](lw ListerWatcher[T], opts Options) *Informer[T] {
	if opts.PageSize == 0 {
		opts.PageSize = 500
	}
	if opts.MinBackoff == 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	resource := "objects"
	if r, ok := lw.(interface{ Resource() *scheme.Resource }); ok {
		resource = r.Resource().GroupResource()
	}
	i := &Informer[T]{lw: lw, opts: opts, store: NewIndexer[T](), resource: resource,
		log: opts.Logger.With(zap.String("resource", resource))}
	i.lastRV.Store("")
	return i
}

// AddEventHandler registers h. A handler added while the informer runs is
// first told of every cached object as an Add.
func (i *Informer[T]) AddEventHandler(h Handler[T]) {
	i.mu.Lock()
	defer i.mu.Unlock()
	l := newListener(h)
	i.listeners = append(i.listeners, l)
	for _, o := range i.store.List() {
		l.add(notification[T]{op: opAdd, obj: o})
	}
	if i.started {
		i.startListener(l)
	}
}

// AddIndexers adds indices to the cache; see [Indexer.AddIndexers].
func (i *Informer[T]) AddIndexers(idx Indexers[T]) error { return i.store.AddIndexers(idx) }

// Indexer is the cache.
func (i *Informer[T]) Indexer() *Indexer[T] { return i.store }

// Lister reads the cache.
func (i *Informer[T]) Lister() Lister[T] { return NewLister(i.store, i.resource) }

// HasSynced reports whether the cache has been filled by a first list.
func (i *Informer[T]) HasSynced() bool { return i.synced.Load() }

// LastSyncResourceVersion is the last revision the cache is known to be
// current at.
func (i *Informer[T]) LastSyncResourceVersion() string { return i.lastRV.Load().(string) }

// Run fills and maintains the cache and calls the handlers until ctx ends,
// then returns once its goroutines have stopped. Run may be called once.
func (i *Informer[T]) Run(ctx context.Context) {
	i.mu.Lock()
	if i.started {
		i.mu.Unlock()
		panic("informer: Run called twice")
	}
	i.started = true
	i.done = ctx.Done()
	for _, l := range i.listeners {
		i.startListener(l)
	}
	i.mu.Unlock()
	defer i.wg.Wait()
	i.reflect(ctx)
}

func (i *Informer[T]) startListener(l *listener[T]) {
	i.wg.Add(1)
	go func() {
		defer i.wg.Done()
		l.run(i.done)
	}()
}

// reflect lists and watches until ctx ends.
func (i *Informer[T]) reflect(ctx context.Context) {
	bo := backoff{min: i.opts.MinBackoff, max: i.opts.MaxBackoff}
	for ctx.Err() == nil {
		rv, err := i.listAndReplace(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			i.log.Warn("list failed", zap.Error(err))
			bo.wait(ctx)
			continue
		}
		bo.reset()
		for ctx.Err() == nil {
			progressed, err := i.watch(ctx, &rv)
			if ctx.Err() != nil {
				return
			}
			if progressed {
				bo.reset()
			}
			if client.IsGone(err) {
				i.log.Info("watch revision compacted; listing again", zap.String("resourceVersion", rv), zap.Error(err))
				break
			}
			if errors.Is(err, io.EOF) {
				i.log.Debug("watch ended; watching again", zap.String("resourceVersion", rv))
			} else {
				i.log.Warn("watch failed; watching again", zap.String("resourceVersion", rv), zap.Error(err))
			}
			bo.wait(ctx)
		}
	}
}

// listAndReplace lists everything (in pages, all read at one revision) and
// makes the cache equal to it.
func (i *Informer[T]) listAndReplace(ctx context.Context) (string, error) {
	opts := client.ListOptions{LabelSelector: i.opts.LabelSelector, FieldSelector: i.opts.FieldSelector, Limit: i.opts.PageSize}
	var items []T
	var rv string
	for {
		page, err := i.lw.List(ctx, opts)
		if client.IsGone(err) && opts.Continue != "" {
			// The listing's revision was compacted between pages: list
			// once more, unpaged.
			i.log.Info("list continuation expired; listing without paging")
			opts.Limit, opts.Continue, items = 0, "", nil
			continue
		}
		if err != nil {
			return "", err
		}
		items = append(items, page.Items...)
		if opts.Continue == "" {
			rv = page.ResourceVersion
		}
		if page.Continue == "" {
			break
		}
		opts.Continue = page.Continue
	}
	i.replace(items, rv)
	return rv, nil
}

// replace makes the cache hold exactly items, telling handlers the
// difference.
func (i *Informer[T]) replace(items []T, rv string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	seen := make(map[string]struct{}, len(items))
	for _, o := range items {
		key := workqueue.KeyOf(o)
		seen[key] = struct{}{}
		if old, ok := i.store.Get(key); ok && old.GetMetadata().GetResourceVersion() == o.GetMetadata().GetResourceVersion() {
			continue
		}
		i.applyLocked(o)
	}
	for _, key := range i.store.ListKeys() {
		if _, ok := seen[key]; ok {
			continue
		}
		if old, ok := i.store.remove(key); ok {
			i.notifyLocked(notification[T]{op: opDelete, obj: old})
		}
	}
	i.lastRV.Store(rv)
	i.synced.Store(true)
}

// applyLocked stores o and tells handlers of an add or update.
func (i *Informer[T]) applyLocked(o T) {
	if old, existed := i.store.put(o); existed {
		i.notifyLocked(notification[T]{op: opUpdate, old: old, obj: o})
	} else {
		i.notifyLocked(notification[T]{op: opAdd, obj: o})
	}
}

func (i *Informer[T]) notifyLocked(n notification[T]) {
	for _, l := range i.listeners {
		l.add(n)
	}
}

// watch watches from *rv, applying events and advancing *rv, until the
// stream ends. progressed reports whether any event arrived.
func (i *Informer[T]) watch(ctx context.Context, rv *string) (progressed bool, err error) {
	w, err := i.lw.Watch(ctx, client.WatchOptions{
		ResourceVersion: *rv,
		LabelSelector:   i.opts.LabelSelector,
		FieldSelector:   i.opts.FieldSelector,
		AllowBookmarks:  true,
	})
	if err != nil {
		return false, err
	}
	defer w.Stop()
	for {
		ev, err := w.Next()
		if err != nil {
			return progressed, err
		}
		progressed = true
		switch ev.Type {
		case client.Added, client.Modified:
			i.mu.Lock()
			i.applyLocked(ev.Object)
			i.mu.Unlock()
		case client.Deleted:
			i.mu.Lock()
			if _, ok := i.store.remove(workqueue.KeyOf(ev.Object)); ok {
				i.notifyLocked(notification[T]{op: opDelete, obj: ev.Object})
			}
			i.mu.Unlock()
		}
		if ev.ResourceVersion != "" {
			*rv = ev.ResourceVersion
			i.lastRV.Store(*rv)
		}
	}
}

type op int

const (
	opAdd op = iota
	opUpdate
	opDelete
)

type notification[T scheme.Object] struct {
	op       op
	old, obj T
}

// listener delivers notifications to one handler from an unbounded buffer,
// so that the informer never waits for a handler.
type listener[T scheme.Object] struct {
	h       Handler[T]
	mu      sync.Mutex
	pending []notification[T]
	wake    chan struct{}
}

func newListener[T scheme.Object](h Handler[T]) *listener[T] {
	return &listener[T]{h: h, wake: make(chan struct{}, 1)}
}

func (l *listener[T]) add(n notification[T]) {
	l.mu.Lock()
	l.pending = append(l.pending, n)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *listener[T]) run(done <-chan struct{}) {
	for {
		l.mu.Lock()
		batch := l.pending
		l.pending = nil
		l.mu.Unlock()
		for _, n := range batch {
			select {
			case <-done:
				return
			default:
			}
			l.dispatch(n)
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-done:
			return
		case <-l.wake:
		}
	}
}

func (l *listener[T]) dispatch(n notification[T]) {
	switch n.op {
	case opAdd:
		if l.h.OnAdd != nil {
			l.h.OnAdd(n.obj)
		}
	case opUpdate:
		if l.h.OnUpdate != nil {
			l.h.OnUpdate(n.old, n.obj)
		}
	case opDelete:
		if l.h.OnDelete != nil {
			l.h.OnDelete(n.obj)
		}
	}
}

// backoff is a jittered exponential back-off.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) reset() { b.cur = 0 }

func (b *backoff) wait(ctx context.Context) {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	d := b.cur + time.Duration(rand.Int64N(int64(b.cur)/2+1))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
