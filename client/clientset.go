package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"github.com/gantryhq/gantry/client/config"
	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

const (
	// MaxSendMessageSize is the largest request a client sends: the
	// apiserver's limit on one object (3 MiB).
	MaxSendMessageSize = 3 << 20
	// MaxRecvMessageSize is the largest response a client accepts; a List
	// without paging can be large.
	MaxRecvMessageSize = 256 << 20

	// KeepaliveTime is how long a connection may be idle before the client
	// pings the server. The server's keepalive enforcement policy must allow
	// it (MinTime at most this).
	KeepaliveTime = 30 * time.Second
	// KeepaliveTimeout is how long the client waits for the ping's answer
	// before it closes the connection.
	KeepaliveTimeout = 10 * time.Second
)

// Clientset is a connection to the apiserver. It is safe for concurrent use.
type Clientset struct {
	conn      *grpc.ClientConn // nil when made by NewForConn
	rs        apiv1.ResourceServiceClient
	namespace string
	log       *zap.Logger
}

// Option changes how [New] dials.
type Option func(*options)

type options struct {
	log         *zap.Logger
	userAgent   string
	dialer      func(context.Context, string) (net.Conn, error)
	dialOptions []grpc.DialOption
}

// WithLogger sets the logger of the clientset (default: none).
func WithLogger(l *zap.Logger) Option { return func(o *options) { o.log = l } }

// WithUserAgent sets the user agent sent with every call ("scheduler/v0.1").
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// WithDialer dials with d instead of TCP (tests dial an in-memory listener).
func WithDialer(d func(ctx context.Context, addr string) (net.Conn, error)) Option {
	return func(o *options) { o.dialer = d }
}

// WithDialOptions adds gRPC dial options (interceptors, for example).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOptions = append(o.dialOptions, opts...) }
}

// New connects to the apiserver cfg names. The connection is made lazily,
// on the first call; New fails only on a configuration error. Close the
// clientset when done.
func New(cfg *config.Config, opts ...Option) (*Clientset, error) {
	if cfg == nil {
		return nil, errors.New("client: no config")
	}
	if cfg.Server == "" {
		return nil, errors.New("client: config has no server")
	}
	o := options{log: zap.NewNop(), userAgent: "gantry-client"}
	for _, opt := range opts {
		opt(&o)
	}
	dopts := []grpc.DialOption{
		grpc.WithUserAgent(o.userAgent),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallSendMsgSize(MaxSendMessageSize),
			grpc.MaxCallRecvMsgSize(MaxRecvMessageSize),
		),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:    KeepaliveTime,
			Timeout: KeepaliveTimeout,
		}),
	}
	if cfg.Plaintext {
		dopts = append(dopts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	} else {
		tc := cfg.TLS
		if tc == nil {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		dopts = append(dopts, grpc.WithTransportCredentials(credentials.NewTLS(tc.Clone())))
	}
	if cfg.BearerToken != "" {
		dopts = append(dopts, grpc.WithPerRPCCredentials(tokenCredentials{token: cfg.BearerToken, secure: !cfg.Plaintext}))
	}
	target := cfg.Server
	if o.dialer != nil {
		dopts = append(dopts, grpc.WithContextDialer(o.dialer))
		target = "passthrough:///" + cfg.Server
	}
	dopts = append(dopts, o.dialOptions...)
	conn, err := grpc.NewClient(target, dopts...)
	if err != nil {
		return nil, fmt.Errorf("client: dial %s: %w", cfg.Server, err)
	}
	ns := cfg.Namespace
	if ns == "" {
		ns = config.DefaultNamespace
	}
	return &Clientset{conn: conn, rs: apiv1.NewResourceServiceClient(conn), namespace: ns, log: o.log}, nil
}

// NewForConn makes a clientset over an existing connection, which the caller
// keeps and closes.
func NewForConn(conn grpc.ClientConnInterface) *Clientset {
	return &Clientset{rs: apiv1.NewResourceServiceClient(conn), namespace: config.DefaultNamespace, log: zap.NewNop()}
}

// Close closes the connection. Calls in flight fail.
func (c *Clientset) Close() error {
	if c.conn == nil {
		return nil
	}
	return c.conn.Close()
}

// Namespace is the default namespace of the config the clientset was made
// from ("default" if it named none).
func (c *Clientset) Namespace() string { return c.namespace }

// ResourceService is the raw generated client, for calls the typed clients
// do not cover.
func (c *Clientset) ResourceService() apiv1.ResourceServiceClient { return c.rs }

// Version asks the server for its version.
func (c *Clientset) Version(ctx context.Context) (*apiv1.VersionResponse, error) {
	return c.rs.Version(ctx, &apiv1.VersionRequest{})
}

// Bind sets a pending pod's spec.nodeName. It fails with FailedPrecondition
// when the pod already has a node or is being deleted.
func (c *Clientset) Bind(ctx context.Context, namespace, name, nodeName string) (*corev1.Pod, error) {
	return c.bind(ctx, &apiv1.BindRequest{Namespace: namespace, Name: name, NodeName: nodeName})
}

// BindPod binds pod to nodeName, with pod's uid as a precondition so that a
// pod deleted and created again under the same name is not bound by mistake.
func (c *Clientset) BindPod(ctx context.Context, pod *corev1.Pod, nodeName string) (*corev1.Pod, error) {
	m := pod.GetMetadata()
	return c.bind(ctx, &apiv1.BindRequest{Namespace: m.GetNamespace(), Name: m.GetName(), Uid: m.GetUid(), NodeName: nodeName})
}

func (c *Clientset) bind(ctx context.Context, req *apiv1.BindRequest) (*corev1.Pod, error) {
	resp, err := c.rs.Bind(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("bind pod %s/%s to %s: %w", req.Namespace, req.Name, req.NodeName, err)
	}
	pod := &corev1.Pod{}
	if err := resp.GetPod().UnmarshalTo(pod); err != nil {
		return nil, fmt.Errorf("bind pod %s/%s: decode response: %w", req.Namespace, req.Name, err)
	}
	return pod, nil
}

// Namespaces is the typed client of namespaces.
func (c *Clientset) Namespaces() *Typed[*corev1.Namespace] { return For[*corev1.Namespace](c, "") }

// Pods is the typed client of pods in ns ("" for all namespaces, in List and
// Watch).
func (c *Clientset) Pods(ns string) *Typed[*corev1.Pod] { return For[*corev1.Pod](c, ns) }

// Nodes is the typed client of nodes.
func (c *Clientset) Nodes() *Typed[*corev1.Node] { return For[*corev1.Node](c, "") }

// Services is the typed client of services in ns.
func (c *Clientset) Services(ns string) *Typed[*corev1.Service] { return For[*corev1.Service](c, ns) }

// Endpoints is the typed client of endpoints in ns.
func (c *Clientset) Endpoints(ns string) *Typed[*corev1.Endpoints] {
	return For[*corev1.Endpoints](c, ns)
}

// Events is the typed client of events in ns.
func (c *Clientset) Events(ns string) *Typed[*corev1.Event] { return For[*corev1.Event](c, ns) }

// ReplicaSets is the typed client of replica sets in ns.
func (c *Clientset) ReplicaSets(ns string) *Typed[*appsv1.ReplicaSet] {
	return For[*appsv1.ReplicaSet](c, ns)
}

// Deployments is the typed client of deployments in ns.
func (c *Clientset) Deployments(ns string) *Typed[*appsv1.Deployment] {
	return For[*appsv1.Deployment](c, ns)
}

// Jobs is the typed client of jobs in ns.
func (c *Clientset) Jobs(ns string) *Typed[*batchv1.Job] { return For[*batchv1.Job](c, ns) }

// CronJobs is the typed client of cron jobs in ns.
func (c *Clientset) CronJobs(ns string) *Typed[*batchv1.CronJob] { return For[*batchv1.CronJob](c, ns) }

// Leases is the typed client of leases in ns.
func (c *Clientset) Leases(ns string) *Typed[*coordinationv1.Lease] {
	return For[*coordinationv1.Lease](c, ns)
}

// tokenCredentials sends a bearer token with every call.
type tokenCredentials struct {
	token  string
	secure bool
}

func (t tokenCredentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + t.token}, nil
}

func (t tokenCredentials) RequireTransportSecurity() bool { return t.secure }
