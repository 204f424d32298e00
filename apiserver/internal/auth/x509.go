package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// X509Authenticator authenticates a request by the client certificate of
// its TLS connection. As in kube-apiserver, the TLS handshake only requests
// the certificate (tls.RequestClientCert, see pki.ServerTLSConfig) and this
// authenticator verifies it: the leaf must chain to one of the client CAs,
// through any intermediates the client sent, be valid now (a long-lived
// connection may outlast it) and be meant for client auth. The user is then
// its subject's CN and the groups its O values.
//
// A connection without a client certificate carries no credentials of this
// kind ((nil, nil)); a certificate that fails verification is an error, so
// that a client of a foreign CA is told codes.Unauthenticated
// ("Unauthorized") by the interceptors rather than failing the handshake.
// Within a union (NewUnion) another authenticator may still succeed: like
// kube-apiserver's union authenticator, a valid bearer token authenticates
// the request even alongside a rejected certificate.
type X509Authenticator struct {
	roots *x509.CertPool
	now   func() time.Time
}

var _ Authenticator = (*X509Authenticator)(nil)

// NewX509Authenticator returns an X509Authenticator that trusts the client
// CAs in roots (the server tls.Config's ClientCAs, e.g. from
// pki.LoadCertPool). A nil roots trusts no CA: every certificate is
// rejected; the system roots are never used.
func NewX509Authenticator(roots *x509.CertPool) *X509Authenticator {
	if roots == nil {
		roots = x509.NewCertPool()
	}
	return &X509Authenticator{roots: roots, now: time.Now}
}

// Authenticate implements Authenticator.
func (a *X509Authenticator) Authenticate(ctx context.Context) (*User, error) {
	p, ok := peer.FromContext(ctx)
	if !ok || p.AuthInfo == nil {
		return nil, nil
	}
	var info credentials.TLSInfo
	switch ai := p.AuthInfo.(type) {
	case credentials.TLSInfo:
		info = ai
	case *credentials.TLSInfo:
		info = *ai
	default:
		return nil, nil
	}
	certs := info.State.PeerCertificates
	if len(certs) == 0 {
		return nil, nil
	}
	cert := certs[0]
	opts := x509.VerifyOptions{
		Roots:         a.roots,
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		CurrentTime:   a.now(),
	}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := cert.Verify(opts); err != nil {
		return nil, fmt.Errorf("x509: verifying client certificate %q: %w", cert.Subject.CommonName, err)
	}
	if cert.Subject.CommonName == "" {
		return nil, errors.New("x509: client certificate has no common name")
	}
	return &User{Name: cert.Subject.CommonName, Groups: slices.Clone(cert.Subject.Organization)}, nil
}
