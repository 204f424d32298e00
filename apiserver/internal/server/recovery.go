package server

import (
	"context"
	"runtime/debug"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Recovery turns a panic in a handler into an Internal error for that one
// request, logged with its stack, so the server keeps serving.
type Recovery struct{ Logger *zap.Logger }

func (r Recovery) recovered(method string, p any, err *error) {
	r.Logger.Error("handler panicked", zap.String("method", method), zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
	*err = status.Errorf(codes.Internal, "internal error serving %s", method)
}

// Unary is the unary interceptor.
func (r Recovery) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.recovered(info.FullMethod, p, &err)
		}
	}()
	return handler(ctx, req)
}

// Stream is the stream interceptor.
func (r Recovery) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.recovered(info.FullMethod, p, &err)
		}
	}()
	return handler(srv, ss)
}
