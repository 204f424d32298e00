package record

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// The event types.
const (
	Normal  = "Normal"
	Warning = "Warning"
)

// EventRecorder is what components record events through; *Recorder and
// recordtest.Recorder implement it.
type EventRecorder interface {
	// Event records an event about obj. It never blocks.
	Event(obj scheme.Object, eventType, reason, message string)
	// Eventf is Event with a formatted message.
	Eventf(obj scheme.Object, eventType, reason, messageFmt string, args ...any)
}

// Options configure a Recorder.
type Options struct {
	// Component is the reporting component ("scheduler", "kubelet"): the
	// event's source.component and reportingComponent. Required.
	Component string
	// Host is the node the component runs on (source.host), if any.
	Host string
	// Instance is the reportingInstance (default: Host).
	Instance string
	// QueueSize bounds the events waiting to be written (default 1000).
	QueueSize int
	// AggregationWindow is how long after its last occurrence an event is
	// counted rather than created again (default 10 minutes).
	AggregationWindow time.Duration
	// CacheSize bounds the events remembered for aggregation (default 4096).
	CacheSize int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger (default: none).
	Logger *zap.Logger
}

// Recorder writes events to the apiserver. It is safe for concurrent use.
type Recorder struct {
	cs      *client.Clientset
	opts    Options
	log     *zap.Logger
	queue   chan pending
	dropped atomic.Int64

	// Owned by Run's goroutine.
	cache map[string]*seen
}

var _ EventRecorder = (*Recorder)(nil)

type pending struct {
	ref       *corev1.ObjectReference
	eventType string
	reason    string
	message   string
	at        time.Time
}

type seen struct {
	event *corev1.Event // as last stored
	last  time.Time
}

// New returns a recorder writing through cs; run it with [Recorder.Run].
func New(cs *client.Clientset, opts Options) *Recorder {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1000
	}
	if opts.AggregationWindow <= 0 {
		opts.AggregationWindow = 10 * time.Minute
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 4096
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Instance == "" {
		opts.Instance = opts.Host
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	return &Recorder{
		cs:    cs,
		opts:  opts,
		log:   opts.Logger.Named("events"),
		queue: make(chan pending, opts.QueueSize),
		cache: map[string]*seen{},
	}
}

// Event records an event about obj; see [EventRecorder].
func (r *Recorder) Event(obj scheme.Object, eventType, reason, message string) {
	r.enqueue(obj, eventType, reason, message)
}

// Eventf records an event about obj with a formatted message.
func (r *Recorder) Eventf(obj scheme.Object, eventType, reason, messageFmt string, args ...any) {
	r.enqueue(obj, eventType, reason, fmt.Sprintf(messageFmt, args...))
}

// Dropped is how many events were dropped because the queue was full.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

func (r *Recorder) enqueue(obj scheme.Object, eventType, reason, message string) {
	ref, err := Reference(obj)
	if err != nil {
		r.log.Warn("event about an object that cannot be referenced dropped", zap.Error(err), zap.String("reason", reason))
		return
	}
	p := pending{ref: ref, eventType: eventType, reason: reason, message: message, at: r.opts.Now()}
	select {
	case r.queue <- p:
	default:
		r.dropped.Add(1)
		r.log.Warn("event queue full; event dropped", zap.String("object", ref.Namespace+"/"+ref.Name), zap.String("reason", reason))
	}
}

// Reference is the ObjectReference of obj: its kind, apiVersion,
// namespace, name, uid and resourceVersion.
func Reference(obj scheme.Object) (*corev1.ObjectReference, error) {
	if obj == nil || !obj.ProtoReflect().IsValid() {
		return nil, fmt.Errorf("object is nil")
	}
	res, ok := scheme.ForMessage(obj)
	if !ok {
		return nil, fmt.Errorf("%T is not a kind", obj)
	}
	m := obj.GetMetadata()
	if m.GetName() == "" {
		return nil, fmt.Errorf("%s has no name", res.Kind)
	}
	return &corev1.ObjectReference{
		Kind:            res.Kind,
		ApiVersion:      res.APIVersion(),
		Namespace:       m.GetNamespace(),
		Name:            m.GetName(),
		Uid:             m.GetUid(),
		ResourceVersion: m.GetResourceVersion(),
	}, nil
}

// Run writes queued events until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-r.queue:
			r.write(ctx, p)
		}
	}
}

func (r *Recorder) write(ctx context.Context, p pending) {
	key := strings.Join([]string{p.ref.Kind, p.ref.ApiVersion, p.ref.Namespace, p.ref.Name, p.ref.Uid,
		p.eventType, p.reason, p.message}, "\x00")
	if s, ok := r.cache[key]; ok && p.at.Sub(s.last) < r.opts.AggregationWindow {
		ev := proto.Clone(s.event).(*corev1.Event)
		ev.Count++
		ev.LastTimestamp = timestamppb.New(p.at)
		ev.Metadata.ResourceVersion = "" // unconditional: only this recorder writes it
		updated, err := r.retry(ctx, func() (*corev1.Event, error) {
			return r.cs.Events(ev.GetMetadata().GetNamespace()).Update(ctx, ev)
		})
		if err == nil {
			s.event, s.last = updated, p.at
			return
		}
		if !client.IsNotFound(err) {
			r.log.Warn("update event failed; event dropped", zap.Error(err), zap.String("event", ev.GetMetadata().GetName()))
			return
		}
		// The event expired meanwhile: create it again.
		delete(r.cache, key)
	}

	ns := p.ref.Namespace
	if ns == "" {
		ns = "default"
	}
	ev := &corev1.Event{
		Metadata:           &metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s.%x", p.ref.Name, p.at.UnixNano())},
		InvolvedObject:     p.ref,
		Reason:             p.reason,
		Message:            p.message,
		Type:               p.eventType,
		Source:             &corev1.EventSource{Component: r.opts.Component, Host: r.opts.Host},
		FirstTimestamp:     timestamppb.New(p.at),
		LastTimestamp:      timestamppb.New(p.at),
		Count:              1,
		ReportingComponent: r.opts.Component,
		ReportingInstance:  r.opts.Instance,
	}
	created, err := r.retry(ctx, func() (*corev1.Event, error) { return r.cs.Events(ns).Create(ctx, ev) })
	if err != nil {
		r.log.Warn("create event failed; event dropped", zap.Error(err), zap.String("event", ev.GetMetadata().GetName()))
		return
	}
	r.remember(key, created, p.at)
}

// retry retries fn while the server is unavailable, a few times.
func (r *Recorder) retry(ctx context.Context, fn func() (*corev1.Event, error)) (*corev1.Event, error) {
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		ev, err := fn()
		if err == nil || !client.IsUnavailable(err) || attempt == 5 {
			return ev, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		delay *= 2
	}
}

// remember caches an event for aggregation, evicting expired entries, then
// the oldest, when the cache is full.
func (r *Recorder) remember(key string, ev *corev1.Event, at time.Time) {
	if len(r.cache) >= r.opts.CacheSize {
		var oldestKey string
		var oldest time.Time
		for k, s := range r.cache {
			if at.Sub(s.last) >= r.opts.AggregationWindow {
				delete(r.cache, k)
				continue
			}
			if oldestKey == "" || s.last.Before(oldest) {
				oldestKey, oldest = k, s.last
			}
		}
		if len(r.cache) >= r.opts.CacheSize {
			delete(r.cache, oldestKey)
		}
	}
	r.cache[key] = &seen{event: ev, last: at}
}
