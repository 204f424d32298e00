package client

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gantryhq/gantry/client/scheme"
	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
)

// Typed is the client of one resource in one namespace, with objects of Go
// type T: a kind's message (*corev1.Pod), or scheme.Object for the untyped
// variant made by [Clientset.Resource]. It is cheap to make and safe for
// concurrent use.
//
// Errors from the server are returned as they are, gRPC status errors whose
// message names the object; test them with [IsNotFound] and its siblings.
type Typed[T scheme.Object] struct {
	cs  *Clientset
	res *scheme.Resource
	ns  string
}

// For returns the typed client of T's resource in namespace ns. ns is
// ignored for cluster-scoped kinds; "" lists and watches all namespaces. It
// panics if T is not a kind in the scheme, a programming error.
func For[T scheme.Object](cs *Clientset, ns string) *Typed[T] {
	var zero T
	if any(zero) == nil {
		panic("client.For: T must be a kind's message type; use Clientset.Resource for untyped access")
	}
	res, ok := scheme.ForMessage(zero)
	if !ok {
		panic(fmt.Sprintf("client.For: %T is not a kind in the scheme", zero))
	}
	return newTyped[T](cs, res, ns)
}

// Resource returns the untyped client of res in namespace ns, for tools (the
// CLI, the garbage collector) that pick the resource at run time. Objects are
// res's message type behind the scheme.Object interface.
func (c *Clientset) Resource(res *scheme.Resource, ns string) *Typed[scheme.Object] {
	return newTyped[scheme.Object](c, res, ns)
}

func newTyped[T scheme.Object](cs *Clientset, res *scheme.Resource, ns string) *Typed[T] {
	if !res.Namespaced {
		ns = ""
	}
	return &Typed[T]{cs: cs, res: res, ns: ns}
}

// Resource is the resource this client serves.
func (t *Typed[T]) Resource() *scheme.Resource { return t.res }

// Namespace is the namespace this client serves ("" for all, or for a
// cluster-scoped resource).
func (t *Typed[T]) Namespace() string { return t.ns }

// ListOptions filter and page a List.
type ListOptions struct {
	// LabelSelector in Kubernetes syntax ("app=web,tier in (a,b)").
	LabelSelector string
	// FieldSelector in Kubernetes syntax ("spec.nodeName=n1").
	FieldSelector string
	// Limit is the page size; 0 lists everything at once.
	Limit int64
	// Continue is the Continue of the previous page.
	Continue string
}

// List is one page of a listing.
type List[T scheme.Object] struct {
	Items []T
	// ResourceVersion is the revision the listing was read at; watch from it
	// to see every later change.
	ResourceVersion string
	// Continue, when not empty, fetches the next page.
	Continue string
	// RemainingItemCount is how many objects the later pages hold (before
	// selectors are applied).
	RemainingItemCount int64
}

// DeleteOptions tune a Delete.
type DeleteOptions struct {
	// GracePeriodSeconds overrides the object's grace period; 0 deletes at
	// once. Nil keeps the object's own.
	GracePeriodSeconds *int64
	// Preconditions must hold or the delete fails with Aborted.
	Preconditions *Preconditions
	// PropagationPolicy says what happens to dependents; empty is
	// Background.
	PropagationPolicy PropagationPolicy
}

// Preconditions of a Delete. Empty fields are not checked.
type Preconditions struct {
	UID             string
	ResourceVersion string
}

// PropagationPolicy is how a deletion reaches an object's dependents.
type PropagationPolicy string

// The propagation policies.
const (
	DeletePropagationOrphan     PropagationPolicy = "Orphan"
	DeletePropagationBackground PropagationPolicy = "Background"
	DeletePropagationForeground PropagationPolicy = "Foreground"
)

// WatchOptions pick what a Watch streams.
type WatchOptions struct {
	// ResourceVersion to watch after; "" or "0" first sends an Added event
	// for every current object.
	ResourceVersion string
	LabelSelector   string
	FieldSelector   string
	// AllowBookmarks asks for Bookmark events carrying only a revision.
	AllowBookmarks bool
}

// Get reads one object.
func (t *Typed[T]) Get(ctx context.Context, name string) (T, error) {
	var zero T
	if err := t.checkName(name); err != nil {
		return zero, err
	}
	resp, err := t.cs.rs.Get(ctx, &apiv1.GetRequest{Resource: t.res.Name, Namespace: t.ns, Name: name})
	if err != nil {
		return zero, err
	}
	return t.decode(resp.GetObject())
}

// List reads one page of objects (all of them when opts.Limit is 0).
func (t *Typed[T]) List(ctx context.Context, opts ListOptions) (*List[T], error) {
	resp, err := t.cs.rs.List(ctx, &apiv1.ListRequest{
		Resource:      t.res.Name,
		Namespace:     t.ns,
		LabelSelector: opts.LabelSelector,
		FieldSelector: opts.FieldSelector,
		Limit:         opts.Limit,
		Continue:      opts.Continue,
	})
	if err != nil {
		return nil, err
	}
	out := &List[T]{
		Items:              make([]T, 0, len(resp.GetItems())),
		ResourceVersion:    resp.GetResourceVersion(),
		Continue:           resp.GetContinue(),
		RemainingItemCount: resp.GetRemainingItemCount(),
	}
	for _, a := range resp.GetItems() {
		obj, err := t.decode(a)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, obj)
	}
	return out, nil
}

// ListAll reads every page, opts.Limit objects at a time, and returns them
// as one list read at one revision. If the listing's revision is compacted
// between pages, it starts again without paging.
func (t *Typed[T]) ListAll(ctx context.Context, opts ListOptions) (*List[T], error) {
	opts.Continue = ""
	all, err := t.List(ctx, opts)
	if err != nil {
		return nil, err
	}
	for all.Continue != "" {
		opts.Continue = all.Continue
		page, err := t.List(ctx, opts)
		if IsGone(err) {
			opts.Limit, opts.Continue = 0, ""
			return t.List(ctx, opts)
		}
		if err != nil {
			return nil, err
		}
		all.Items = append(all.Items, page.Items...)
		all.Continue = page.Continue
		all.RemainingItemCount = page.RemainingItemCount
	}
	return all, nil
}

// Create stores a new object and returns it as stored. An object without a
// namespace is created in the client's.
func (t *Typed[T]) Create(ctx context.Context, obj T) (T, error) {
	var zero T
	a, err := t.encode(obj)
	if err != nil {
		return zero, err
	}
	resp, err := t.cs.rs.Create(ctx, &apiv1.CreateRequest{Object: a})
	if err != nil {
		return zero, err
	}
	return t.decode(resp.GetObject())
}

// Update replaces the object's metadata and spec (its status is kept). The
// object's resourceVersion, when set, is a precondition: a stale one fails
// with a conflict ([IsConflict]).
func (t *Typed[T]) Update(ctx context.Context, obj T) (T, error) {
	var zero T
	a, err := t.encode(obj)
	if err != nil {
		return zero, err
	}
	resp, err := t.cs.rs.Update(ctx, &apiv1.UpdateRequest{Object: a})
	if err != nil {
		return zero, err
	}
	return t.decode(resp.GetObject())
}

// UpdateStatus replaces the object's status only. The resourceVersion is a
// precondition as for Update.
func (t *Typed[T]) UpdateStatus(ctx context.Context, obj T) (T, error) {
	var zero T
	a, err := t.encode(obj)
	if err != nil {
		return zero, err
	}
	resp, err := t.cs.rs.UpdateStatus(ctx, &apiv1.UpdateStatusRequest{Object: a})
	if err != nil {
		return zero, err
	}
	return t.decode(resp.GetObject())
}

// Delete removes the object, or marks it for deletion when finalizers or a
// graceful pod termination hold it.
func (t *Typed[T]) Delete(ctx context.Context, name string, opts DeleteOptions) error {
	_, _, err := t.DeleteObject(ctx, name, opts)
	return err
}

// DeleteObject is Delete returning the object as removed (deleted true) or
// as marked for deletion (deleted false).
func (t *Typed[T]) DeleteObject(ctx context.Context, name string, opts DeleteOptions) (obj T, deleted bool, err error) {
	if err := t.checkName(name); err != nil {
		return obj, false, err
	}
	req := &apiv1.DeleteRequest{
		Resource:           t.res.Name,
		Namespace:          t.ns,
		Name:               name,
		GracePeriodSeconds: opts.GracePeriodSeconds,
		PropagationPolicy:  string(opts.PropagationPolicy),
	}
	if p := opts.Preconditions; p != nil {
		req.Preconditions = &apiv1.Preconditions{Uid: p.UID, ResourceVersion: p.ResourceVersion}
	}
	resp, err := t.cs.rs.Delete(ctx, req)
	if err != nil {
		return obj, false, err
	}
	if resp.GetObject() != nil {
		if obj, err = t.decode(resp.GetObject()); err != nil {
			return obj, false, err
		}
	}
	return obj, resp.GetDeleted(), nil
}

// Watch streams the changes of the resource after opts.ResourceVersion.
// Stop the watcher (or cancel ctx) when done.
func (t *Typed[T]) Watch(ctx context.Context, opts WatchOptions) (*Watcher[T], error) {
	ctx, cancel := context.WithCancel(ctx)
	stream, err := t.cs.rs.Watch(ctx, &apiv1.WatchRequest{
		Resource:        t.res.Name,
		Namespace:       t.ns,
		LabelSelector:   opts.LabelSelector,
		FieldSelector:   opts.FieldSelector,
		ResourceVersion: opts.ResourceVersion,
		AllowBookmarks:  opts.AllowBookmarks,
	})
	if err != nil {
		cancel()
		return nil, err
	}
	return &Watcher[T]{t: t, stream: stream, cancel: cancel}, nil
}

// EventType is the type of a watch event.
type EventType string

// The watch event types.
const (
	Added    EventType = "ADDED"
	Modified EventType = "MODIFIED"
	Deleted  EventType = "DELETED"
	Bookmark EventType = "BOOKMARK"
)

// Event is one change seen by a watch.
type Event[T scheme.Object] struct {
	Type EventType
	// Object is the object after the change; for Deleted its last state;
	// for Bookmark the zero T.
	Object T
	// ResourceVersion is the revision of the change (the object's
	// resourceVersion, or the bookmark's).
	ResourceVersion string
}

// Watcher is an open watch stream. Next must not be called concurrently.
type Watcher[T scheme.Object] struct {
	t      *Typed[T]
	stream grpc.ServerStreamingClient[apiv1.WatchResponse]
	cancel context.CancelFunc
}

// Next blocks for the next event. It returns io.EOF when the server ended
// the stream cleanly, the context's error after Stop or cancellation, and
// otherwise the stream's error: [IsGone] means the revision watched from was
// compacted and the caller must list again.
func (w *Watcher[T]) Next() (Event[T], error) {
	for {
		resp, err := w.stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return Event[T]{}, io.EOF
			}
			if ctxErr := w.stream.Context().Err(); ctxErr != nil && status.Code(err) == codes.Canceled {
				return Event[T]{}, ctxErr
			}
			return Event[T]{}, err
		}
		ev := Event[T]{Type: EventType(resp.GetType())}
		switch ev.Type {
		case Bookmark:
			ev.ResourceVersion = resp.GetResourceVersion()
			if ev.ResourceVersion == "" && resp.GetObject() != nil {
				if obj, err := w.t.decode(resp.GetObject()); err == nil {
					ev.ResourceVersion = obj.GetMetadata().GetResourceVersion()
				}
			}
			return ev, nil
		case Added, Modified, Deleted:
			obj, err := w.t.decode(resp.GetObject())
			if err != nil {
				return Event[T]{}, err
			}
			ev.Object = obj
			ev.ResourceVersion = obj.GetMetadata().GetResourceVersion()
			return ev, nil
		default:
			// An event type this client does not know: skip it, as
			// Kubernetes clients skip unknown watch event types.
			continue
		}
	}
}

// Stop ends the watch. It may be called more than once and concurrently
// with Next, which then returns.
func (w *Watcher[T]) Stop() { w.cancel() }

func (t *Typed[T]) checkName(name string) error {
	if name == "" {
		return status.Errorf(codes.InvalidArgument, "%s: name is required", t.res.Name)
	}
	if t.res.Namespaced && t.ns == "" {
		return status.Errorf(codes.InvalidArgument, "%s %q: namespace is required", t.res.Name, name)
	}
	return nil
}

// encode wraps obj in an Any, filling in the client's namespace when the
// object has none (on a copy: obj is never changed).
func (t *Typed[T]) encode(obj T) (*anypb.Any, error) {
	if any(obj) == nil {
		return nil, status.Errorf(codes.InvalidArgument, "%s: object is nil", t.res.Name)
	}
	if got := obj.ProtoReflect().Descriptor().FullName(); got != t.res.MessageName() {
		return nil, status.Errorf(codes.InvalidArgument, "%s: object is a %s, want %s", t.res.Name, got, t.res.MessageName())
	}
	var msg proto.Message = obj
	if t.res.Namespaced {
		objNS := obj.GetMetadata().GetNamespace()
		switch {
		case objNS == "" && t.ns != "":
			c := proto.Clone(obj)
			scheme.Meta(c).Namespace = t.ns
			msg = c
		case objNS != "" && t.ns != "" && objNS != t.ns:
			return nil, status.Errorf(codes.InvalidArgument,
				"the namespace of the object (%s) does not match the namespace on the request (%s)", objNS, t.ns)
		}
	}
	a, err := anypb.New(msg)
	if err != nil {
		return nil, fmt.Errorf("%s: encode: %w", t.res.Name, err)
	}
	return a, nil
}

func (t *Typed[T]) decode(a *anypb.Any) (T, error) {
	var zero T
	if a == nil {
		return zero, fmt.Errorf("%s: the server sent no object", t.res.Name)
	}
	if got := a.MessageName(); got != t.res.MessageName() {
		return zero, fmt.Errorf("%s: the server sent a %s, want %s", t.res.Name, got, t.res.MessageName())
	}
	m := t.res.New()
	if err := a.UnmarshalTo(m); err != nil {
		return zero, fmt.Errorf("%s: decode: %w", t.res.Name, err)
	}
	obj, ok := m.(T)
	if !ok {
		return zero, fmt.Errorf("%s: decoded %T is not %T", t.res.Name, m, zero)
	}
	return obj, nil
}
