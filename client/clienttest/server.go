package clienttest

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/apimachinery/pkg/api/validation"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
)

// Action is one call the server received.
type Action struct {
	// Verb is the RPC: "create", "get", "list", "update", "updatestatus",
	// "delete", "watch", "bind".
	Verb      string
	Resource  string
	Namespace string
	Name      string
	// Object is the object sent (create, update, updatestatus), or nil.
	Object scheme.Object
	// NodeName is the node of a bind.
	NodeName string
	// Delete holds the request of a delete, ListOptions the selectors of a
	// list or watch.
	Delete        *apiv1.DeleteRequest
	LabelSelector string
	FieldSelector string
	// ResourceVersion is the revision a watch started from.
	ResourceVersion string
	// Token is the bearer token the call carried ("" if none).
	Token string
}

// Reactor sees every call before the server acts on it. A non-nil error is
// returned to the client instead (make it with status.Error to pick a code)
// and the call has no effect. Reactors run on the call's goroutine, outside
// the server's lock.
type Reactor func(a Action) error

// Server is the in-memory ResourceService. Its methods are safe for
// concurrent use.
type Server struct {
	apiv1.UnimplementedResourceServiceServer

	mu        sync.Mutex
	rev       int64
	objects   map[string]map[string]scheme.Object // resource -> "ns/name" -> stored (never mutated)
	history   []change                            // ordered by rev
	compacted int64                               // revisions <= compacted cannot be watched or listed at
	changed   chan struct{}                       // closed and replaced at every change
	breaks    int64                               // BreakWatches calls so far
	bookmarks int64                               // Bookmark calls so far
	watches   int
	actions   []Action
	reactors  []Reactor
	now       func() time.Time
	lis       *bufconn.Listener
}

type change struct {
	rev      int64
	resource string
	typ      string // ADDED, MODIFIED, DELETED
	key      string
	prev     scheme.Object // nil for ADDED
	obj      scheme.Object // the state after; for DELETED the last state at the deleting revision
}

// NewServer returns an empty server at revision 1. Serve it with [Start],
// or use [New].
func NewServer() *Server {
	return &Server{
		rev:     1,
		objects: map[string]map[string]scheme.Object{},
		changed: make(chan struct{}),
		now:     time.Now,
	}
}

var _ apiv1.ResourceServiceServer = (*Server)(nil)

// Add stores objects as they are, status included, bypassing the create
// strategy (no action is recorded): fixtures for a test. It fills in uid,
// creationTimestamp and resourceVersion where missing.
func (s *Server) Add(objs ...scheme.Object) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range objs {
		res, ok := scheme.ForMessage(o)
		if !ok {
			return fmt.Errorf("clienttest: %T is not a kind", o)
		}
		obj := proto.Clone(o).(scheme.Object)
		m := scheme.Meta(obj)
		if !res.Namespaced {
			m.Namespace = ""
		} else if m.Namespace == "" {
			m.Namespace = "default"
		}
		key := m.Namespace + "/" + m.Name
		if _, ok := s.objects[res.Name][key]; ok {
			return fmt.Errorf("clienttest: %s %s already exists", res.Name, key)
		}
		if m.Uid == "" {
			m.Uid = newUID()
		}
		if m.CreationTimestamp == nil {
			m.CreationTimestamp = timestamppb.New(s.now())
		}
		if m.Generation == 0 {
			m.Generation = 1
		}
		s.commit(res.Name, "ADDED", key, nil, obj)
	}
	return nil
}

// Objects returns copies of the stored objects of a resource ("pods"),
// ordered by namespace/name.
func (s *Server) Objects(resource string) []scheme.Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := sortedKeys(s.objects[resource])
	out := make([]scheme.Object, 0, len(keys))
	for _, k := range keys {
		out = append(out, proto.Clone(s.objects[resource][k]).(scheme.Object))
	}
	return out
}

// Object returns a copy of one stored object, or nil.
func (s *Server) Object(resource, namespace, name string) scheme.Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[resource][namespace+"/"+name]
	if !ok {
		return nil
	}
	return proto.Clone(o).(scheme.Object)
}

// Revision is the current revision: the resourceVersion of the last write.
func (s *Server) Revision() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rev
}

// Actions returns the calls received so far, in order.
func (s *Server) Actions() []Action {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Action(nil), s.actions...)
}

// ClearActions forgets the calls received so far.
func (s *Server) ClearActions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actions = nil
}

// AddReactor adds r after the reactors already added.
func (s *Server) AddReactor(r Reactor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reactors = append(s.reactors, r)
}

// ClearReactors removes every reactor.
func (s *Server) ClearReactors() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reactors = nil
}

// Compact forgets the history up to the current revision, as etcd's
// compaction does: watches and paged lists from an older revision fail with
// OutOfRange, including open watches that have not yet sent every change.
func (s *Server) Compact() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.compactLocked(s.rev)
}

func (s *Server) compactLocked(rev int64) {
	if rev <= s.compacted {
		return
	}
	s.compacted = rev
	i := sort.Search(len(s.history), func(i int) bool { return s.history[i].rev > rev })
	s.history = append([]change(nil), s.history[i:]...)
	s.notifyLocked()
}

// BreakWatches ends every open watch stream with Unavailable, as a broken
// connection or a restarted apiserver would.
func (s *Server) BreakWatches() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.breaks++
	s.notifyLocked()
}

// Bookmark sends a BOOKMARK event with the current revision to every open
// watch that allowed bookmarks.
func (s *Server) Bookmark() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bookmarks++
	s.notifyLocked()
}

// Watches is the number of open watch streams.
func (s *Server) Watches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.watches
}

func (s *Server) react(ctx context.Context, a Action) error {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("authorization"); len(v) > 0 {
			a.Token = strings.TrimPrefix(v[0], "Bearer ")
		}
	}
	s.mu.Lock()
	s.actions = append(s.actions, a)
	reactors := append([]Reactor(nil), s.reactors...)
	s.mu.Unlock()
	for _, r := range reactors {
		if err := r(a); err != nil {
			return err
		}
	}
	return nil
}

// commit stores obj (nil to remove) under a new revision and records the
// change. The caller holds s.mu and must not touch obj afterwards.
func (s *Server) commit(resource, typ, key string, prev, obj scheme.Object) scheme.Object {
	s.rev++
	scheme.Meta(obj).ResourceVersion = strconv.FormatInt(s.rev, 10)
	if s.objects[resource] == nil {
		s.objects[resource] = map[string]scheme.Object{}
	}
	if typ == "DELETED" {
		delete(s.objects[resource], key)
	} else {
		s.objects[resource][key] = obj
	}
	s.history = append(s.history, change{rev: s.rev, resource: resource, typ: typ, key: key, prev: prev, obj: obj})
	s.notifyLocked()
	return obj
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// decodeObject unpacks a request's object and finds its resource.
func decodeObject(a *anypb.Any) (*scheme.Resource, scheme.Object, error) {
	if a == nil {
		return nil, nil, status.Error(codes.InvalidArgument, "object: Required value")
	}
	res, ok := scheme.ForMessageName(a.MessageName())
	if !ok {
		return nil, nil, status.Errorf(codes.InvalidArgument, "object: unknown kind %s", a.MessageName())
	}
	m := res.New()
	if err := a.UnmarshalTo(m); err != nil {
		return nil, nil, status.Errorf(codes.InvalidArgument, "object: %v", err)
	}
	return res, m.(scheme.Object), nil
}

func lookupResource(name string) (*scheme.Resource, error) {
	res, ok := scheme.ByName(name)
	if !ok {
		return nil, status.Errorf(codes.NotFound, "the server doesn't have a resource type %q", name)
	}
	return res, nil
}

func objectKey(res *scheme.Resource, ns, name string) (string, error) {
	if name == "" {
		return "", client.StatusError(codes.InvalidArgument, client.ReasonInvalid, "metadata.name: Required value: name is required")
	}
	if !res.Namespaced {
		return "/" + name, nil
	}
	if ns == "" {
		return "", status.Error(codes.InvalidArgument, "metadata.namespace: Required value: namespace is required")
	}
	return ns + "/" + name, nil
}

func notFound(res *scheme.Resource, name string) error {
	return status.Errorf(codes.NotFound, "%s %q not found", res.GroupResource(), name)
}

func pack(o scheme.Object) (*anypb.Any, error) {
	a, err := anypb.New(o)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encode: %v", err)
	}
	return a, nil
}

// Create implements ResourceService.
func (s *Server) Create(ctx context.Context, req *apiv1.CreateRequest) (*apiv1.CreateResponse, error) {
	res, obj, err := decodeObject(req.GetObject())
	if err != nil {
		return nil, err
	}
	m := scheme.Meta(obj)
	if err := s.react(ctx, Action{Verb: "create", Resource: res.Name, Namespace: m.Namespace, Name: m.Name, Object: proto.Clone(obj).(scheme.Object)}); err != nil {
		return nil, err
	}
	if !res.Namespaced {
		m.Namespace = ""
	}
	if m.Name == "" && m.GenerateName != "" {
		m.Name = m.GenerateName + randomSuffix()
	}
	key, err := objectKey(res, m.Namespace, m.Name)
	if err != nil {
		return nil, err
	}
	if errs := validation.NameIsDNSSubdomain(m.Name, false); len(errs) > 0 {
		return nil, client.StatusError(codes.InvalidArgument, client.ReasonInvalid, fmt.Sprintf("metadata.name: Invalid value: %q: %s", m.Name, strings.Join(errs, "; ")))
	}
	m.Uid = newUID()
	m.CreationTimestamp = timestamppb.New(s.now())
	m.Generation = 1
	m.DeletionTimestamp = nil
	m.DeletionGracePeriodSeconds = nil
	m.ResourceVersion = ""
	// As the apiserver's strategies do: the server owns status on create,
	// except a Node's, which its kubelet registers with.
	if res.HasStatus && res.Name != "nodes" {
		clearField(obj, "status")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects[res.Name][key]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "%s %q already exists", res.GroupResource(), m.Name)
	}
	if req.GetDryRun() {
		a, err := pack(obj)
		return &apiv1.CreateResponse{Object: a}, err
	}
	stored := s.commit(res.Name, "ADDED", key, nil, obj)
	a, err := pack(stored)
	return &apiv1.CreateResponse{Object: a}, err
}

// Get implements ResourceService.
func (s *Server) Get(ctx context.Context, req *apiv1.GetRequest) (*apiv1.GetResponse, error) {
	res, err := lookupResource(req.GetResource())
	if err != nil {
		return nil, err
	}
	if err := s.react(ctx, Action{Verb: "get", Resource: res.Name, Namespace: req.GetNamespace(), Name: req.GetName()}); err != nil {
		return nil, err
	}
	key, err := objectKey(res, req.GetNamespace(), req.GetName())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[res.Name][key]
	if !ok {
		return nil, notFound(res, req.GetName())
	}
	a, err := pack(o)
	return &apiv1.GetResponse{Object: a}, err
}

// List implements ResourceService.
func (s *Server) List(ctx context.Context, req *apiv1.ListRequest) (*apiv1.ListResponse, error) {
	res, err := lookupResource(req.GetResource())
	if err != nil {
		return nil, err
	}
	if err := s.react(ctx, Action{Verb: "list", Resource: res.Name, Namespace: req.GetNamespace(),
		LabelSelector: req.GetLabelSelector(), FieldSelector: req.GetFieldSelector()}); err != nil {
		return nil, err
	}
	ns := req.GetNamespace()
	if !res.Namespaced {
		ns = ""
	}
	f, err := newFilter(res, ns, req.GetLabelSelector(), req.GetFieldSelector())
	if err != nil {
		return nil, err
	}
	if req.GetLimit() < 0 {
		return nil, status.Error(codes.InvalidArgument, "limit: must not be negative")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	rev, after := s.rev, ""
	objs := s.objects[res.Name]
	if c := req.GetContinue(); c != "" {
		rev, after, err = decodeContinue(c)
		if err != nil {
			return nil, err
		}
		if rev <= s.compacted {
			return nil, status.Errorf(codes.OutOfRange, "the provided continue parameter is too old: revision %d is compacted", rev)
		}
		if rev > s.rev {
			return nil, status.Error(codes.InvalidArgument, "continue: revision from the future")
		}
		objs = s.snapshotLocked(res.Name, rev)
	}
	keys := sortedKeys(objs)
	if ns != "" {
		// Like etcd's key prefix: only this namespace's keys count.
		lo := sort.SearchStrings(keys, ns+"/")
		hi := sort.SearchStrings(keys, ns+"0") // '0' follows '/'
		keys = keys[lo:hi]
	}
	start := sort.SearchStrings(keys, after)
	if start < len(keys) && keys[start] == after {
		start++
	}
	resp := &apiv1.ListResponse{ResourceVersion: strconv.FormatInt(rev, 10)}
	for i := start; i < len(keys); i++ {
		o := objs[keys[i]]
		if !f.matches(o) {
			continue
		}
		a, err := pack(o)
		if err != nil {
			return nil, err
		}
		resp.Items = append(resp.Items, a)
		if lim := req.GetLimit(); lim > 0 && int64(len(resp.Items)) == lim && i+1 < len(keys) {
			resp.Continue = encodeContinue(rev, keys[i])
			resp.RemainingItemCount = int64(len(keys) - i - 1)
			break
		}
	}
	return resp, nil
}

// snapshotLocked is the resource's objects as they were at rev (which must
// be after the compacted revision).
func (s *Server) snapshotLocked(resource string, rev int64) map[string]scheme.Object {
	snap := make(map[string]scheme.Object, len(s.objects[resource]))
	for k, v := range s.objects[resource] {
		snap[k] = v
	}
	for i := len(s.history) - 1; i >= 0 && s.history[i].rev > rev; i-- {
		c := s.history[i]
		if c.resource != resource {
			continue
		}
		if c.prev == nil {
			delete(snap, c.key)
		} else {
			snap[c.key] = c.prev
		}
	}
	return snap
}

func encodeContinue(rev int64, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(rev, 10) + "|" + key))
}

func decodeContinue(c string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if r, k, ok := strings.Cut(string(b), "|"); ok {
			if rev, err := strconv.ParseInt(r, 10, 64); err == nil {
				return rev, k, nil
			}
		}
	}
	return 0, "", status.Error(codes.InvalidArgument, "continue: invalid token")
}

// Update implements ResourceService.
func (s *Server) Update(ctx context.Context, req *apiv1.UpdateRequest) (*apiv1.UpdateResponse, error) {
	res, obj, err := decodeObject(req.GetObject())
	if err != nil {
		return nil, err
	}
	m := scheme.Meta(obj)
	if err := s.react(ctx, Action{Verb: "update", Resource: res.Name, Namespace: m.Namespace, Name: m.Name, Object: proto.Clone(obj).(scheme.Object)}); err != nil {
		return nil, err
	}
	if !res.Namespaced {
		m.Namespace = ""
	}
	key, err := objectKey(res, m.Namespace, m.Name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.objects[res.Name][key]
	if !ok {
		return nil, notFound(res, m.Name)
	}
	sm := stored.GetMetadata()
	if err := checkPreconditions(res, m.Name, m.Uid, m.ResourceVersion, sm); err != nil {
		return nil, err
	}
	// Read-only metadata and the status come from storage.
	m.Uid, m.CreationTimestamp, m.Generation = sm.Uid, sm.CreationTimestamp, sm.Generation
	m.DeletionTimestamp, m.DeletionGracePeriodSeconds = sm.DeletionTimestamp, sm.DeletionGracePeriodSeconds
	m.ResourceVersion = sm.ResourceVersion
	if res.HasStatus {
		copyField(obj, stored, "status")
	}
	if !fieldEqual(obj, stored, "spec") {
		m.Generation++
	}
	a, err := s.write(res, key, stored, obj, req.GetDryRun())
	if err != nil {
		return nil, err
	}
	return &apiv1.UpdateResponse{Object: a}, nil
}

// UpdateStatus implements ResourceService.
func (s *Server) UpdateStatus(ctx context.Context, req *apiv1.UpdateStatusRequest) (*apiv1.UpdateStatusResponse, error) {
	res, obj, err := decodeObject(req.GetObject())
	if err != nil {
		return nil, err
	}
	m := scheme.Meta(obj)
	if err := s.react(ctx, Action{Verb: "updatestatus", Resource: res.Name, Namespace: m.Namespace, Name: m.Name, Object: proto.Clone(obj).(scheme.Object)}); err != nil {
		return nil, err
	}
	if !res.HasStatus {
		return nil, status.Errorf(codes.InvalidArgument, "%s have no status", res.GroupResource())
	}
	if !res.Namespaced {
		m.Namespace = ""
	}
	key, err := objectKey(res, m.Namespace, m.Name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.objects[res.Name][key]
	if !ok {
		return nil, notFound(res, m.Name)
	}
	if err := checkPreconditions(res, m.Name, m.Uid, m.ResourceVersion, stored.GetMetadata()); err != nil {
		return nil, err
	}
	next := proto.Clone(stored).(scheme.Object)
	copyField(next, obj, "status")
	a, err := s.write(res, key, stored, next, false)
	if err != nil {
		return nil, err
	}
	return &apiv1.UpdateStatusResponse{Object: a}, nil
}

// write commits next over stored unless nothing changed. An object being
// deleted whose last finalizer is gone and whose grace period is over is
// removed (Kubernetes' ShouldDeleteDuringUpdate).
func (s *Server) write(res *scheme.Resource, key string, stored, next scheme.Object, dryRun bool) (*anypb.Any, error) {
	if proto.Equal(stored, next) || dryRun {
		return pack(next)
	}
	typ := "MODIFIED"
	nm := next.GetMetadata()
	if nm.DeletionTimestamp != nil && len(nm.Finalizers) == 0 && nm.GetDeletionGracePeriodSeconds() == 0 {
		typ = "DELETED"
	}
	return pack(s.commit(res.Name, typ, key, stored, next))
}
