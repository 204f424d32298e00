package auth

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"sync"
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

	// verified remembers chains that verified, by their bytes, with the
	// window they are valid in: verifying an ECDSA chain on every request
	// cost about an eighth of the apiserver's CPU under load, while a
	// connection presents the same chain on every request. Only successes
	// are kept, and at most maxVerified of them.
	mu       sync.Mutex
	verified map[[sha256.Size]byte]validity
}

type validity struct{ notBefore, notAfter time.Time }

const maxVerified = 4096

var _ Authenticator = (*X509Authenticator)(nil)

// NewX509Authenticator returns an X509Authenticator that trusts the client
// CAs in roots (the server tls.Config's ClientCAs, e.g. from
// pki.LoadCertPool). A nil roots trusts no CA: every certificate is
// rejected; the system roots are never used.
func NewX509Authenticator(roots *x509.CertPool) *X509Authenticator {
	if roots == nil {
		roots = x509.NewCertPool()
	}
	return &X509Authenticator{roots: roots, now: time.Now, verified: map[[sha256.Size]byte]validity{}}
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
	if err := a.verify(certs); err != nil {
		return nil, fmt.Errorf("x509: verifying client certificate %q: %w", cert.Subject.CommonName, err)
	}
	if cert.Subject.CommonName == "" {
		return nil, errors.New("x509: client certificate has no common name")
	}
	return &User{Name: cert.Subject.CommonName, Groups: slices.Clone(cert.Subject.Organization)}, nil
}

// verify checks the chain against the roots, from the cache when this chain
// verified before and is still within every certificate's validity.
func (a *X509Authenticator) verify(certs []*x509.Certificate) error {
	now := a.now()
	h := sha256.New()
	for _, c := range certs {
		h.Write(c.Raw)
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	a.mu.Lock()
	v, ok := a.verified[key]
	a.mu.Unlock()
	if ok && !now.Before(v.notBefore) && !now.After(v.notAfter) {
		return nil
	}
	opts := x509.VerifyOptions{
		Roots:         a.roots,
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		CurrentTime:   now,
	}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	chains, err := certs[0].Verify(opts)
	if err != nil {
		return err
	}
	// The window in which this chain verifies: every certificate of the
	// chain that was used must be valid.
	v = validity{notBefore: certs[0].NotBefore, notAfter: certs[0].NotAfter}
	for _, c := range chains[0] {
		if c.NotBefore.After(v.notBefore) {
			v.notBefore = c.NotBefore
		}
		if c.NotAfter.Before(v.notAfter) {
			v.notAfter = c.NotAfter
		}
	}
	a.mu.Lock()
	if len(a.verified) >= maxVerified {
		clear(a.verified)
	}
	a.verified[key] = v
	a.mu.Unlock()
	return nil
}
