package config

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// EnvVar names the environment variable that points to the config file when
// no explicit path is given.
const EnvVar = "GANTRY_CONFIG"

// DefaultNamespace is the namespace of a context that names none.
const DefaultNamespace = "default"

// File is the config file as stored. Its YAML names are kubeconfig's.
type File struct {
	APIVersion     string         `json:"apiVersion"`
	Kind           string         `json:"kind"`
	CurrentContext string         `json:"current-context"`
	Clusters       []NamedCluster `json:"clusters"`
	Contexts       []NamedContext `json:"contexts"`
	Users          []NamedUser    `json:"users"`
	// Preferences is accepted (kubectl writes it) and ignored.
	Preferences map[string]any `json:"preferences,omitempty"`

	// Dir is the folder relative file names resolve against: the folder of
	// the file it was loaded from. Empty means the working directory.
	Dir string `json:"-"`
}

// NamedCluster is one entry of clusters.
type NamedCluster struct {
	Name    string  `json:"name"`
	Cluster Cluster `json:"cluster"`
}

// Cluster is how to reach and trust an apiserver.
type Cluster struct {
	// Server is "host:port", "https://host:port", or "http://host:port" for
	// an unencrypted connection (development only).
	Server string `json:"server"`
	// CertificateAuthority is a PEM file of the CAs that sign the server's
	// certificate. Neither it nor CertificateAuthorityData: system roots.
	CertificateAuthority string `json:"certificate-authority,omitempty"`
	// CertificateAuthorityData is the PEM itself (base64 in YAML).
	CertificateAuthorityData []byte `json:"certificate-authority-data,omitempty"`
	// TLSServerName is the name to check the server's certificate against,
	// when it is not the host of Server.
	TLSServerName string `json:"tls-server-name,omitempty"`
	// InsecureSkipTLSVerify turns off checking the server's certificate.
	InsecureSkipTLSVerify bool `json:"insecure-skip-tls-verify,omitempty"`
}

// NamedContext is one entry of contexts.
type NamedContext struct {
	Name    string  `json:"name"`
	Context Context `json:"context"`
}

// Context pairs a cluster with a user and a default namespace.
type Context struct {
	Cluster   string `json:"cluster"`
	User      string `json:"user"`
	Namespace string `json:"namespace,omitempty"`
}

// NamedUser is one entry of users.
type NamedUser struct {
	Name string `json:"name"`
	User User   `json:"user"`
}

// User is a client's credentials: a client certificate, a bearer token, or
// both.
type User struct {
	ClientCertificate     string `json:"client-certificate,omitempty"`
	ClientKey             string `json:"client-key,omitempty"`
	ClientCertificateData []byte `json:"client-certificate-data,omitempty"`
	ClientKeyData         []byte `json:"client-key-data,omitempty"`
	Token                 string `json:"token,omitempty"`
	// TokenFile is a file holding the token; it is read when the context is
	// resolved.
	TokenFile string `json:"token-file,omitempty"`
}

// Config is a resolved context: everything a client needs to dial.
type Config struct {
	// Context is the name of the context it was resolved from.
	Context string
	// Server is the apiserver's "host:port".
	Server string
	// TLS is the client's TLS configuration (CAs, client certificate,
	// server name). Nil means TLS with the system's roots, unless Plaintext.
	TLS *tls.Config
	// Plaintext dials without TLS (a server given as "http://...").
	Plaintext bool
	// BearerToken, when set, is sent with every call.
	BearerToken string
	// Namespace is the context's default namespace ("default" when the
	// context names none).
	Namespace string
}

// NewFile returns a File with one cluster, one user and one context, all
// called name, and that context current: the shape of admin.conf.
func NewFile(name string, cluster Cluster, user User, namespace string) *File {
	return &File{
		APIVersion:     "v1",
		Kind:           "Config",
		CurrentContext: name,
		Clusters:       []NamedCluster{{Name: name, Cluster: cluster}},
		Contexts:       []NamedContext{{Name: name, Context: Context{Cluster: name, User: name, Namespace: namespace}}},
		Users:          []NamedUser{{Name: name, User: user}},
	}
}

// Path picks the config file: explicit when not empty (the --kubeconfig
// flag), else $GANTRY_CONFIG, else ~/.gantry/config.
func Path(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if p := os.Getenv(EnvVar); p != "" {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find client config: no --kubeconfig, no $%s, and no home directory: %w", EnvVar, err)
	}
	return filepath.Join(home, ".gantry", "config"), nil
}

// Open finds the config file with [Path], loads it and resolves a context
// ("" for the current one).
func Open(explicitPath, context string) (*Config, error) {
	p, err := Path(explicitPath)
	if err != nil {
		return nil, err
	}
	f, err := Load(p)
	if err != nil {
		return nil, err
	}
	return f.Resolve(context)
}

// Load reads and parses the config file at path. Its Dir is the file's
// folder.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read client config: %w", err)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("client config %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("client config %s: %w", path, err)
	}
	f.Dir = filepath.Dir(abs)
	return f, nil
}

// Parse parses a config file's YAML (or JSON). A field it does not know is
// an error that names it.
func Parse(data []byte) (*File, error) {
	f := &File{}
	if err := yaml.UnmarshalStrict(data, f); err != nil {
		// sigs.k8s.io/yaml stacks prefixes that say nothing to a user.
		msg := err.Error()
		for _, p := range []string{"error unmarshaling JSON: ", "while decoding JSON: ", "json: "} {
			msg = strings.TrimPrefix(msg, p)
		}
		return nil, fmt.Errorf("parse: %s", msg)
	}
	if f.Kind != "" && f.Kind != "Config" {
		return nil, fmt.Errorf("parse: kind is %q, want Config", f.Kind)
	}
	if f.APIVersion != "" && f.APIVersion != "v1" {
		return nil, fmt.Errorf("parse: apiVersion is %q, want v1", f.APIVersion)
	}
	return f, nil
}

// Marshal returns the YAML of f, with apiVersion and kind filled in.
func Marshal(f *File) ([]byte, error) {
	c := *f
	if c.APIVersion == "" {
		c.APIVersion = "v1"
	}
	if c.Kind == "" {
		c.Kind = "Config"
	}
	return yaml.Marshal(&c)
}

// Write stores f at path with mode 0600, atomically: it writes a temporary
// file in the same folder and renames it over path. Missing folders are made
// with mode 0700.
func Write(path string, f *File) error {
	data, err := Marshal(f)
	if err != nil {
		return fmt.Errorf("write client config %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write client config: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write client config: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write client config: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write client config: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write client config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write client config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write client config: %w", err)
	}
	return nil
}

// Cluster finds a cluster by name.
func (f *File) Cluster(name string) (*Cluster, bool) {
	for i := range f.Clusters {
		if f.Clusters[i].Name == name {
			return &f.Clusters[i].Cluster, true
		}
	}
	return nil, false
}

// Context finds a context by name.
func (f *File) Context(name string) (*Context, bool) {
	for i := range f.Contexts {
		if f.Contexts[i].Name == name {
			return &f.Contexts[i].Context, true
		}
	}
	return nil, false
}

// User finds a user by name.
func (f *File) User(name string) (*User, bool) {
	for i := range f.Users {
		if f.Users[i].Name == name {
			return &f.Users[i].User, true
		}
	}
	return nil, false
}

// Resolve turns the named context ("" for current-context) into a Config:
// it reads the files the context's cluster and user name and builds the TLS
// configuration. Errors name what is missing.
func (f *File) Resolve(contextName string) (*Config, error) {
	if contextName == "" {
		contextName = f.CurrentContext
	}
	if contextName == "" {
		return nil, errors.New("client config: no context given and current-context is not set")
	}
	ctx, ok := f.Context(contextName)
	if !ok {
		return nil, fmt.Errorf("client config: context %q not found", contextName)
	}
	if ctx.Cluster == "" {
		return nil, fmt.Errorf("client config: context %q names no cluster", contextName)
	}
	cl, ok := f.Cluster(ctx.Cluster)
	if !ok {
		return nil, fmt.Errorf("client config: cluster %q (of context %q) not found", ctx.Cluster, contextName)
	}
	var user User
	if ctx.User != "" {
		u, ok := f.User(ctx.User)
		if !ok {
			return nil, fmt.Errorf("client config: user %q (of context %q) not found", ctx.User, contextName)
		}
		user = *u
	}
	cfg := &Config{Context: contextName, Namespace: ctx.Namespace}
	if cfg.Namespace == "" {
		cfg.Namespace = DefaultNamespace
	}
	host, plaintext, err := parseServer(cl.Server)
	if err != nil {
		return nil, fmt.Errorf("client config: cluster %q: %w", ctx.Cluster, err)
	}
	cfg.Server, cfg.Plaintext = host, plaintext

	if err := f.resolveToken(&user, cfg); err != nil {
		return nil, fmt.Errorf("client config: user %q: %w", ctx.User, err)
	}
	if plaintext {
		return cfg, nil
	}
	tc, err := f.tlsConfig(cl, &user, host)
	if err != nil {
		return nil, fmt.Errorf("client config: context %q: %w", contextName, err)
	}
	cfg.TLS = tc
	return cfg, nil
}

func (f *File) resolveToken(u *User, cfg *Config) error {
	cfg.BearerToken = u.Token
	if u.TokenFile == "" {
		return nil
	}
	if u.Token != "" {
		return errors.New("both token and token-file are set")
	}
	data, err := os.ReadFile(f.abs(u.TokenFile))
	if err != nil {
		return fmt.Errorf("read token-file: %w", err)
	}
	cfg.BearerToken = strings.TrimSpace(string(data))
	if cfg.BearerToken == "" {
		return fmt.Errorf("token-file %s is empty", u.TokenFile)
	}
	return nil
}

func (f *File) tlsConfig(cl *Cluster, u *User, host string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cl.TLSServerName != "" {
		tc.ServerName = cl.TLSServerName
	} else if h, _, err := net.SplitHostPort(host); err == nil {
		tc.ServerName = h
	}
	tc.InsecureSkipVerify = cl.InsecureSkipTLSVerify

	caPEM, err := f.readEither("certificate-authority", cl.CertificateAuthority, cl.CertificateAuthorityData)
	if err != nil {
		return nil, err
	}
	if caPEM != nil {
		if cl.InsecureSkipTLSVerify {
			return nil, errors.New("insecure-skip-tls-verify and a certificate authority are both set")
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("certificate authority holds no PEM certificate")
		}
		tc.RootCAs = pool
	}

	certPEM, err := f.readEither("client-certificate", u.ClientCertificate, u.ClientCertificateData)
	if err != nil {
		return nil, err
	}
	keyPEM, err := f.readEither("client-key", u.ClientKey, u.ClientKeyData)
	if err != nil {
		return nil, err
	}
	switch {
	case certPEM != nil && keyPEM == nil:
		return nil, errors.New("client certificate given without client-key")
	case certPEM == nil && keyPEM != nil:
		return nil, errors.New("client-key given without client-certificate")
	case certPEM != nil:
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// readEither returns data, or the content of file, or nil when neither is set.
func (f *File) readEither(field, file string, data []byte) ([]byte, error) {
	switch {
	case file != "" && len(data) > 0:
		return nil, fmt.Errorf("both %s and %s-data are set", field, field)
	case len(data) > 0:
		return bytes.Clone(data), nil
	case file != "":
		b, err := os.ReadFile(f.abs(file))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", field, err)
		}
		return b, nil
	}
	return nil, nil
}

func (f *File) abs(p string) string {
	if filepath.IsAbs(p) || f.Dir == "" {
		return p
	}
	return filepath.Join(f.Dir, p)
}

// parseServer accepts "host:port", "https://host:port" and
// "http://host:port"; a missing port is 6443.
func parseServer(s string) (host string, plaintext bool, err error) {
	if s == "" {
		return "", false, errors.New("server is not set")
	}
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return "", false, fmt.Errorf("server %q: %w", s, err)
		}
		switch u.Scheme {
		case "https":
		case "http":
			plaintext = true
		default:
			return "", false, fmt.Errorf("server %q: scheme must be https or http", s)
		}
		if u.Path != "" && u.Path != "/" {
			return "", false, fmt.Errorf("server %q: a path is not supported", s)
		}
		s = u.Host
	}
	if s == "" {
		return "", false, errors.New("server has no host")
	}
	if _, _, err := net.SplitHostPort(s); err != nil {
		// No port (or a bare IPv6 address): use the default.
		s = net.JoinHostPort(strings.Trim(s, "[]"), "6443")
	}
	return s, plaintext, nil
}
