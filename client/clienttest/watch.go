package clienttest

import (
	"context"
	"sort"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gantryhq/gantry/client/scheme"
	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Delete implements ResourceService.
func (s *Server) Delete(ctx context.Context, req *apiv1.DeleteRequest) (*apiv1.DeleteResponse, error) {
	res, err := lookupResource(req.GetResource())
	if err != nil {
		return nil, err
	}
	if err := s.react(ctx, Action{Verb: "delete", Resource: res.Name, Namespace: req.GetNamespace(), Name: req.GetName(),
		Delete: proto.Clone(req).(*apiv1.DeleteRequest)}); err != nil {
		return nil, err
	}
	key, err := objectKey(res, req.GetNamespace(), req.GetName())
	if err != nil {
		return nil, err
	}
	switch req.GetPropagationPolicy() {
	case "", "Orphan", "Background", "Foreground":
	default:
		return nil, status.Errorf(codes.InvalidArgument, "propagationPolicy: Unsupported value: %q", req.GetPropagationPolicy())
	}
	if g := req.GracePeriodSeconds; g != nil && *g < 0 {
		return nil, status.Error(codes.InvalidArgument, "gracePeriodSeconds: must not be negative")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.objects[res.Name][key]
	if !ok {
		return nil, notFound(res, req.GetName())
	}
	sm := stored.GetMetadata()
	if p := req.GetPreconditions(); p != nil {
		if err := checkPreconditions(res, req.GetName(), p.GetUid(), p.GetResourceVersion(), sm); err != nil {
			return nil, err
		}
	}
	grace := int64(0)
	if pod, ok := stored.(*corev1.Pod); ok && pod.GetSpec().GetNodeName() != "" &&
		pod.GetStatus().GetPhase() != "Succeeded" && pod.GetStatus().GetPhase() != "Failed" {
		grace = 30
		if g := pod.GetSpec().TerminationGracePeriodSeconds; g != nil {
			grace = *g
		}
		if g := req.GracePeriodSeconds; g != nil {
			grace = *g
		}
	}
	if grace > 0 || len(sm.Finalizers) > 0 {
		next := proto.Clone(stored).(scheme.Object)
		nm := scheme.Meta(next)
		if nm.DeletionTimestamp == nil || grace < nm.GetDeletionGracePeriodSeconds() {
			nm.DeletionTimestamp = timestamppb.New(s.now().Add(time.Duration(grace) * time.Second))
			nm.DeletionGracePeriodSeconds = proto.Int64(grace)
		}
		if grace > 0 || len(nm.Finalizers) > 0 {
			if proto.Equal(stored, next) {
				a, err := pack(stored)
				return &apiv1.DeleteResponse{Object: a}, err
			}
			a, err := pack(s.commit(res.Name, "MODIFIED", key, stored, next))
			return &apiv1.DeleteResponse{Object: a}, err
		}
	}
	final := proto.Clone(stored).(scheme.Object)
	a, err := pack(s.commit(res.Name, "DELETED", key, stored, final))
	return &apiv1.DeleteResponse{Object: a, Deleted: true}, err
}

// Bind implements ResourceService.
func (s *Server) Bind(ctx context.Context, req *apiv1.BindRequest) (*apiv1.BindResponse, error) {
	if err := s.react(ctx, Action{Verb: "bind", Resource: "pods", Namespace: req.GetNamespace(), Name: req.GetName(), NodeName: req.GetNodeName()}); err != nil {
		return nil, err
	}
	res, _ := scheme.ByName("pods")
	key, err := objectKey(res, req.GetNamespace(), req.GetName())
	if err != nil {
		return nil, err
	}
	if req.GetNodeName() == "" {
		return nil, status.Error(codes.InvalidArgument, "nodeName: Required value")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.objects[res.Name][key]
	if !ok {
		return nil, notFound(res, req.GetName())
	}
	pod := stored.(*corev1.Pod)
	if uid := req.GetUid(); uid != "" && uid != pod.GetMetadata().GetUid() {
		return nil, status.Errorf(codes.Aborted, "Operation cannot be fulfilled on pods %q: the UID in the precondition (%s) does not match the UID in record (%s). The object might have been deleted and then recreated", req.GetName(), uid, pod.GetMetadata().GetUid())
	}
	if pod.GetMetadata().GetDeletionTimestamp() != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "pod %s is being deleted, cannot be assigned to a host", req.GetName())
	}
	if n := pod.GetSpec().GetNodeName(); n != "" {
		return nil, status.Errorf(codes.FailedPrecondition, "pod %s is already assigned to node %q", req.GetName(), n)
	}
	next := proto.Clone(pod).(*corev1.Pod)
	if next.Spec == nil {
		next.Spec = &corev1.PodSpec{}
	}
	next.Spec.NodeName = req.GetNodeName()
	a, err := pack(s.commit(res.Name, "MODIFIED", key, stored, next))
	return &apiv1.BindResponse{Pod: a}, err
}

// Version implements ResourceService.
func (s *Server) Version(context.Context, *apiv1.VersionRequest) (*apiv1.VersionResponse, error) {
	return &apiv1.VersionResponse{GitVersion: "v0.0.0-clienttest", GoVersion: "", Platform: ""}, nil
}

// Watch implements ResourceService.
func (s *Server) Watch(req *apiv1.WatchRequest, stream grpc.ServerStreamingServer[apiv1.WatchResponse]) error {
	ctx := stream.Context()
	res, err := lookupResource(req.GetResource())
	if err != nil {
		return err
	}
	if err := s.react(ctx, Action{Verb: "watch", Resource: res.Name, Namespace: req.GetNamespace(),
		LabelSelector: req.GetLabelSelector(), FieldSelector: req.GetFieldSelector(), ResourceVersion: req.GetResourceVersion()}); err != nil {
		return err
	}
	ns := req.GetNamespace()
	if !res.Namespaced {
		ns = ""
	}
	f, err := newFilter(res, ns, req.GetLabelSelector(), req.GetFieldSelector())
	if err != nil {
		return err
	}

	s.mu.Lock()
	var cursor int64
	var initial []*apiv1.WatchResponse
	switch rv := req.GetResourceVersion(); rv {
	case "", "0":
		cursor = s.rev
		objs := s.objects[res.Name]
		for _, k := range sortedKeys(objs) {
			if f.matches(objs[k]) {
				a, err := pack(objs[k])
				if err != nil {
					s.mu.Unlock()
					return err
				}
				initial = append(initial, &apiv1.WatchResponse{Type: "ADDED", Object: a})
			}
		}
	default:
		r, err := strconv.ParseInt(rv, 10, 64)
		if err != nil || r < 0 {
			s.mu.Unlock()
			return status.Errorf(codes.InvalidArgument, "resourceVersion: Invalid value: %q", rv)
		}
		if r < s.compacted {
			s.mu.Unlock()
			return status.Errorf(codes.OutOfRange, "too old resource version: %d (%d)", r, s.compacted)
		}
		cursor = r
	}
	s.watches++
	breaks, bookmarks := s.breaks, s.bookmarks
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.watches--
		s.mu.Unlock()
	}()

	for _, ev := range initial {
		if err := stream.Send(ev); err != nil {
			return err
		}
	}
	for {
		s.mu.Lock()
		if cursor < s.compacted {
			s.mu.Unlock()
			return status.Errorf(codes.OutOfRange, "too old resource version: %d (%d)", cursor, s.compacted)
		}
		if s.breaks != breaks {
			s.mu.Unlock()
			return status.Error(codes.Unavailable, "watch stream broken (clienttest)")
		}
		i := sort.Search(len(s.history), func(i int) bool { return s.history[i].rev > cursor })
		pending := s.history[i:len(s.history):len(s.history)]
		changed, rev := s.changed, s.rev
		sendBookmark := false
		if len(pending) == 0 && s.bookmarks != bookmarks {
			sendBookmark, bookmarks = req.GetAllowBookmarks(), s.bookmarks
		}
		s.mu.Unlock()

		for _, c := range pending {
			cursor = c.rev
			if c.resource != res.Name {
				continue
			}
			ev, err := f.translate(c)
			if err != nil {
				return err
			}
			if ev == nil {
				continue
			}
			if err := stream.Send(ev); err != nil {
				return err
			}
		}
		if len(pending) > 0 {
			continue
		}
		if sendBookmark {
			cursor = max(cursor, rev)
			if err := stream.Send(&apiv1.WatchResponse{Type: "BOOKMARK", ResourceVersion: strconv.FormatInt(cursor, 10)}); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-changed:
		}
	}
}

// translate turns a change into the event a watch with f sees, or nil: an
// object that starts matching is ADDED, one that stops matching DELETED.
func (f *filter) translate(c change) (*apiv1.WatchResponse, error) {
	var typ string
	switch c.typ {
	case "ADDED":
		if f.matches(c.obj) {
			typ = "ADDED"
		}
	case "MODIFIED":
		was, is := f.matches(c.prev), f.matches(c.obj)
		switch {
		case was && is:
			typ = "MODIFIED"
		case is:
			typ = "ADDED"
		case was:
			typ = "DELETED"
		}
	case "DELETED":
		if f.matches(c.prev) {
			typ = "DELETED"
		}
	}
	if typ == "" {
		return nil, nil
	}
	a, err := anypb.New(c.obj)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encode: %v", err)
	}
	return &apiv1.WatchResponse{Type: typ, Object: a}, nil
}
