package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/clienttest"
	"github.com/gantryhq/gantry/client/config"
	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
)

type pki struct {
	caPEM []byte
	ca    *x509.Certificate
	key   *ecdsa.PrivateKey
}

func newPKI(t *testing.T) *pki {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gantry-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	return &pki{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), ca: ca, key: key}
}

func (p *pki) issue(t *testing.T, cn string, serial int64, server bool) (certPEM, keyPEM []byte) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.DNSNames = []string{"apiserver"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// TestTLSAndToken dials a TLS server that requires a client certificate,
// with a config made the way the apiserver writes admin.conf.
func TestTLSAndToken(t *testing.T) {
	p := newPKI(t)
	srvCert, srvKey := p.issue(t, "apiserver", 2, true)
	cliCert, cliKey := p.issue(t, "admin", 3, false)
	pair, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.ca)
	var clientCN string
	gs := grpc.NewServer(
		grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert})),
		grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if pr, ok := peer.FromContext(ctx); ok {
				if ti, ok := pr.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.PeerCertificates) > 0 {
					clientCN = ti.State.PeerCertificates[0].Subject.CommonName
				}
			}
			return h(ctx, req)
		}),
	)
	fake := clienttest.NewServer()
	apiv1.RegisterResourceServiceServer(gs, fake)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)

	f := config.NewFile("gantry",
		config.Cluster{Server: "https://" + lis.Addr().String(), CertificateAuthorityData: p.caPEM},
		config.User{ClientCertificateData: cliCert, ClientKeyData: cliKey, Token: "tok"}, "kube-system")
	cfg, err := f.Resolve("")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := client.New(cfg, client.WithUserAgent("test/1"))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if cs.Namespace() != "kube-system" {
		t.Errorf("namespace %q", cs.Namespace())
	}
	if _, err := cs.Pods(cs.Namespace()).Get(ctxT(t), "nope"); !client.IsNotFound(err) {
		t.Fatalf("Get over TLS: %v", err)
	}
	if clientCN != "admin" {
		t.Errorf("server saw client certificate %q", clientCN)
	}
	if tok := fake.Actions()[0].Token; tok != "tok" {
		t.Errorf("server saw token %q", tok)
	}

	// A client that does not trust the CA fails.
	bad := *cfg
	bad.TLS = cfg.TLS.Clone()
	bad.TLS.RootCAs = x509.NewCertPool()
	cs2, err := client.New(&bad)
	if err != nil {
		t.Fatal(err)
	}
	defer cs2.Close()
	if _, err := cs2.Pods("x").Get(ctxT(t), "nope"); !client.IsUnavailable(err) {
		t.Errorf("untrusted server: got %v, want Unavailable", err)
	}
}
