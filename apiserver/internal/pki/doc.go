// Package pki makes and loads the apiserver's certificates, the way k3s does
// on first start: when no certificates are given, EnsureCertificates writes a
// self-signed cluster CA, a serving certificate signed by it, and an admin
// client certificate into the data directory, and reuses them on every later
// start. IssueClientCert signs client certificates for other daemons
// (kubelets, the scheduler) with that CA, and ServerTLSConfig loads the
// serving side of TLS: a server certificate plus the pool of client CAs that
// client certificates are verified against.
//
// Files in the directory:
//
//	ca.crt, ca.key                  the cluster CA (ECDSA P-256, 10 years)
//	apiserver.crt, apiserver.key    the serving certificate (1 year)
//	admin.crt, admin.key            CN=admin, O=system:masters (1 year)
//
// Keys are written 0600, certificates 0644, each atomically (a temporary
// file in the same directory, synced, then renamed over the old one).
package pki
