package pki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	c, err := readCert(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEnsureCertificatesGenerates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	p, err := EnsureCertificates(dir, Options{
		BindAddress: "10.1.2.3:6443",
		SANs:        []string{"api.example.com", "192.0.2.7", " ", "2001:db8::1"},
		Hostname:    "node-a",
	})
	if err != nil {
		t.Fatal(err)
	}

	ca := mustCert(t, p.CACert)
	if !ca.IsCA || ca.Subject.CommonName != CACommonName {
		t.Errorf("CA: IsCA=%v CN=%q", ca.IsCA, ca.Subject.CommonName)
	}
	if got := ca.NotAfter.Sub(ca.NotBefore); got < CAValidity {
		t.Errorf("CA validity %v, want at least %v", got, CAValidity)
	}
	if ca.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("CA key algorithm %v, want ECDSA", ca.PublicKeyAlgorithm)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)

	srv := mustCert(t, p.ServingCert)
	if _, err := srv.Verify(x509.VerifyOptions{Roots: pool, DNSName: "api.example.com"}); err != nil {
		t.Errorf("serving certificate does not verify for api.example.com: %v", err)
	}
	for _, d := range []string{"localhost", "node-a", "api.example.com", "gantry-apiserver", "apiserver"} {
		if !slices.Contains(srv.DNSNames, d) {
			t.Errorf("serving certificate lacks DNS SAN %q (has %v)", d, srv.DNSNames)
		}
	}
	for _, s := range []string{"127.0.0.1", "::1", "10.1.2.3", "192.0.2.7", "2001:db8::1"} {
		if !slices.ContainsFunc(srv.IPAddresses, net.ParseIP(s).Equal) {
			t.Errorf("serving certificate lacks IP SAN %s (has %v)", s, srv.IPAddresses)
		}
	}

	admin := mustCert(t, p.AdminCert)
	if _, err := admin.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("admin certificate does not verify for client auth: %v", err)
	}
	if admin.Subject.CommonName != "admin" || !slices.Equal(admin.Subject.Organization, []string{"system:masters"}) {
		t.Errorf("admin subject = %v", admin.Subject)
	}

	for file, want := range map[string]os.FileMode{
		p.CAKey: 0o600, p.ServingKey: 0o600, p.AdminKey: 0o600,
		p.CACert: 0o644, p.ServingCert: 0o644, p.AdminCert: 0o644,
		dir: 0o700 | os.ModeDir,
	} {
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s mode = %v, want %v", filepath.Base(file), fi.Mode(), want)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestEnsureCertificatesIdempotent(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Hostname: "node-a"}
	p, err := EnsureCertificates(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{p.CACert, p.CAKey, p.ServingCert, p.ServingKey, p.AdminCert, p.AdminKey}
	before := map[string][]byte{}
	for _, f := range files {
		before[f] = mustRead(t, f)
	}

	if _, err := EnsureCertificates(dir, opts); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !bytes.Equal(before[f], mustRead(t, f)) {
			t.Errorf("second run changed %s", filepath.Base(f))
		}
	}

	// A new SAN reissues only the serving certificate, under the same CA.
	if _, err := EnsureCertificates(dir, Options{Hostname: "node-a", SANs: []string{"10.9.9.9"}}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{p.CACert, p.CAKey, p.AdminCert, p.AdminKey} {
		if !bytes.Equal(before[f], mustRead(t, f)) {
			t.Errorf("adding a SAN changed %s", filepath.Base(f))
		}
	}
	if bytes.Equal(before[p.ServingCert], mustRead(t, p.ServingCert)) {
		t.Fatal("adding a SAN did not reissue the serving certificate")
	}
	srv := mustCert(t, p.ServingCert)
	if !slices.ContainsFunc(srv.IPAddresses, net.ParseIP("10.9.9.9").Equal) {
		t.Errorf("reissued serving certificate lacks 10.9.9.9: %v", srv.IPAddresses)
	}
	if err := srv.CheckSignatureFrom(mustCert(t, p.CACert)); err != nil {
		t.Errorf("reissued serving certificate not signed by the CA: %v", err)
	}

	// Dropping the SAN again is fine: the certificate still covers everything.
	after := mustRead(t, p.ServingCert)
	if _, err := EnsureCertificates(dir, opts); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after, mustRead(t, p.ServingCert)) {
		t.Error("a run asking for fewer SANs reissued the serving certificate")
	}
}

func TestEnsureCertificatesReissuesLeavesOfAnotherCA(t *testing.T) {
	dir := t.TempDir()
	p, err := EnsureCertificates(dir, Options{Hostname: "h"})
	if err != nil {
		t.Fatal(err)
	}
	// Replace the CA with another one: the leaves must follow it.
	other := t.TempDir()
	q, err := EnsureCertificates(other, Options{Hostname: "h"})
	if err != nil {
		t.Fatal(err)
	}
	for src, dst := range map[string]string{q.CACert: p.CACert, q.CAKey: p.CAKey} {
		if err := WriteFileAtomic(dst, mustRead(t, src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := EnsureCertificates(dir, Options{Hostname: "h"}); err != nil {
		t.Fatal(err)
	}
	ca := mustCert(t, p.CACert)
	for _, f := range []string{p.ServingCert, p.AdminCert} {
		if err := mustCert(t, f).CheckSignatureFrom(ca); err != nil {
			t.Errorf("%s not reissued under the new CA: %v", filepath.Base(f), err)
		}
	}
}

func TestEnsureCertificatesErrors(t *testing.T) {
	t.Run("CA certificate without key", func(t *testing.T) {
		dir := t.TempDir()
		p, err := EnsureCertificates(dir, Options{Hostname: "h"})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(p.CAKey); err != nil {
			t.Fatal(err)
		}
		_, err = EnsureCertificates(dir, Options{Hostname: "h"})
		if err == nil || !strings.Contains(err.Error(), "ca.key") {
			t.Fatalf("err = %v, want one naming ca.key", err)
		}
	})
	t.Run("bad SAN", func(t *testing.T) {
		_, err := EnsureCertificates(t.TempDir(), Options{Hostname: "h", SANs: []string{"https://x"}})
		if err == nil || !strings.Contains(err.Error(), "https://x") {
			t.Fatalf("err = %v, want one naming the SAN", err)
		}
	})
}

func TestIssueClientCert(t *testing.T) {
	dir := t.TempDir()
	p, err := EnsureCertificates(dir, Options{Hostname: "h"})
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := IssueClientCert(dir, "system:node:n1", []string{"system:nodes", "extra"})
	if err != nil {
		t.Fatal(err)
	}
	certs, err := ParseCertsPEM(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	c := certs[0]
	// Several O values form one multi-valued RDN, which DER sorts.
	if c.Subject.CommonName != "system:node:n1" || !slices.Equal(slices.Sorted(slices.Values(c.Subject.Organization)), []string{"extra", "system:nodes"}) {
		t.Errorf("subject = %v", c.Subject)
	}
	pool, err := LoadCertPool(p.CACert)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate does not verify: %v", err)
	}
	key, err := ParseKeyPEM(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !publicKeysEqual(c.PublicKey, key.Public()) {
		t.Error("key does not match certificate")
	}
	if c.NotAfter.Before(time.Now().Add(300 * 24 * time.Hour)) {
		t.Errorf("client certificate expires too soon: %v", c.NotAfter)
	}

	if _, _, err := IssueClientCert(t.TempDir(), "x", nil); err == nil {
		t.Error("IssueClientCert without a CA succeeded")
	}
	if _, _, err := IssueClientCert(dir, "", nil); err == nil {
		t.Error("IssueClientCert with an empty name succeeded")
	}
}

func TestServerTLSConfig(t *testing.T) {
	dir := t.TempDir()
	p, err := EnsureCertificates(dir, Options{Hostname: "h"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := p.ServerTLSConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientAuth != tls.RequestClientCert || cfg.MinVersion != 0x0303 ||
		!slices.Equal(cfg.NextProtos, []string{"h2"}) || cfg.ClientCAs == nil || len(cfg.Certificates) != 1 {
		t.Errorf("config = ClientAuth %v, MinVersion %#x, NextProtos %v, ClientCAs set %v, %d certificates",
			cfg.ClientAuth, cfg.MinVersion, cfg.NextProtos, cfg.ClientCAs != nil, len(cfg.Certificates))
	}
	if _, err := ServerTLSConfig(p.ServingCert, p.ServingKey, filepath.Join(dir, "nope.crt")); err == nil {
		t.Error("missing client CA file accepted")
	}
}

func TestServingSANs(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantDNS []string
		wantIPs []string
	}{
		{"defaults", Options{Hostname: "Node-A."},
			[]string{"localhost", "gantry-apiserver", "apiserver", "node-a"}, []string{"127.0.0.1", "::1"}},
		{"unspecified bind address adds nothing", Options{Hostname: "h", BindAddress: "0.0.0.0:6443"},
			[]string{"localhost", "gantry-apiserver", "apiserver", "h"}, []string{"127.0.0.1", "::1"}},
		{"unspecified IPv6 bind address adds nothing", Options{Hostname: "h", BindAddress: "[::]:6443"},
			[]string{"localhost", "gantry-apiserver", "apiserver", "h"}, []string{"127.0.0.1", "::1"}},
		{"bind address and SANs", Options{Hostname: "h", BindAddress: "[fd00::5]:6443", SANs: []string{"LB.example.com", "127.0.0.1", "10.0.0.1"}},
			[]string{"localhost", "gantry-apiserver", "apiserver", "h", "lb.example.com"}, []string{"127.0.0.1", "::1", "fd00::5", "10.0.0.1"}},
		{"host name bind address", Options{Hostname: "h", BindAddress: "api.internal"},
			[]string{"localhost", "gantry-apiserver", "apiserver", "h", "api.internal"}, []string{"127.0.0.1", "::1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dns, ips, err := servingSANs(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var gotIPs []string
			for _, ip := range ips {
				gotIPs = append(gotIPs, ip.String())
			}
			if !slices.Equal(dns, tc.wantDNS) || !slices.Equal(gotIPs, tc.wantIPs) {
				t.Errorf("SANs = %v %v, want %v %v", dns, gotIPs, tc.wantDNS, tc.wantIPs)
			}
		})
	}
}
