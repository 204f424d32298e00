package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// testCA is a certificate authority for tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var testSerial int64

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// sign signs tmpl for pub with ca, or self-signs it with key when ca is nil.
func sign(t *testing.T, tmpl *x509.Certificate, pub *ecdsa.PublicKey, ca *testCA, key *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	testSerial++
	tmpl.SerialNumber = big.NewInt(testSerial)
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func caTemplate(name string, now time.Time) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
}

// newTestCA returns a self-signed CA, or an intermediate CA when parent is
// set.
func newTestCA(t *testing.T, name string, parent *testCA) *testCA {
	t.Helper()
	key := newKey(t)
	return &testCA{cert: sign(t, caTemplate(name, time.Now()), &key.PublicKey, parent, key), key: key}
}

// leaf issues a certificate for subject with the given extended key usages
// (client auth when none), valid from an hour ago for lifetime.
func (ca *testCA) leaf(t *testing.T, subject pkix.Name, lifetime time.Duration, usages ...x509.ExtKeyUsage) *x509.Certificate {
	t.Helper()
	if len(usages) == 0 {
		usages = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	now := time.Now()
	key := newKey(t)
	return sign(t, &x509.Certificate{
		Subject:     subject,
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(lifetime),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: usages,
	}, &key.PublicKey, ca, nil)
}

func TestX509Authenticator(t *testing.T) {
	ca := newTestCA(t, "test-ca", nil)
	foreign := newTestCA(t, "foreign-ca", nil)
	inter := newTestCA(t, "intermediate-ca", ca)
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)

	node := pkix.Name{CommonName: "system:node:n1", Organization: []string{"system:nodes"}}
	nodeUser := &User{Name: "system:node:n1", Groups: []string{"system:nodes"}}
	valid := ca.leaf(t, node, time.Hour)
	selfKey := newKey(t)
	selfSigned := sign(t, &x509.Certificate{
		Subject: node, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, &selfKey.PublicKey, nil, selfKey)

	withCerts := func(certs ...*x509.Certificate) context.Context {
		return peer.NewContext(context.Background(), &peer.Peer{
			Addr:     &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1},
			AuthInfo: credentials.TLSInfo{State: tls.ConnectionState{PeerCertificates: certs}},
		})
	}
	tests := []struct {
		name    string
		ctx     context.Context
		nilRoot bool // pass nil roots to NewX509Authenticator
		now     time.Time
		want    *User
		wantErr string
	}{
		{name: "no peer", ctx: context.Background()},
		{name: "no TLS", ctx: peer.NewContext(context.Background(), &peer.Peer{})},
		{name: "no client certificate", ctx: withCerts()},
		{name: "signed by the client CA", ctx: withCerts(valid), want: nodeUser},
		{name: "TLSInfo by pointer", ctx: peer.NewContext(context.Background(), &peer.Peer{
			AuthInfo: &credentials.TLSInfo{State: tls.ConnectionState{PeerCertificates: []*x509.Certificate{valid}}},
		}), want: nodeUser},
		{name: "through an intermediate the client sent", ctx: withCerts(inter.leaf(t, node, time.Hour), inter.cert), want: nodeUser},
		{name: "intermediate not sent", ctx: withCerts(inter.leaf(t, node, time.Hour)), wantErr: "unknown authority"},
		{name: "signed by another CA", ctx: withCerts(foreign.leaf(t, node, time.Hour)), wantErr: "unknown authority"},
		{name: "another CA's chain", ctx: withCerts(foreign.leaf(t, node, time.Hour), foreign.cert), wantErr: "unknown authority"},
		{name: "self-signed", ctx: withCerts(selfSigned), wantErr: "unknown authority"},
		{name: "nil roots trust nothing", nilRoot: true, ctx: withCerts(valid), wantErr: "unknown authority"},
		{name: "expired", ctx: withCerts(ca.leaf(t, node, -time.Minute)), wantErr: "expired"},
		{name: "expired since the handshake", now: time.Now().Add(2 * time.Hour), ctx: withCerts(valid), wantErr: "expired"},
		{name: "not yet valid", now: time.Now().Add(-2 * time.Hour), ctx: withCerts(valid), wantErr: "not yet valid"},
		{name: "serving certificate", ctx: withCerts(ca.leaf(t, node, time.Hour, x509.ExtKeyUsageServerAuth)),
			wantErr: "incompatible key usage"},
		{name: "no common name", ctx: withCerts(ca.leaf(t, pkix.Name{Organization: []string{"g"}}, time.Hour)),
			wantErr: "no common name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := roots
			if tc.nilRoot {
				r = nil
			}
			a := NewX509Authenticator(r)
			if !tc.now.IsZero() {
				a.now = func() time.Time { return tc.now }
			}
			got, err := a.Authenticate(tc.ctx)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("user (-want +got):\n%s", diff)
			}
		})
	}
	// A chain is verified once per authenticator; the cached result still
	// ends when the certificate expires.
	t.Run("cached chain still expires", func(t *testing.T) {
		a := NewX509Authenticator(roots)
		now := time.Now()
		a.now = func() time.Time { return now }
		for i := 0; i < 2; i++ {
			if got, err := a.Authenticate(withCerts(valid)); err != nil || got.Name != nodeUser.Name {
				t.Fatalf("attempt %d: %v, %v; want %s", i, got, err, nodeUser.Name)
			}
		}
		now = now.Add(2 * time.Hour)
		if _, err := a.Authenticate(withCerts(valid)); err == nil || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("after expiry: %v, want an expired error", err)
		}
	})
}
