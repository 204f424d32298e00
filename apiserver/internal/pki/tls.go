package pki

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// ServerTLSConfig loads the apiserver's serving side of TLS: the certificate
// in certFile with its key in keyFile, and the client CAs in clientCAFile
// (the generated ca.crt, or --client-ca-file; a bundle may hold several).
//
// Client certificates are requested but neither required nor verified in
// the handshake (tls.RequestClientCert), as kube-apiserver does: a client may
// instead present a bearer token, and a certificate that does not chain to a
// client CA must be refused with codes.Unauthenticated ("Unauthorized"), not
// a failed handshake the client sees as codes.Unavailable. Verifying a
// presented certificate against the client CAs, for client auth, is
// therefore the auth package's business (auth.NewX509Authenticator, given
// this config's ClientCAs), as is which user it names. ClientCAs stays set
// so that the server names the acceptable CAs to the client. TLS 1.2 is the
// minimum and ALPN offers h2, which gRPC requires.
func ServerTLSConfig(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load serving certificate: %w", err)
	}
	pool, err := LoadCertPool(clientCAFile)
	if err != nil {
		return nil, fmt.Errorf("load client CA: %w", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequestClientCert,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2"},
	}, nil
}

// ServerTLSConfig loads the generated serving certificate and uses the
// generated CA for client certificates, unless clientCAFile names another.
func (p Paths) ServerTLSConfig(clientCAFile string) (*tls.Config, error) {
	if clientCAFile == "" {
		clientCAFile = p.CACert
	}
	return ServerTLSConfig(p.ServingCert, p.ServingKey, clientCAFile)
}

// LoadCertPool reads every certificate in a PEM file into a new pool.
func LoadCertPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := ParseCertsPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}
