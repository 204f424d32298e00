package app

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"go.uber.org/zap"
	"google.golang.org/grpc"

	"github.com/gantryhq/gantry/apiserver/internal/auth"
	"github.com/gantryhq/gantry/apiserver/internal/pki"
	"github.com/gantryhq/gantry/client/config"
)

// AdminConfigFile is the admin client config written into --data-dir.
const AdminConfigFile = "admin.conf"

// serving returns the server's TLS config and the CA file that signs it
// (for admin.conf), generating certificates in <data-dir>/pki when none are
// given.
func serving(o *Options) (*tls.Config, pki.Paths, error) {
	paths := pki.PathsIn(filepath.Join(o.DataDir, "pki"))
	if o.TLSCertFile != "" {
		tlsCfg, err := pki.ServerTLSConfig(o.TLSCertFile, o.TLSPrivateKeyFile, o.ClientCAFile)
		return tlsCfg, paths, err
	}
	sans := append([]string{o.AdvertiseAddress}, o.TLSSANs...)
	paths, err := pki.EnsureCertificates(paths.Dir, pki.Options{BindAddress: o.BindAddress, SANs: sans})
	if err != nil {
		return nil, paths, fmt.Errorf("certificates: %w", err)
	}
	clientCA := o.ClientCAFile
	if clientCA == "" {
		clientCA = paths.CACert
	}
	tlsCfg, err := pki.ServerTLSConfig(paths.ServingCert, paths.ServingKey, clientCA)
	return tlsCfg, paths, err
}

// writeAdminConfig writes <data-dir>/admin.conf: the generated CA and admin
// client certificate, and the address clients reach this server at. With
// user-supplied certificates no admin certificate exists, so none is
// written.
func writeAdminConfig(o *Options, paths pki.Paths, addr net.Addr) error {
	if o.TLSCertFile != "" {
		return nil
	}
	read := func(p string) ([]byte, error) {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("admin config: %w", err)
		}
		return b, nil
	}
	ca, err := read(paths.CACert)
	if err != nil {
		return err
	}
	cert, err := read(paths.AdminCert)
	if err != nil {
		return err
	}
	key, err := read(paths.AdminKey)
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(addr.String())
	f := config.NewFile("gantry",
		config.Cluster{Server: "https://" + net.JoinHostPort(o.AdvertiseAddress, port), CertificateAuthorityData: ca},
		config.User{ClientCertificateData: cert, ClientKeyData: key},
		"default")
	return config.Write(filepath.Join(o.DataDir, AdminConfigFile), f)
}

// interceptors are the authentication interceptors of the gRPC server.
type interceptors struct {
	Unary  grpc.UnaryServerInterceptor
	Stream grpc.StreamServerInterceptor
}

// authInterceptors authenticate by client certificate (CN = user, O =
// groups) or by a bearer token from --token-auth-file. Authorization is
// AlwaysAllow until an authorizer is configured: auth.Options.Authorizer is
// the seam. Client certificates are verified against clientCAs (the serving
// tls.Config's ClientCAs), since the handshake only requests them.
func authInterceptors(o *Options, clientCAs *x509.CertPool, logger *zap.Logger) (interceptors, error) {
	authns := []auth.Authenticator{auth.NewX509Authenticator(clientCAs)}
	if o.TokenAuthFile != "" {
		tokens, err := auth.LoadTokenFile(o.TokenAuthFile)
		if err != nil {
			return interceptors{}, fmt.Errorf("--token-auth-file: %w", err)
		}
		authns = append(authns, tokens)
	}
	opts := auth.Options{Authenticator: auth.NewUnion(authns...), Logger: logger}
	return interceptors{Unary: auth.UnaryServerInterceptor(opts), Stream: auth.StreamServerInterceptor(opts)}, nil
}

// etcdTLS is the client TLS config for --etcd-servers.
func etcdTLS(o *Options) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.EtcdCAFile != "" {
		pool, err := pki.LoadCertPool(o.EtcdCAFile)
		if err != nil {
			return nil, fmt.Errorf("--etcd-cafile: %w", err)
		}
		cfg.RootCAs = pool
	}
	if o.EtcdCertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.EtcdCertFile, o.EtcdKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--etcd-certfile/--etcd-keyfile: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
