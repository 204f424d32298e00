package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/kubelet/internal/runtime"
	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	kubeletv1 "github.com/gantryhq/gantry/proto/gantry/kubelet/v1"
)

// PodSource finds a pod bound to the node.
type PodSource interface {
	Pod(namespace, name string) (*corev1.Pod, error)
}

// Server implements kubeletv1.KubeletService.
type Server struct {
	kubeletv1.UnimplementedKubeletServiceServer
	pods PodSource
	rt   runtime.Runtime
	log  *zap.Logger
}

// New returns the service over pods and rt.
func New(pods PodSource, rt runtime.Runtime, log *zap.Logger) *Server {
	return &Server{pods: pods, rt: rt, log: log}
}

// container finds the named container's instance (the newest, or the one
// before with previous).
func (s *Server) container(ctx context.Context, ns, name, cname string, previous bool) (*corev1.Pod, *runtime.ContainerStatus, error) {
	pod, err := s.pods.Pod(ns, name)
	if err != nil {
		if client.IsNotFound(err) || errors.Is(err, errNotFound) {
			return nil, nil, status.Errorf(codes.NotFound, "pod %s/%s not found on this node", ns, name)
		}
		return nil, nil, status.Errorf(codes.NotFound, "pod %s/%s: %v", ns, name, err)
	}
	cs := pod.GetSpec().GetContainers()
	if cname == "" {
		if len(cs) != 1 {
			names := make([]string, 0, len(cs))
			for _, c := range cs {
				names = append(names, c.GetName())
			}
			return nil, nil, status.Errorf(codes.InvalidArgument, "a container name must be specified for pod %s, choose one of: %v", name, names)
		}
		cname = cs[0].GetName()
	}
	if !slices.ContainsFunc(cs, func(c *corev1.Container) bool { return c.GetName() == cname }) {
		return nil, nil, status.Errorf(codes.NotFound, "container %s is not valid for pod %s", cname, name)
	}
	st, err := s.rt.PodStatus(ctx, pod.GetMetadata().GetUid())
	if err != nil {
		return nil, nil, status.Errorf(codes.Internal, "read pod status: %v", err)
	}
	var inst *runtime.ContainerStatus
	if previous {
		inst = st.Previous(cname)
		if inst == nil {
			return nil, nil, status.Errorf(codes.NotFound, "previous terminated container %q in pod %q not found", cname, name)
		}
	} else if inst = st.Latest(cname); inst == nil {
		return nil, nil, status.Errorf(codes.FailedPrecondition, "container %q in pod %q is waiting to start", cname, name)
	}
	return pod, inst, nil
}

var errNotFound = errors.New("not found")

// streamWriter sends each write as one response.
type streamWriter struct {
	mu   *sync.Mutex
	send func([]byte) error
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.send(append([]byte(nil), p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Logs implements kubeletv1.KubeletServiceServer.
func (s *Server) Logs(req *apiv1.PodLogsRequest, stream grpc.ServerStreamingServer[apiv1.PodLogsResponse]) error {
	ctx := stream.Context()
	_, inst, err := s.container(ctx, req.GetNamespace(), req.GetName(), req.GetContainer(), req.GetPrevious())
	if err != nil {
		return err
	}
	opts := runtime.LogOptions{Follow: req.GetFollow() && !req.GetPrevious(), Timestamps: req.GetTimestamps(), TailLines: -1}
	if req.TailLines != nil {
		opts.TailLines = req.GetTailLines()
	}
	if req.SinceSeconds != nil {
		opts.Since = time.Now().Add(-time.Duration(req.GetSinceSeconds()) * time.Second)
	}
	var mu sync.Mutex
	out := streamWriter{&mu, func(b []byte) error { return stream.Send(&apiv1.PodLogsResponse{Data: b, Stream: "stdout"}) }}
	errw := streamWriter{&mu, func(b []byte) error { return stream.Send(&apiv1.PodLogsResponse{Data: b, Stream: "stderr"}) }}
	if err := s.rt.Logs(ctx, inst.ID, opts, out, errw); err != nil {
		if errors.Is(err, runtime.ErrNotFound) {
			return status.Errorf(codes.NotFound, "container %s is gone", inst.Name)
		}
		return status.Errorf(codes.Internal, "logs: %v", err)
	}
	return nil
}

// Exec implements kubeletv1.KubeletServiceServer.
func (s *Server) Exec(stream grpc.BidiStreamingServer[apiv1.PodExecRequest, apiv1.PodExecResponse]) error {
	ctx := stream.Context()
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	start := first.GetStart()
	if start == nil {
		return status.Error(codes.InvalidArgument, "the first exec request must carry start")
	}
	if len(start.GetCommand()) == 0 {
		return status.Error(codes.InvalidArgument, "command: Required value")
	}
	_, inst, err := s.container(ctx, start.GetNamespace(), start.GetName(), start.GetContainer(), false)
	if err != nil {
		return err
	}
	if inst.State != runtime.StateRunning {
		return status.Errorf(codes.FailedPrecondition, "container %s is not running", inst.Name)
	}
	var mu sync.Mutex
	opts := runtime.ExecOptions{
		Command: start.GetCommand(),
		TTY:     start.GetTty(),
		Stdout:  streamWriter{&mu, func(b []byte) error { return stream.Send(&apiv1.PodExecResponse{Stdout: b}) }},
		Stderr:  streamWriter{&mu, func(b []byte) error { return stream.Send(&apiv1.PodExecResponse{Stderr: b}) }},
	}
	if start.GetStdin() {
		pr, pw := io.Pipe()
		opts.Stdin = pr
		go func() {
			for {
				req, err := stream.Recv()
				if err != nil {
					pw.CloseWithError(io.EOF)
					return
				}
				if len(req.GetStdin()) > 0 {
					if _, err := pw.Write(req.GetStdin()); err != nil {
						return
					}
				}
				if req.GetCloseStdin() {
					pw.Close()
					return
				}
			}
		}()
	}
	code, err := s.rt.Exec(ctx, inst.ID, opts)
	if err != nil {
		if errors.Is(err, runtime.ErrNotFound) {
			return status.Errorf(codes.NotFound, "container %s is gone", inst.Name)
		}
		return status.Errorf(codes.Internal, "exec: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return stream.Send(&apiv1.PodExecResponse{Exited: true, ExitCode: int32(code)})
}

// TLSOptions configure the service's TLS.
type TLSOptions struct {
	// CertFile and KeyFile are the serving certificate; empty generates a
	// self-signed one for hosts.
	CertFile, KeyFile string
	Hosts             []string
	// ClientCAFile verifies client certificates. Required.
	ClientCAFile string
	// AllowedGroups and AllowedUsers: a client certificate must name one
	// (O = group, CN = user).
	AllowedGroups, AllowedUsers []string
}

// TLSConfig is the serving TLS config of o.
func TLSConfig(o TLSOptions) (*tls.Config, error) {
	if o.ClientCAFile == "" {
		return nil, errors.New("a client CA file is required")
	}
	caPEM, err := os.ReadFile(o.ClientCAFile)
	if err != nil {
		return nil, fmt.Errorf("client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("client CA %s: no certificates", o.ClientCAFile)
	}
	var cert tls.Certificate
	if o.CertFile != "" {
		cert, err = tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
	} else {
		cert, err = selfSigned(o.Hosts)
	}
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2"},
	}, nil
}

func selfSigned(hosts []string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "gantry-kubelet"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// Authorizer returns interceptors that let through only callers whose
// verified client certificate names an allowed group or user.
func Authorizer(groups, users []string) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	check := func(ctx context.Context) error {
		p, ok := peer.FromContext(ctx)
		if !ok {
			return status.Error(codes.Unauthenticated, "no peer")
		}
		ti, ok := p.AuthInfo.(credentials.TLSInfo)
		if !ok || len(ti.State.VerifiedChains) == 0 || len(ti.State.VerifiedChains[0]) == 0 {
			return status.Error(codes.Unauthenticated, "a verified client certificate is required")
		}
		leaf := ti.State.VerifiedChains[0][0]
		if slices.Contains(users, leaf.Subject.CommonName) {
			return nil
		}
		for _, g := range leaf.Subject.Organization {
			if slices.Contains(groups, g) {
				return nil
			}
		}
		return status.Errorf(codes.PermissionDenied, "user %q may not use the kubelet API", leaf.Subject.CommonName)
	}
	unary := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if err := check(ctx); err != nil {
			return nil, err
		}
		return h(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if err := check(ss.Context()); err != nil {
			return err
		}
		return h(srv, ss)
	}
	return unary, stream
}
