package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/gantryhq/gantry/apiserver/internal/registry"
	"github.com/gantryhq/gantry/client/scheme"
	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	kubeletv1 "github.com/gantryhq/gantry/proto/gantry/kubelet/v1"
)

// PodServer implements apiv1.PodService (logs and exec) by proxying each
// call to the kubelet of the pod's node, found through the Node's
// status.addresses (InternalIP first, then ExternalIP, then Hostname) and
// status.daemonEndpoints.kubeletEndpoint.Port, and dialled over TLS with
// the client certificate of the TLS config it was made with.
type PodServer struct {
	apiv1.UnimplementedPodServiceServer
	reg    *registry.Registry
	tls    *tls.Config
	logger *zap.Logger

	mu    sync.Mutex
	conns map[string]*grpc.ClientConn // by address
}

var _ apiv1.PodServiceServer = (*PodServer)(nil)

// NewPodServer returns the service over reg, dialling kubelets with
// tlsConfig (see KubeletClientTLS). A nil tlsConfig makes every call fail
// with Unavailable.
func NewPodServer(reg *registry.Registry, tlsConfig *tls.Config, logger *zap.Logger) *PodServer {
	return &PodServer{reg: reg, tls: tlsConfig, logger: logger, conns: map[string]*grpc.ClientConn{}}
}

// Close closes the connections to kubelets.
func (s *PodServer) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for addr, c := range s.conns {
		c.Close()
		delete(s.conns, addr)
	}
}

// KubeletClientTLS is the TLS config the apiserver dials kubelets with: it
// presents the client certificate certFile/keyFile (the generated admin
// certificate, in group system:masters, unless flags name another). With
// caFile it verifies the kubelet's serving certificate against it; without,
// it does not verify it (kubelets serve self-signed certificates by
// default), as kube-apiserver does without --kubelet-certificate-authority.
func KubeletClientTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("kubelet client certificate: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2"}}
	if caFile == "" {
		cfg.InsecureSkipVerify = true //nolint:gosec // documented: no kubelet CA configured
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("kubelet certificate authority: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("kubelet certificate authority %s: no certificates", caFile)
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// kubelet returns a client of the kubelet running pod namespace/name.
func (s *PodServer) kubelet(ctx context.Context, namespace, name string) (kubeletv1.KubeletServiceClient, error) {
	if s.tls == nil {
		return nil, status.Error(codes.Unavailable, "the apiserver has no client certificate for kubelets (--kubelet-client-certificate)")
	}
	if namespace == "" || name == "" {
		return nil, status.Error(codes.InvalidArgument, "namespace and name are required")
	}
	podRes, _ := scheme.ByName("pods")
	nodeRes, _ := scheme.ByName("nodes")
	obj, err := s.reg.Get(ctx, podRes, namespace, name)
	if err != nil {
		return nil, toStatus(err)
	}
	nodeName := obj.(*corev1.Pod).GetSpec().GetNodeName()
	if nodeName == "" {
		return nil, status.Errorf(codes.FailedPrecondition, "pod %s/%s is not bound to a node", namespace, name)
	}
	nobj, err := s.reg.Get(ctx, nodeRes, "", nodeName)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "node %s of pod %s/%s: %v", nodeName, namespace, name, toStatus(err))
	}
	node := nobj.(*corev1.Node)
	port := node.GetStatus().GetDaemonEndpoints().GetKubeletEndpoint().GetPort()
	host := ""
	for _, typ := range []string{"InternalIP", "ExternalIP", "Hostname"} {
		for _, a := range node.GetStatus().GetAddresses() {
			if host == "" && a.GetType() == typ && a.GetAddress() != "" {
				host = a.GetAddress()
			}
		}
	}
	if host == "" || port <= 0 {
		return nil, status.Errorf(codes.Unavailable, "node %s reports no kubelet address and port", nodeName)
	}
	addr := net.JoinHostPort(host, strconv.Itoa(int(port)))
	s.mu.Lock()
	defer s.mu.Unlock()
	conn := s.conns[addr]
	if conn == nil {
		conn, err = grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(s.tls.Clone())))
		if err != nil {
			return nil, status.Errorf(codes.Unavailable, "dial kubelet %s: %v", addr, err)
		}
		s.conns[addr] = conn
	}
	return kubeletv1.NewKubeletServiceClient(conn), nil
}

// Logs implements apiv1.PodServiceServer.
func (s *PodServer) Logs(req *apiv1.PodLogsRequest, stream grpc.ServerStreamingServer[apiv1.PodLogsResponse]) error {
	ctx := stream.Context()
	kc, err := s.kubelet(ctx, req.GetNamespace(), req.GetName())
	if err != nil {
		return err
	}
	up, err := kc.Logs(ctx, req)
	if err != nil {
		return err
	}
	for {
		resp, err := up.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

// Exec implements apiv1.PodServiceServer.
func (s *PodServer) Exec(stream grpc.BidiStreamingServer[apiv1.PodExecRequest, apiv1.PodExecResponse]) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	start := first.GetStart()
	if start == nil {
		return status.Error(codes.InvalidArgument, "the first exec request must carry start")
	}
	kc, err := s.kubelet(ctx, start.GetNamespace(), start.GetName())
	if err != nil {
		return err
	}
	up, err := kc.Exec(ctx)
	if err != nil {
		return err
	}
	if err := up.Send(first); err != nil {
		return err
	}
	go func() {
		for {
			req, err := stream.Recv()
			if err != nil {
				_ = up.CloseSend()
				return
			}
			if err := up.Send(req); err != nil {
				return
			}
		}
	}()
	for {
		resp, err := up.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}
