package config_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gantryhq/gantry/client/config"
)

// selfSigned returns a PEM certificate and key.
func selfSigned(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestPathOrder(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv(config.EnvVar, "")
	tests := []struct {
		name, explicit, env, want string
	}{
		{"explicit wins", "/x/explicit", "/x/env", "/x/explicit"},
		{"then the environment", "", "/x/env", "/x/env"},
		{"then home", "", "", filepath.Join(home, ".gantry", "config")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(config.EnvVar, tc.env)
			got, err := config.Path(tc.explicit)
			if err != nil || got != tc.want {
				t.Errorf("Path(%q) = %q, %v; want %q", tc.explicit, got, err, tc.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	caPEM, _ := selfSigned(t, "ca")
	certPEM, keyPEM := selfSigned(t, "admin")
	writeFile(t, filepath.Join(dir, "pki", "ca.crt"), string(caPEM))
	writeFile(t, filepath.Join(dir, "pki", "admin.crt"), string(certPEM))
	writeFile(t, filepath.Join(dir, "pki", "admin.key"), string(keyPEM))
	writeFile(t, filepath.Join(dir, "token"), "tok-from-file\n")
	path := filepath.Join(dir, "config")
	writeFile(t, path, `apiVersion: v1
kind: Config
current-context: local
preferences: {}
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: pki/ca.crt
- name: dev
  cluster:
    server: http://localhost:8080
- name: named
  cluster:
    server: apiserver.example
    insecure-skip-tls-verify: true
    tls-server-name: gantry
contexts:
- name: local
  context: {cluster: local, user: admin, namespace: prod}
- name: dev
  context: {cluster: dev, user: tokenuser}
- name: named
  context: {cluster: named}
users:
- name: admin
  user:
    client-certificate: pki/admin.crt
    client-key: pki/admin.key
- name: tokenuser
  user:
    token-file: token
`)
	f, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}

	cfg, err := f.Resolve("")
	if err != nil {
		t.Fatalf("resolve current context: %v", err)
	}
	if cfg.Context != "local" || cfg.Server != "127.0.0.1:6443" || cfg.Namespace != "prod" || cfg.Plaintext {
		t.Errorf("local: %+v", cfg)
	}
	if cfg.TLS == nil || cfg.TLS.RootCAs == nil || len(cfg.TLS.Certificates) != 1 || cfg.TLS.ServerName != "127.0.0.1" {
		t.Errorf("local TLS: %+v", cfg.TLS)
	}

	cfg, err = f.Resolve("dev")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server != "localhost:8080" || !cfg.Plaintext || cfg.TLS != nil || cfg.BearerToken != "tok-from-file" || cfg.Namespace != "default" {
		t.Errorf("dev: %+v", cfg)
	}

	cfg, err = f.Resolve("named")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server != "apiserver.example:6443" || !cfg.TLS.InsecureSkipVerify || cfg.TLS.ServerName != "gantry" {
		t.Errorf("named: %+v %+v", cfg, cfg.TLS)
	}

	// Open: the environment variable, with a context override.
	t.Setenv(config.EnvVar, path)
	cfg, err = config.Open("", "dev")
	if err != nil || cfg.Context != "dev" {
		t.Errorf("Open: %+v, %v", cfg, err)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t, "x")
	base := func(cluster, user string) string {
		return "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n" + cluster +
			"contexts:\n- name: c\n  context: {cluster: k, user: u}\nusers:\n- name: u\n  user:\n" + user
	}
	tests := []struct {
		name, file, context, wantErr string
	}{
		{"unknown field", "apiVersion: v1\nkind: Config\nclusterz: []\n", "", `unknown field "clusterz"`},
		{"wrong kind", "kind: Pod\n", "", `kind is "Pod"`},
		{"no current context", "apiVersion: v1\nkind: Config\n", "", "current-context is not set"},
		{"missing context", base("    server: h:1\n", "    token: t\n"), "nope", `context "nope" not found`},
		{"missing cluster", strings.Replace(base("    server: h:1\n", "    token: t\n"), "cluster: k,", "cluster: other,", 1), "", `cluster "other" (of context "c") not found`},
		{"missing user", strings.Replace(base("    server: h:1\n", "    token: t\n"), "user: u}", "user: v}", 1), "", `user "v" (of context "c") not found`},
		{"no server", base("    tls-server-name: x\n", "    token: t\n"), "", "server is not set"},
		{"bad scheme", base("    server: ftp://h:1\n", "    token: t\n"), "", "scheme must be https or http"},
		{"missing ca file", base("    server: h:1\n    certificate-authority: nope.crt\n", "    token: t\n"), "", "read certificate-authority"},
		{"cert without key", base("    server: h:1\n", "    client-certificate-data: "+b64(certPEM)+"\n"), "", "without client-key"},
		{"key without cert", base("    server: h:1\n", "    client-key-data: "+b64(keyPEM)+"\n"), "", "without client-certificate"},
		{"both token and file", base("    server: h:1\n", "    token: t\n    token-file: f\n"), "", "both token and token-file"},
		{"unsupported exec", base("    server: h:1\n", "    exec: {}\n"), "", `unknown field "exec"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			writeFile(t, path, tc.file)
			f, err := config.Load(path)
			if err == nil {
				_, err = f.Resolve(tc.context)
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("got error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	if _, err := config.Load(filepath.Join(dir, "absent")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestWriteRoundTrip(t *testing.T) {
	dir := t.TempDir()
	caPEM, _ := selfSigned(t, "ca")
	certPEM, keyPEM := selfSigned(t, "admin")
	f := config.NewFile("gantry", config.Cluster{Server: "https://127.0.0.1:6443", CertificateAuthorityData: caPEM},
		config.User{ClientCertificateData: certPEM, ClientKeyData: keyPEM}, "")
	path := filepath.Join(dir, "sub", "admin.conf")
	if err := config.Write(path, f); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	// Overwrite in place: still one file, no temporaries left behind.
	if err := config.Write(path, f); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want 1", len(entries))
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "certificate-authority-data: ") || !strings.Contains(string(data), "current-context: gantry") {
		t.Errorf("written:\n%s", data)
	}
	g, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	g.Dir = ""
	if diff := cmp.Diff(f, g); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	cfg, err := g.Resolve("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TLS.RootCAs == nil || len(cfg.TLS.Certificates) != 1 {
		t.Errorf("resolved TLS incomplete: %+v", cfg.TLS)
	}
}
