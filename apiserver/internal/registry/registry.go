package registry

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gantryhq/gantry/apiserver/internal/storage"
	"github.com/gantryhq/gantry/client/scheme"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// Finalizers the registry adds for a deletion's propagation policy; the
// garbage collector acts on them and removes them.
const (
	FinalizerOrphan     = "orphan"
	FinalizerForeground = "foregroundDeletion"
)

// Propagation policies of a delete.
const (
	PropagationOrphan     = "Orphan"
	PropagationBackground = "Background"
	PropagationForeground = "Foreground"
)

// Registry serves every kind over one store.
type Registry struct {
	store      *storage.Store
	strategies map[string]Strategy
	logger     *zap.Logger
	// Now is the clock; tests may replace it before use.
	Now func() time.Time
}

// New returns a registry. strategies maps a resource name ("pods") to its
// strategy; every resource in scheme.All must have one.
func New(store *storage.Store, strategies map[string]Strategy, logger *zap.Logger) (*Registry, error) {
	for _, r := range scheme.All() {
		if strategies[r.Name] == nil {
			return nil, fmt.Errorf("no strategy for resource %s", r.Name)
		}
	}
	return &Registry{store: store, strategies: strategies, logger: logger, Now: time.Now}, nil
}

// Store returns the underlying store.
func (r *Registry) Store() *storage.Store { return r.store }

// Key is where an object is stored: /registry/<resource>/<namespace>/<name>,
// or /registry/<resource>/<name> for cluster-scoped kinds.
func Key(res *scheme.Resource, namespace, name string) string {
	if res.Namespaced {
		return "/registry/" + res.Name + "/" + namespace + "/" + name
	}
	return "/registry/" + res.Name + "/" + name
}

// Prefix is where the objects of res in namespace are stored (all
// namespaces when it is "").
func Prefix(res *scheme.Resource, namespace string) string {
	if res.Namespaced && namespace != "" {
		return "/registry/" + res.Name + "/" + namespace + "/"
	}
	return "/registry/" + res.Name + "/"
}

// Resource finds a resource by its plural name.
func (r *Registry) Resource(name string) (*scheme.Resource, error) {
	res, ok := scheme.ByName(name)
	if !ok {
		return nil, errBadRequest("the server could not find the requested resource %q", name)
	}
	return res, nil
}

func (r *Registry) decode(res *scheme.Resource, kv storage.KV) (proto.Message, error) {
	obj := res.New()
	if err := proto.Unmarshal(kv.Value, obj); err != nil {
		return nil, fmt.Errorf("decode %s: %w", kv.Key, err)
	}
	scheme.Meta(obj).ResourceVersion = strconv.FormatInt(kv.ModRevision, 10)
	return obj, nil
}

var marshalOpts = proto.MarshalOptions{Deterministic: true}

func encode(obj proto.Message) ([]byte, error) {
	m := scheme.Meta(obj)
	rv := m.ResourceVersion
	m.ResourceVersion = ""
	b, err := marshalOpts.Marshal(obj)
	m.ResourceVersion = rv
	return b, err
}

func (r *Registry) now() *timestamppb.Timestamp {
	return timestamppb.New(r.Now().Truncate(time.Second))
}

// Create stores a new object, as described by ResourceService.Create.
func (r *Registry) Create(ctx context.Context, obj proto.Message, dryRun bool) (proto.Message, error) {
	res, ok := scheme.ForMessage(obj)
	if !ok {
		return nil, errBadRequest("unknown kind %s", obj.ProtoReflect().Descriptor().FullName())
	}
	if err := checkUnknown(obj.ProtoReflect(), ""); err != nil {
		return nil, err
	}
	strategy := r.strategies[res.Name]
	meta := scheme.Meta(obj)
	if res.Namespaced {
		if meta.Namespace == "" {
			meta.Namespace = "default"
		}
	} else {
		meta.Namespace = ""
	}
	if meta.Name == "" && meta.GenerateName != "" {
		// Generated before defaulting, which may copy the name (a Job's
		// job-name label). A collision is AlreadyExists, as in Kubernetes.
		meta.Name = meta.GenerateName + randomSuffix()
	}

	materialize(obj)
	strategy.PrepareForCreate(obj)
	meta.Uid = uuid.NewString()
	meta.CreationTimestamp = r.now()
	meta.ResourceVersion = ""
	meta.Generation = 1
	meta.DeletionTimestamp = nil
	meta.DeletionGracePeriodSeconds = nil
	strategy.Default(obj)

	errs := validateObjectMeta(res, meta, nil)
	errs = append(errs, strategy.Validate(obj)...)
	if len(errs) > 0 {
		return nil, errInvalid(res.Kind, meta.Name, errs)
	}
	var conds []storage.Cond
	if res.Namespaced {
		if err := r.checkNamespaceOpen(ctx, res, meta); err != nil {
			return nil, err
		}
		nsRes, _ := scheme.ByName("namespaces")
		conds = append(conds, storage.Cond{Key: Key(nsRes, "", meta.Namespace), Exists: true,
			Err: errNotFound("namespaces", meta.Namespace)})
	}
	undo, err := r.allocate(ctx, res, obj, nil, dryRun)
	if err != nil {
		return nil, err
	}
	if dryRun {
		return obj, nil
	}
	value, err := encode(obj)
	if err == nil {
		var rev int64
		rev, err = r.store.Create(ctx, Key(res, meta.Namespace, meta.Name), value, conds...)
		meta.ResourceVersion = strconv.FormatInt(rev, 10)
	}
	if err != nil {
		undo()
	}
	if errors.Is(err, storage.ErrExists) {
		return nil, errAlreadyExists(res.GroupResource(), meta.Name)
	}
	if err != nil {
		return nil, err
	}
	return obj, nil
}

// checkNamespaceOpen refuses new objects in a missing or terminating
// namespace. (The create transaction checks existence again atomically.)
func (r *Registry) checkNamespaceOpen(ctx context.Context, res *scheme.Resource, meta *metav1.ObjectMeta) error {
	nsRes, _ := scheme.ByName("namespaces")
	kv, err := r.store.Get(ctx, Key(nsRes, "", meta.Namespace))
	if errors.Is(err, storage.ErrNotFound) {
		return errNotFound("namespaces", meta.Namespace)
	}
	if err != nil {
		return err
	}
	ns, err := r.decode(nsRes, kv)
	if err != nil {
		return err
	}
	if scheme.Meta(ns).DeletionTimestamp != nil {
		return errForbidden(res.GroupResource(), meta.Name,
			fmt.Sprintf("unable to create new content in namespace %s because it is being terminated", meta.Namespace))
	}
	return nil
}

// Get reads one object.
func (r *Registry) Get(ctx context.Context, res *scheme.Resource, namespace, name string) (proto.Message, error) {
	kv, err := r.store.Get(ctx, Key(res, namespace, name))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errNotFound(res.GroupResource(), name)
	}
	if err != nil {
		return nil, err
	}
	return r.decode(res, kv)
}

// ListOptions select and page a List.
type ListOptions struct {
	Namespace string
	Selector  Selector
	Limit     int64
	Continue  string
}

// ListResult is one page.
type ListResult struct {
	Items           []proto.Message
	ResourceVersion int64
	Continue        string
	Remaining       int64
}

type continueToken struct {
	Rev   int64  `json:"rev"`
	Start string `json:"start"`
}

// List reads objects; all pages of one listing are read at one revision.
func (r *Registry) List(ctx context.Context, res *scheme.Resource, opts ListOptions) (*ListResult, error) {
	pfx := Prefix(res, opts.Namespace)
	var rev int64
	start := ""
	if opts.Continue != "" {
		raw, err := base64.RawURLEncoding.DecodeString(opts.Continue)
		var tok continueToken
		if err == nil {
			err = json.Unmarshal(raw, &tok)
		}
		if err != nil || tok.Rev <= 0 || len(tok.Start) < len(pfx) || tok.Start[:len(pfx)] != pfx {
			return nil, errBadRequest("invalid continue token")
		}
		rev, start = tok.Rev, tok.Start
	}
	out := &ListResult{}
	for {
		page, err := r.store.List(ctx, pfx, start, rev, opts.Limit)
		if errors.Is(err, storage.ErrCompacted) {
			return nil, errGone("the provided continue parameter is too old to display a consistent list result; list again without it")
		}
		if err != nil {
			return nil, err
		}
		rev = page.Revision
		out.ResourceVersion = rev
		for _, kv := range page.KVs {
			obj, err := r.decode(res, kv)
			if err != nil {
				return nil, err
			}
			if opts.Selector.Matches(obj) {
				out.Items = append(out.Items, obj)
			}
		}
		if !page.More {
			return out, nil
		}
		start = page.KVs[len(page.KVs)-1].Key + "\x00"
		if opts.Limit > 0 && int64(len(out.Items)) >= opts.Limit {
			tok, _ := json.Marshal(continueToken{Rev: rev, Start: start})
			out.Continue = base64.RawURLEncoding.EncodeToString(tok)
			out.Remaining = page.Remaining
			return out, nil
		}
	}
}

// Update replaces metadata and spec, keeping status (ResourceService.Update).
func (r *Registry) Update(ctx context.Context, obj proto.Message, dryRun bool) (proto.Message, error) {
	return r.update(ctx, obj, false, dryRun)
}

// UpdateStatus replaces status only (ResourceService.UpdateStatus).
func (r *Registry) UpdateStatus(ctx context.Context, obj proto.Message) (proto.Message, error) {
	return r.update(ctx, obj, true, false)
}

func (r *Registry) update(ctx context.Context, in proto.Message, status, dryRun bool) (proto.Message, error) {
	res, ok := scheme.ForMessage(in)
	if !ok {
		return nil, errBadRequest("unknown kind %s", in.ProtoReflect().Descriptor().FullName())
	}
	if status && !res.HasStatus {
		return nil, errBadRequest("%s have no status", res.GroupResource())
	}
	if err := checkUnknown(in.ProtoReflect(), ""); err != nil {
		return nil, err
	}
	strategy := r.strategies[res.Name]
	inMeta := scheme.Meta(in)
	if res.Namespaced && inMeta.Namespace == "" {
		inMeta.Namespace = "default"
	}
	if !res.Namespaced {
		inMeta.Namespace = ""
	}
	if inMeta.Name == "" {
		return nil, errInvalid(res.Kind, "", fieldRequired("metadata.name"))
	}
	key := Key(res, inMeta.Namespace, inMeta.Name)
	for {
		kv, err := r.store.Get(ctx, key)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, errNotFound(res.GroupResource(), inMeta.Name)
		}
		if err != nil {
			return nil, err
		}
		if inMeta.ResourceVersion != "" && inMeta.ResourceVersion != strconv.FormatInt(kv.ModRevision, 10) {
			return nil, errConflict(res.GroupResource(), inMeta.Name, staleObject)
		}
		old, err := r.decode(res, kv)
		if err != nil {
			return nil, err
		}
		oldMeta := scheme.Meta(old)
		if inMeta.Uid != "" && inMeta.Uid != oldMeta.Uid {
			return nil, errConflict(res.GroupResource(), inMeta.Name,
				fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", inMeta.Uid, oldMeta.Uid))
		}
		obj := proto.Clone(in)
		materialize(obj)
		meta := scheme.Meta(obj)
		var errs fieldErrors
		if status {
			// Keep everything but status from the stored object.
			newStatus := proto.Clone(obj)
			obj = proto.Clone(old)
			copyField(obj, newStatus, "status")
			meta = scheme.Meta(obj)
			errs = strategy.ValidateStatusUpdate(obj, old)
		} else {
			copyField(obj, old, "status")
			meta.Uid = oldMeta.Uid
			meta.CreationTimestamp = oldMeta.CreationTimestamp
			meta.DeletionTimestamp = oldMeta.DeletionTimestamp
			meta.DeletionGracePeriodSeconds = oldMeta.DeletionGracePeriodSeconds
			meta.Generation = oldMeta.Generation
			meta.GenerateName = oldMeta.GenerateName
			if p, ok := strategy.(UpdatePreparer); ok {
				p.PrepareForUpdate(obj, old)
			}
			strategy.Default(obj)
			errs = validateObjectMeta(res, meta, oldMeta)
			errs = append(errs, strategy.ValidateUpdate(obj, old)...)
			if !specEqual(obj, old) {
				meta.Generation++
			}
			if oldMeta.DeletionTimestamp != nil && len(meta.Finalizers) > len(oldMeta.Finalizers) {
				errs = append(errs, fieldForbidden("metadata.finalizers", "no new finalizers can be added if the object is being deleted"))
			}
		}
		if len(errs) > 0 {
			return nil, errInvalid(res.Kind, inMeta.Name, errs)
		}
		meta.ResourceVersion = oldMeta.ResourceVersion
		if proto.Equal(obj, old) {
			return old, nil
		}
		if dryRun {
			if !status {
				if _, err := r.allocate(ctx, res, obj, old, true); err != nil {
					return nil, err
				}
			}
			return obj, nil
		}
		if r.deletable(res, obj) {
			// The last finalizer is gone from an object being deleted.
			rev, err := r.store.Delete(ctx, key, kv.ModRevision)
			if errors.Is(err, storage.ErrConflict) && inMeta.ResourceVersion == "" {
				continue
			}
			if err != nil {
				return nil, r.writeErr(err, res, inMeta.Name)
			}
			r.release(ctx, res, nil, old)
			meta.ResourceVersion = strconv.FormatInt(rev, 10)
			return obj, nil
		}
		undo := func() {}
		if !status {
			if undo, err = r.allocate(ctx, res, obj, old, false); err != nil {
				return nil, err
			}
		}
		value, err := encode(obj)
		if err != nil {
			undo()
			return nil, err
		}
		rev, err := r.store.Update(ctx, key, value, kv.ModRevision)
		if err != nil {
			undo()
		}
		if errors.Is(err, storage.ErrConflict) && inMeta.ResourceVersion == "" {
			continue
		}
		if err != nil {
			return nil, r.writeErr(err, res, inMeta.Name)
		}
		if !status {
			r.release(ctx, res, obj, old)
		}
		meta.ResourceVersion = strconv.FormatInt(rev, 10)
		return obj, nil
	}
}

func (r *Registry) writeErr(err error, res *scheme.Resource, name string) error {
	switch {
	case errors.Is(err, storage.ErrConflict):
		return errConflict(res.GroupResource(), name, staleObject)
	case errors.Is(err, storage.ErrNotFound):
		return errNotFound(res.GroupResource(), name)
	}
	return err
}

// allocate reserves what obj needs beyond old when the kind is an
// Allocator; undo frees it again and is never nil.
func (r *Registry) allocate(ctx context.Context, res *scheme.Resource, obj, old proto.Message, dryRun bool) (undo func(), err error) {
	a, ok := r.strategies[res.Name].(Allocator)
	if !ok {
		return func() {}, nil
	}
	undo, errs, err := a.Allocate(ctx, obj, old, dryRun)
	if len(errs) > 0 {
		return nil, errInvalid(res.Kind, scheme.Meta(obj).Name, errs)
	}
	if err != nil {
		return nil, err
	}
	return undo, nil
}

// release frees what old held and obj (nil: deleted) does not. A failure
// only leaks values (never hands one out twice), so it is logged.
func (r *Registry) release(ctx context.Context, res *scheme.Resource, obj, old proto.Message) {
	a, ok := r.strategies[res.Name].(Allocator)
	if !ok {
		return
	}
	if err := a.Release(context.WithoutCancel(ctx), obj, old); err != nil {
		r.logger.Warn("release allocated values", zap.String("resource", res.Name),
			zap.String("name", scheme.Meta(old).Name), zap.Error(err))
	}
}

// deletable reports whether an object marked for deletion may now go: no
// finalizer holds it and no grace period is running.
func (r *Registry) deletable(res *scheme.Resource, obj proto.Message) bool {
	meta := scheme.Meta(obj)
	if meta.DeletionTimestamp == nil || len(meta.Finalizers) > 0 {
		return false
	}
	if meta.GetDeletionGracePeriodSeconds() > 0 {
		return false
	}
	if h, ok := r.strategies[res.Name].(DeletionHolder); ok && h.HoldsDeletion(obj) {
		return false
	}
	return true
}

// DeleteOptions are a delete's grace period, preconditions and propagation.
type DeleteOptions struct {
	GracePeriodSeconds *int64
	UID                string
	ResourceVersion    string
	PropagationPolicy  string
}

// Delete removes an object or marks it for deletion. deleted reports which.
func (r *Registry) Delete(ctx context.Context, res *scheme.Resource, namespace, name string, opts DeleteOptions) (obj proto.Message, deleted bool, err error) {
	switch opts.PropagationPolicy {
	case "", PropagationBackground, PropagationForeground, PropagationOrphan:
	default:
		return nil, false, errBadRequest("propagationPolicy: Unsupported value: %q: supported values: \"Orphan\", \"Background\", \"Foreground\"", opts.PropagationPolicy)
	}
	if opts.GracePeriodSeconds != nil && *opts.GracePeriodSeconds < 0 {
		return nil, false, errBadRequest("gracePeriodSeconds: Invalid value: %d: must be >= 0", *opts.GracePeriodSeconds)
	}
	strategy := r.strategies[res.Name]
	key := Key(res, namespace, name)
	for {
		kv, err := r.store.Get(ctx, key)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, false, errNotFound(res.GroupResource(), name)
		}
		if err != nil {
			return nil, false, err
		}
		obj, err := r.decode(res, kv)
		if err != nil {
			return nil, false, err
		}
		meta := scheme.Meta(obj)
		if opts.UID != "" && opts.UID != meta.Uid {
			return nil, false, errConflict(res.GroupResource(), name,
				fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", opts.UID, meta.Uid))
		}
		if opts.ResourceVersion != "" && opts.ResourceVersion != meta.ResourceVersion {
			return nil, false, errConflict(res.GroupResource(), name,
				fmt.Sprintf("Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s", opts.ResourceVersion, meta.ResourceVersion))
		}
		before := proto.Clone(obj)
		switch opts.PropagationPolicy {
		case PropagationOrphan:
			meta.Finalizers = addString(removeString(meta.Finalizers, FinalizerForeground), FinalizerOrphan)
		case PropagationForeground:
			meta.Finalizers = addString(removeString(meta.Finalizers, FinalizerOrphan), FinalizerForeground)
		}
		now := r.Now()
		held := len(meta.Finalizers) > 0
		if h, ok := strategy.(DeletionHolder); ok {
			if meta.DeletionTimestamp == nil {
				h.PrepareForDelete(obj)
			}
			held = held || h.HoldsDeletion(obj)
		}
		grace, graceful := int64(0), false
		if g, ok := strategy.(GracefulDeleter); ok {
			grace, graceful = g.GracePeriod(obj, opts.GracePeriodSeconds)
		}
		switch {
		case graceful && grace > 0:
			deadline := now.Add(time.Duration(grace) * time.Second)
			if meta.DeletionTimestamp == nil || deadline.Before(meta.DeletionTimestamp.AsTime()) {
				meta.DeletionTimestamp = timestamppb.New(deadline.Truncate(time.Second))
				meta.DeletionGracePeriodSeconds = &grace
			}
		case held:
			if meta.DeletionTimestamp == nil {
				meta.DeletionTimestamp = timestamppb.New(now.Truncate(time.Second))
			}
			zero := int64(0)
			meta.DeletionGracePeriodSeconds = &zero
		default:
			rev, err := r.store.Delete(ctx, key, kv.ModRevision)
			if errors.Is(err, storage.ErrConflict) {
				continue
			}
			if err != nil {
				return nil, false, r.writeErr(err, res, name)
			}
			r.release(ctx, res, nil, obj)
			meta.ResourceVersion = strconv.FormatInt(rev, 10)
			return obj, true, nil
		}
		if proto.Equal(obj, before) {
			return obj, false, nil
		}
		value, err := encode(obj)
		if err != nil {
			return nil, false, err
		}
		rev, err := r.store.Update(ctx, key, value, kv.ModRevision)
		if errors.Is(err, storage.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, false, r.writeErr(err, res, name)
		}
		meta.ResourceVersion = strconv.FormatInt(rev, 10)
		return obj, false, nil
	}
}

// Bind sets a pending pod's spec.nodeName.
func (r *Registry) Bind(ctx context.Context, namespace, name, uid, node string) (proto.Message, error) {
	res, _ := scheme.ByName("pods")
	if node == "" {
		return nil, errInvalid("Binding", name, fieldRequired("target.name"))
	}
	key := Key(res, namespace, name)
	for {
		kv, err := r.store.Get(ctx, key)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, errNotFound("pods", name)
		}
		if err != nil {
			return nil, err
		}
		obj, err := r.decode(res, kv)
		if err != nil {
			return nil, err
		}
		meta := scheme.Meta(obj)
		if uid != "" && uid != meta.Uid {
			return nil, errConflict("pods", name, fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", uid, meta.Uid))
		}
		if meta.DeletionTimestamp != nil {
			return nil, errForbidden("pods", name, "pod is being deleted, cannot be assigned to a host")
		}
		rm := obj.ProtoReflect()
		spec := rm.Mutable(rm.Descriptor().Fields().ByName("spec")).Message()
		nodeField := spec.Descriptor().Fields().ByJSONName("nodeName")
		if cur := spec.Get(nodeField).String(); cur != "" {
			return nil, &StatusError{ReasonForbidden, fmt.Sprintf("pod %s is already assigned to node %q", name, cur)}
		}
		spec.Set(nodeField, protoreflect.ValueOfString(node))
		value, err := encode(obj)
		if err != nil {
			return nil, err
		}
		rev, err := r.store.Update(ctx, key, value, kv.ModRevision)
		if errors.Is(err, storage.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, r.writeErr(err, res, name)
		}
		meta.ResourceVersion = strconv.FormatInt(rev, 10)
		return obj, nil
	}
}

// materialize sets a kind's top-level spec and status messages when they are
// nil, as Kubernetes' structs always have them, so strategies never see a
// nil spec.
func materialize(obj proto.Message) {
	rm := obj.ProtoReflect()
	fields := rm.Descriptor().Fields()
	for _, name := range []protoreflect.Name{"spec", "status"} {
		if fd := fields.ByName(name); fd != nil && fd.Message() != nil && !fd.IsList() {
			rm.Mutable(fd)
		}
	}
}

// copyField sets dst's top-level field name to src's.
func copyField(dst, src proto.Message, name protoreflect.Name) {
	fd := dst.ProtoReflect().Descriptor().Fields().ByName(name)
	if fd == nil {
		return
	}
	if src.ProtoReflect().Has(fd) {
		dst.ProtoReflect().Set(fd, protoreflect.ValueOfMessage(proto.Clone(src.ProtoReflect().Get(fd).Message().Interface()).ProtoReflect()))
	} else {
		dst.ProtoReflect().Clear(fd)
	}
}

// specEqual compares everything but metadata and status: the spec, or the
// top-level fields of kinds without one (Endpoints' subsets).
func specEqual(a, b proto.Message) bool {
	ra, rb := a.ProtoReflect(), b.ProtoReflect()
	fields := ra.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fd.Name() == "metadata" || fd.Name() == "status" {
			continue
		}
		if ra.Has(fd) != rb.Has(fd) {
			return false
		}
		if !ra.Has(fd) {
			continue
		}
		va, vb := ra.Get(fd), rb.Get(fd)
		if !va.Equal(vb) {
			return false
		}
	}
	return true
}

func addString(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func removeString(list []string, s string) []string {
	return slices.DeleteFunc(list, func(x string) bool { return x == s })
}

const suffixAlphabet = "bcdfghjklmnpqrstvwxz2456789"

func randomSuffix() string {
	b := make([]byte, 5)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(suffixAlphabet))))
		b[i] = suffixAlphabet[n.Int64()]
	}
	return string(b)
}
