package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/gantryhq/gantry/kubelet/internal/runtime"
	"github.com/gantryhq/gantry/kubelet/internal/runtime/fake"
	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	kubeletv1 "github.com/gantryhq/gantry/proto/gantry/kubelet/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T) *ca {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &ca{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (c *ca) client(t *testing.T, cn string, groups ...string) tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn, Organization: groups},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

type pods map[string]*corev1.Pod

func (p pods) Pod(ns, name string) (*corev1.Pod, error) {
	if pod, ok := p[ns+"/"+name]; ok {
		return pod, nil
	}
	return nil, errNotFound
}

func serve(t *testing.T, clusterCA *ca, src PodSource, rt runtime.Runtime) string {
	t.Helper()
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, clusterCA.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := TLSConfig(TLSOptions{ClientCAFile: caFile, Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	unary, stream := Authorizer([]string{"system:masters"}, []string{"apiserver"})
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(tlsCfg)), grpc.UnaryInterceptor(unary), grpc.StreamInterceptor(stream))
	kubeletv1.RegisterKubeletServiceServer(gs, New(src, rt, zap.NewNop()))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	return lis.Addr().String()
}

func dial(t *testing.T, addr string, cert *tls.Certificate) kubeletv1.KubeletServiceClient {
	cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12} //nolint:gosec // test: the kubelet's certificate is self-signed
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return kubeletv1.NewKubeletServiceClient(conn)
}

func readLogs(c kubeletv1.KubeletServiceClient, req *apiv1.PodLogsRequest) (string, error) {
	s, err := c.Logs(context.Background(), req)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	for {
		r, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return b.String(), nil
		}
		if err != nil {
			return b.String(), err
		}
		b.Write(r.GetData())
	}
}

func TestOnlyAuthorizedClientsAndCalls(t *testing.T) {
	cluster := newCA(t)
	rt := fake.New(false)
	pod := &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Uid: "u1"},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Image: "x"}}},
	}
	rt.SyncPod(context.Background(), pod, &runtime.Actions{CreateSandbox: true, Start: []runtime.StartContainer{{Container: pod.Spec.Containers[0]}}})
	addr := serve(t, cluster, pods{"default/web": pod}, rt)
	req := &apiv1.PodLogsRequest{Namespace: "default", Name: "web"}

	admin := cluster.client(t, "admin", "system:masters")
	apiserver := cluster.client(t, "apiserver")
	someone := cluster.client(t, "alice", "developers")
	stranger := newCA(t).client(t, "admin", "system:masters")
	tests := []struct {
		name string
		cert *tls.Certificate
		want codes.Code
	}{
		{"admin group", &admin, codes.OK},
		{"allowed user", &apiserver, codes.OK},
		{"other group", &someone, codes.PermissionDenied},
		{"other CA", &stranger, codes.Unavailable},
		{"no certificate", nil, codes.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := readLogs(dial(t, addr, tt.cert), req)
			if got := status.Code(err); got != tt.want {
				t.Fatalf("code %v (%v), want %v", got, err, tt.want)
			}
			if tt.want == codes.OK && out == "" {
				t.Error("no logs")
			}
		})
	}

	c := dial(t, addr, &admin)
	for name, tc := range map[string]struct {
		req  *apiv1.PodLogsRequest
		want codes.Code
	}{
		"missing pod":       {&apiv1.PodLogsRequest{Namespace: "default", Name: "nope"}, codes.NotFound},
		"missing container": {&apiv1.PodLogsRequest{Namespace: "default", Name: "web", Container: "nope"}, codes.NotFound},
		"no previous":       {&apiv1.PodLogsRequest{Namespace: "default", Name: "web", Previous: true}, codes.NotFound},
	} {
		if _, err := readLogs(c, tc.req); status.Code(err) != tc.want {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}

	// Exec returns the command's exit code and output.
	rt.SetExecFunc(func(_ string, cmd []string) int { return len(cmd) })
	s, err := c.Exec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(&apiv1.PodExecRequest{Start: &apiv1.PodExecStart{Namespace: "default", Name: "web", Command: []string{"a", "b", "c"}}}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for {
		r, err := s.Recv()
		if err != nil {
			t.Fatal(err)
		}
		out.Write(r.GetStdout())
		if r.GetExited() {
			if r.GetExitCode() != 3 || out.String() != "a b c\n" {
				t.Errorf("exit %d, stdout %q", r.GetExitCode(), out.String())
			}
			break
		}
	}
}
