package auth

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// DefaultExempt are the methods served without authentication when
// Options.Exempt is nil: the health service and server reflection.
var DefaultExempt = []string{
	"/grpc.health.v1.Health/",
	"/grpc.reflection.v1.ServerReflection/",
	"/grpc.reflection.v1alpha.ServerReflection/",
}

// Options configure the interceptors.
type Options struct {
	// Authenticator finds the user; required.
	Authenticator Authenticator
	// Authorizer admits the user's request; nil means AlwaysAllow.
	Authorizer Authorizer
	// Exempt lists methods served to anyone, without authentication or
	// authorization: full method names ("/pkg.Service/Method"), or a
	// service prefix ending in "/" ("/pkg.Service/"). nil means
	// DefaultExempt; an empty list exempts nothing.
	Exempt []string
	// Logger records why requests were refused; nil logs nothing.
	Logger *zap.Logger
}

// errUnauthorized is what a client without valid credentials is told, as
// Kubernetes tells it; the reason goes to the log only.
var errUnauthorized = status.Error(codes.Unauthenticated, "Unauthorized")

type guard struct {
	authn  Authenticator
	authz  Authorizer
	exempt []string
	log    *zap.Logger
}

func newGuard(opts Options) *guard {
	if opts.Authenticator == nil {
		panic("auth: Options.Authenticator is required")
	}
	g := &guard{authn: opts.Authenticator, authz: opts.Authorizer, exempt: opts.Exempt, log: opts.Logger}
	if g.authz == nil {
		g.authz = AlwaysAllow{}
	}
	if g.exempt == nil {
		g.exempt = DefaultExempt
	}
	g.exempt = slices.Clone(g.exempt)
	if g.log == nil {
		g.log = zap.NewNop()
	}
	g.log = g.log.Named("auth")
	return g
}

// UnaryServerInterceptor authenticates and authorizes every unary RPC but
// the exempt ones and passes the user to the handler in its context. It
// panics if opts.Authenticator is nil.
func UnaryServerInterceptor(opts Options) grpc.UnaryServerInterceptor {
	g := newGuard(opts)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if g.isExempt(info.FullMethod) {
			return handler(ctx, req)
		}
		user, err := g.authenticate(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		if err := g.authorize(ctx, user, RequestAttributes(info.FullMethod, req)); err != nil {
			return nil, err
		}
		return handler(WithUser(ctx, user), req)
	}
}

// StreamServerInterceptor authenticates every streaming RPC but the exempt
// ones when it starts, and authorizes it when the handler receives the first
// request message (or sends before receiving any). The stream's context
// carries the user.  It panics if opts.Authenticator is nil.
func StreamServerInterceptor(opts Options) grpc.StreamServerInterceptor {
	g := newGuard(opts)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if g.isExempt(info.FullMethod) {
			return handler(srv, ss)
		}
		user, err := g.authenticate(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &authorizingStream{
			ServerStream: ss,
			ctx:          WithUser(ss.Context(), user),
			g:            g,
			user:         user,
			method:       info.FullMethod,
		})
	}
}

// ServerOptions returns the interceptors as options for grpc.NewServer,
// chained so that other interceptors may be added beside them.
func ServerOptions(opts Options) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(UnaryServerInterceptor(opts)),
		grpc.ChainStreamInterceptor(StreamServerInterceptor(opts)),
	}
}

func (g *guard) isExempt(method string) bool {
	for _, e := range g.exempt {
		if method == e || (strings.HasSuffix(e, "/") && strings.HasPrefix(method, e)) {
			return true
		}
	}
	return false
}

func (g *guard) authenticate(ctx context.Context, method string) (*User, error) {
	user, err := g.authn.Authenticate(ctx)
	if err == nil && user == nil {
		err = errors.New("no credentials: neither a client certificate nor a bearer token")
	}
	if err != nil {
		fields := []zap.Field{zap.String("method", method), zap.Error(err)}
		if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
			fields = append(fields, zap.Stringer("peer", p.Addr))
		}
		g.log.Debug("request unauthenticated", fields...)
		return nil, errUnauthorized
	}
	if !slices.Contains(user.Groups, GroupAuthenticated) {
		user = user.clone()
		user.Groups = append(user.Groups, GroupAuthenticated)
	}
	return user, nil
}

func (g *guard) authorize(ctx context.Context, user *User, attrs Attributes) error {
	err := g.authz.Authorize(ctx, user, attrs)
	if err == nil {
		return nil
	}
	g.log.Debug("request forbidden", zap.String("user", user.Name), zap.Stringer("attributes", attrs), zap.Error(err))
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Errorf(codes.PermissionDenied, "forbidden: User %q cannot %s: %v", user.Name, attrs, err)
}

// authorizingStream authorizes a stream once, on its first message.
type authorizingStream struct {
	grpc.ServerStream
	ctx    context.Context
	g      *guard
	user   *User
	method string

	mu   sync.Mutex
	done bool  // authorization decided
	err  error // its outcome
}

func (s *authorizingStream) Context() context.Context { return s.ctx }

// decide authorizes the stream with the attributes of req (nil: the method
// alone) unless it has been decided already.
func (s *authorizingStream) decide(req any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.done = true
		s.err = s.g.authorize(s.ctx, s.user, RequestAttributes(s.method, req))
	}
	return s.err
}

func (s *authorizingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		if errors.Is(err, io.EOF) {
			if aerr := s.decide(nil); aerr != nil {
				return aerr
			}
		}
		return err
	}
	return s.decide(m)
}

func (s *authorizingStream) SendMsg(m any) error {
	if err := s.decide(nil); err != nil {
		return err
	}
	return s.ServerStream.SendMsg(m)
}

func (s *authorizingStream) SendHeader(md metadata.MD) error {
	if err := s.decide(nil); err != nil {
		return err
	}
	return s.ServerStream.SendHeader(md)
}
