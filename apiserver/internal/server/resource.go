package server

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"strings"

	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gantryhq/gantry/apiserver/internal/registry"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
)

// Version is the apiserver's version, set at build time.
var Version = "v0.1.0-dev"

// ResourceServer implements apiv1.ResourceServiceServer over a registry.
type ResourceServer struct {
	apiv1.UnimplementedResourceServiceServer
	reg    *registry.Registry
	logger *zap.Logger
}

var _ apiv1.ResourceServiceServer = (*ResourceServer)(nil)

// NewResourceServer returns the service over reg.
func NewResourceServer(reg *registry.Registry, logger *zap.Logger) *ResourceServer {
	return &ResourceServer{reg: reg, logger: logger}
}

const typeURLPrefix = "type.googleapis.com/"

// unpack turns an Any into the kind's message.
func unpack(a *anypb.Any) (proto.Message, error) {
	if a == nil {
		return nil, status.Error(codes.InvalidArgument, "object: Required value")
	}
	name := a.GetTypeUrl()
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	res, ok := scheme.ForMessageName(protoreflect.FullName(name))
	if !ok {
		return nil, status.Errorf(codes.InvalidArgument, "object: unknown type %q", a.GetTypeUrl())
	}
	obj := res.New()
	if err := proto.Unmarshal(a.GetValue(), obj); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "object: cannot decode %s: %v", name, err)
	}
	return obj, nil
}

func pack(m proto.Message) (*anypb.Any, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encode: %v", err)
	}
	return &anypb.Any{TypeUrl: typeURLPrefix + string(m.ProtoReflect().Descriptor().FullName()), Value: b}, nil
}

// toStatus turns a registry error into a gRPC status; anything else is
// Internal (or the context's own code).
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var se *registry.StatusError
	if errors.As(err, &se) {
		code, reason := codes.Internal, client.ReasonInternalError
		switch se.Reason {
		case registry.ReasonNotFound:
			code, reason = codes.NotFound, client.ReasonNotFound
		case registry.ReasonAlreadyExists:
			code, reason = codes.AlreadyExists, client.ReasonAlreadyExists
		case registry.ReasonConflict:
			code, reason = codes.Aborted, client.ReasonConflict
		case registry.ReasonInvalid:
			code, reason = codes.InvalidArgument, client.ReasonInvalid
		case registry.ReasonBadRequest:
			code, reason = codes.InvalidArgument, client.ReasonBadRequest
		case registry.ReasonForbidden:
			code, reason = codes.FailedPrecondition, client.ReasonForbidden
		case registry.ReasonGone:
			code, reason = codes.OutOfRange, client.ReasonExpired
		}
		return client.StatusError(code, reason, se.Message)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

func (s *ResourceServer) resource(name string) (*scheme.Resource, error) {
	res, err := s.reg.Resource(name)
	return res, toStatus(err)
}

// Create implements ResourceService.Create.
func (s *ResourceServer) Create(ctx context.Context, req *apiv1.CreateRequest) (*apiv1.CreateResponse, error) {
	obj, err := unpack(req.GetObject())
	if err != nil {
		return nil, err
	}
	out, err := s.reg.Create(ctx, obj, req.GetDryRun())
	if err != nil {
		return nil, toStatus(err)
	}
	a, err := pack(out)
	return &apiv1.CreateResponse{Object: a}, err
}

// Get implements ResourceService.Get.
func (s *ResourceServer) Get(ctx context.Context, req *apiv1.GetRequest) (*apiv1.GetResponse, error) {
	res, err := s.resource(req.GetResource())
	if err != nil {
		return nil, err
	}
	out, err := s.reg.Get(ctx, res, req.GetNamespace(), req.GetName())
	if err != nil {
		return nil, toStatus(err)
	}
	a, err := pack(out)
	return &apiv1.GetResponse{Object: a}, err
}

// List implements ResourceService.List.
func (s *ResourceServer) List(ctx context.Context, req *apiv1.ListRequest) (*apiv1.ListResponse, error) {
	res, err := s.resource(req.GetResource())
	if err != nil {
		return nil, err
	}
	sel, err := registry.ParseSelector(res, req.GetLabelSelector(), req.GetFieldSelector())
	if err != nil {
		return nil, toStatus(err)
	}
	if req.GetLimit() < 0 {
		return nil, status.Error(codes.InvalidArgument, "limit: Invalid value: must be >= 0")
	}
	out, err := s.reg.List(ctx, res, registry.ListOptions{
		Namespace: req.GetNamespace(), Selector: sel, Limit: req.GetLimit(), Continue: req.GetContinue(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &apiv1.ListResponse{
		Items:              make([]*anypb.Any, 0, len(out.Items)),
		ResourceVersion:    strconv.FormatInt(out.ResourceVersion, 10),
		Continue:           out.Continue,
		RemainingItemCount: out.Remaining,
	}
	for _, obj := range out.Items {
		a, err := pack(obj)
		if err != nil {
			return nil, err
		}
		resp.Items = append(resp.Items, a)
	}
	return resp, nil
}

// Update implements ResourceService.Update.
func (s *ResourceServer) Update(ctx context.Context, req *apiv1.UpdateRequest) (*apiv1.UpdateResponse, error) {
	obj, err := unpack(req.GetObject())
	if err != nil {
		return nil, err
	}
	out, err := s.reg.Update(ctx, obj, req.GetDryRun())
	if err != nil {
		return nil, toStatus(err)
	}
	a, err := pack(out)
	return &apiv1.UpdateResponse{Object: a}, err
}

// UpdateStatus implements ResourceService.UpdateStatus.
func (s *ResourceServer) UpdateStatus(ctx context.Context, req *apiv1.UpdateStatusRequest) (*apiv1.UpdateStatusResponse, error) {
	obj, err := unpack(req.GetObject())
	if err != nil {
		return nil, err
	}
	out, err := s.reg.UpdateStatus(ctx, obj)
	if err != nil {
		return nil, toStatus(err)
	}
	a, err := pack(out)
	return &apiv1.UpdateStatusResponse{Object: a}, err
}

// Delete implements ResourceService.Delete.
func (s *ResourceServer) Delete(ctx context.Context, req *apiv1.DeleteRequest) (*apiv1.DeleteResponse, error) {
	res, err := s.resource(req.GetResource())
	if err != nil {
		return nil, err
	}
	opts := registry.DeleteOptions{
		GracePeriodSeconds: req.GracePeriodSeconds,
		UID:                req.GetPreconditions().GetUid(),
		ResourceVersion:    req.GetPreconditions().GetResourceVersion(),
		PropagationPolicy:  req.GetPropagationPolicy(),
	}
	out, deleted, err := s.reg.Delete(ctx, res, req.GetNamespace(), req.GetName(), opts)
	if err != nil {
		return nil, toStatus(err)
	}
	a, err := pack(out)
	return &apiv1.DeleteResponse{Object: a, Deleted: deleted}, err
}

// Watch implements ResourceService.Watch.
func (s *ResourceServer) Watch(req *apiv1.WatchRequest, stream apiv1.ResourceService_WatchServer) error {
	res, err := s.resource(req.GetResource())
	if err != nil {
		return err
	}
	sel, err := registry.ParseSelector(res, req.GetLabelSelector(), req.GetFieldSelector())
	if err != nil {
		return toStatus(err)
	}
	opts := registry.WatchOptions{
		Namespace:       req.GetNamespace(),
		Selector:        sel,
		ResourceVersion: req.GetResourceVersion(),
		Bookmarks:       req.GetAllowBookmarks(),
	}
	err = s.reg.Watch(stream.Context(), res, opts, func(ev registry.WatchEvent) error {
		resp := &apiv1.WatchResponse{Type: ev.Type, ResourceVersion: strconv.FormatInt(ev.ResourceVersion, 10)}
		if ev.Object != nil {
			a, err := pack(ev.Object)
			if err != nil {
				return err
			}
			resp.Object = a
		}
		return stream.Send(resp)
	})
	if stream.Context().Err() != nil {
		return nil
	}
	return toStatus(err)
}

// Bind implements ResourceService.Bind.
func (s *ResourceServer) Bind(ctx context.Context, req *apiv1.BindRequest) (*apiv1.BindResponse, error) {
	out, err := s.reg.Bind(ctx, req.GetNamespace(), req.GetName(), req.GetUid(), req.GetNodeName())
	if err != nil {
		return nil, toStatus(err)
	}
	a, err := pack(out)
	return &apiv1.BindResponse{Pod: a}, err
}

// Version implements ResourceService.Version.
func (s *ResourceServer) Version(context.Context, *apiv1.VersionRequest) (*apiv1.VersionResponse, error) {
	return &apiv1.VersionResponse{
		GitVersion: Version,
		GoVersion:  runtime.Version(),
		Platform:   runtime.GOOS + "/" + runtime.GOARCH,
	}, nil
}
