package informer

import (
	"context"
	"reflect"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Filter restricts a shared informer to a namespace and selectors. The zero
// Filter is every object of every namespace.
type Filter struct {
	Namespace     string
	LabelSelector string
	FieldSelector string
}

// Factory hands out shared informers: one per Go type, resource and filter.
// It is safe for concurrent use.
type Factory struct {
	cs   *client.Clientset
	opts Options

	mu        sync.Mutex
	informers map[factoryKey]runnable
	started   map[factoryKey]bool
	wg        sync.WaitGroup
}

type factoryKey struct {
	typ      reflect.Type
	resource string
	filter   Filter
}

type runnable interface {
	Run(ctx context.Context)
	HasSynced() bool
}

// FactoryOption changes a Factory.
type FactoryOption func(*Factory)

// WithLogger sets the logger of the factory's informers.
func WithLogger(l *zap.Logger) FactoryOption { return func(f *Factory) { f.opts.Logger = l } }

// WithPageSize sets the list page size of the factory's informers.
func WithPageSize(n int64) FactoryOption { return func(f *Factory) { f.opts.PageSize = n } }

// WithBackoff sets the retry back-off bounds of the factory's informers.
func WithBackoff(minDelay, maxDelay time.Duration) FactoryOption {
	return func(f *Factory) { f.opts.MinBackoff, f.opts.MaxBackoff = minDelay, maxDelay }
}

// NewFactory returns a factory of informers over cs.
func NewFactory(cs *client.Clientset, opts ...FactoryOption) *Factory {
	f := &Factory{cs: cs, informers: map[factoryKey]runnable{}, started: map[factoryKey]bool{}}
	for _, o := range opts {
		o(f)
	}
	if f.opts.Logger == nil {
		f.opts.Logger = zap.NewNop()
	}
	return f
}

// For returns the factory's informer of every T in every namespace.
func For[T scheme.Object](f *Factory) *Informer[T] { return Filtered[T](f, Filter{}) }

// Filtered returns the factory's informer of the T that filter selects (the
// kubelet's pods: Filter{FieldSelector: "spec.nodeName=" + node}).
func Filtered[T scheme.Object](f *Factory, filter Filter) *Informer[T] {
	var zero T
	if any(zero) == nil {
		panic("informer.Filtered: T must be a kind's message type; use ForResource for untyped informers")
	}
	res, ok := scheme.ForMessage(zero)
	if !ok {
		panic("informer.Filtered: T is not a kind in the scheme")
	}
	return shared(f, res, filter, func() ListerWatcher[T] { return client.For[T](f.cs, filter.Namespace) })
}

// ForResource returns the factory's untyped informer of res, for code that
// picks resources at run time (the garbage collector).
func ForResource(f *Factory, res *scheme.Resource, filter Filter) *Informer[scheme.Object] {
	return shared(f, res, filter, func() ListerWatcher[scheme.Object] { return f.cs.Resource(res, filter.Namespace) })
}

func shared[T scheme.Object](f *Factory, res *scheme.Resource, filter Filter, lw func() ListerWatcher[T]) *Informer[T] {
	if !res.Namespaced {
		filter.Namespace = ""
	}
	key := factoryKey{typ: reflect.TypeFor[T](), resource: res.Name, filter: filter}
	f.mu.Lock()
	defer f.mu.Unlock()
	if inf, ok := f.informers[key]; ok {
		return inf.(*Informer[T])
	}
	opts := f.opts
	opts.LabelSelector, opts.FieldSelector = filter.LabelSelector, filter.FieldSelector
	opts.Logger = f.opts.Logger.Named("informer")
	inf := New(lw(), opts)
	f.informers[key] = inf
	return inf
}

// Start runs every informer made so far that is not yet running, until ctx
// ends. Call it again after making more informers.
func (f *Factory) Start(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for key, inf := range f.informers {
		if f.started[key] {
			continue
		}
		f.started[key] = true
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			inf.Run(ctx)
		}()
	}
}

// WaitForCacheSync waits until every started informer has synced. It
// returns false if ctx ends first.
func (f *Factory) WaitForCacheSync(ctx context.Context) bool {
	f.mu.Lock()
	var fns []func() bool
	for key, inf := range f.informers {
		if f.started[key] {
			fns = append(fns, inf.HasSynced)
		}
	}
	f.mu.Unlock()
	return WaitForCacheSync(ctx, fns...)
}

// Shutdown waits for every started informer to stop; cancel the context
// given to Start first.
func (f *Factory) Shutdown() { f.wg.Wait() }

// WaitForCacheSync polls the hasSynced functions (informers' HasSynced)
// until all are true, or ctx ends (then it returns false).
func WaitForCacheSync(ctx context.Context, hasSynced ...func() bool) bool {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		all := true
		for _, fn := range hasSynced {
			if !fn() {
				all = false
				break
			}
		}
		if all {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

// Namespaces is the shared informer of every namespace.
func (f *Factory) Namespaces() *Informer[*corev1.Namespace] { return For[*corev1.Namespace](f) }

// Pods is the shared informer of every pod.
func (f *Factory) Pods() *Informer[*corev1.Pod] { return For[*corev1.Pod](f) }

// Nodes is the shared informer of every node.
func (f *Factory) Nodes() *Informer[*corev1.Node] { return For[*corev1.Node](f) }

// Services is the shared informer of every service.
func (f *Factory) Services() *Informer[*corev1.Service] { return For[*corev1.Service](f) }

// Endpoints is the shared informer of every endpoints object.
func (f *Factory) Endpoints() *Informer[*corev1.Endpoints] { return For[*corev1.Endpoints](f) }

// Events is the shared informer of every event.
func (f *Factory) Events() *Informer[*corev1.Event] { return For[*corev1.Event](f) }

// ReplicaSets is the shared informer of every replica set.
func (f *Factory) ReplicaSets() *Informer[*appsv1.ReplicaSet] { return For[*appsv1.ReplicaSet](f) }

// Deployments is the shared informer of every deployment.
func (f *Factory) Deployments() *Informer[*appsv1.Deployment] { return For[*appsv1.Deployment](f) }

// Jobs is the shared informer of every job.
func (f *Factory) Jobs() *Informer[*batchv1.Job] { return For[*batchv1.Job](f) }

// CronJobs is the shared informer of every cron job.
func (f *Factory) CronJobs() *Informer[*batchv1.CronJob] { return For[*batchv1.CronJob](f) }

// Leases is the shared informer of every lease.
func (f *Factory) Leases() *Informer[*coordinationv1.Lease] { return For[*coordinationv1.Lease](f) }
