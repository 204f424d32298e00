package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
)

// File names inside the certificate directory.
const (
	CACertFile      = "ca.crt"
	CAKeyFile       = "ca.key"
	ServingCertFile = "apiserver.crt"
	ServingKeyFile  = "apiserver.key"
	AdminCertFile   = "admin.crt"
	AdminKeyFile    = "admin.key"
)

// Names and lifetimes of the generated certificates.
const (
	// CACommonName is the subject CN of a generated CA.
	CACommonName = "gantry-ca"
	// ServingCommonName is the subject CN of the generated serving certificate.
	ServingCommonName = "gantry-apiserver"
	// AdminUser and AdminGroup are the identity of the admin certificate.
	AdminUser  = "admin"
	AdminGroup = "system:masters"

	// CAValidity is how long a generated CA is valid.
	CAValidity = 10 * 365 * 24 * time.Hour
	// LeafValidity is how long a serving or client certificate is valid.
	LeafValidity = 365 * 24 * time.Hour
	// RenewBefore is how long before expiry a generated serving or admin
	// certificate is replaced on start, as k3s does.
	RenewBefore = 90 * 24 * time.Hour

	// backdate moves NotBefore into the past to tolerate clock skew.
	backdate = time.Hour
)

// DefaultDNSNames are the DNS names every serving certificate carries beside
// the host's name: localhost, and the names the apiserver has in the
// docker-compose cluster.
var DefaultDNSNames = []string{"localhost", "gantry-apiserver", "apiserver"}

// DefaultIPs are the IP addresses every serving certificate carries.
var DefaultIPs = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}

// Options say what the serving certificate must cover.
type Options struct {
	// BindAddress is the address the apiserver listens on, an IP or a host,
	// with or without a port. An unspecified address (0.0.0.0, ::) or an
	// empty one adds nothing; any other becomes a SAN.
	BindAddress string
	// SANs are extra subject alternative names (--tls-san): each one an IP
	// address or a DNS name.
	SANs []string
	// Hostname is the host's name; empty means os.Hostname().
	Hostname string
	// Logger reports which files were generated; nil logs nothing.
	Logger *zap.Logger
}

// Paths are the files EnsureCertificates keeps in a directory.
type Paths struct {
	Dir                     string
	CACert, CAKey           string
	ServingCert, ServingKey string
	AdminCert, AdminKey     string
}

// PathsIn returns the paths of the certificate files in dir.
func PathsIn(dir string) Paths {
	return Paths{
		Dir:         dir,
		CACert:      filepath.Join(dir, CACertFile),
		CAKey:       filepath.Join(dir, CAKeyFile),
		ServingCert: filepath.Join(dir, ServingCertFile),
		ServingKey:  filepath.Join(dir, ServingKeyFile),
		AdminCert:   filepath.Join(dir, AdminCertFile),
		AdminKey:    filepath.Join(dir, AdminKeyFile),
	}
}

// EnsureCertificates makes sure dir holds a CA, a serving certificate and an
// admin client certificate, generating whatever is missing. It is
// idempotent: existing files are reused, except that a serving or admin
// certificate is reissued (with a new key) when it was not signed by the
// CA in dir, does not match its key, expires within RenewBefore, or — for
// the serving certificate — lacks one of the SANs opts asks for. An
// existing CA is never replaced; a ca.crt without its ca.key (or the
// reverse) is an error. dir is created (0700) when it does not exist.
func EnsureCertificates(dir string, opts Options) (Paths, error) {
	p := PathsIn(dir)
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.Named("pki")

	dns, ips, err := servingSANs(opts)
	if err != nil {
		return p, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return p, fmt.Errorf("create certificate directory: %w", err)
	}

	ca, created, err := ensureCA(p)
	if err != nil {
		return p, err
	}
	if created {
		log.Info("generated certificate authority", zap.String("cert", p.CACert), zap.String("cn", CACommonName))
	}
	now := time.Now()

	reason, err := reissueReason(p.ServingCert, p.ServingKey, ca, now, func(c *x509.Certificate) string {
		if missing := missingSANs(c, dns, ips); len(missing) > 0 {
			return "missing SANs " + strings.Join(missing, ",")
		}
		if !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
			return "not for server auth"
		}
		return ""
	})
	if err != nil {
		return p, err
	}
	if reason != "" {
		tmpl := leafTemplate(pkix.Name{CommonName: ServingCommonName}, x509.ExtKeyUsageServerAuth, now)
		tmpl.DNSNames, tmpl.IPAddresses = dns, ips
		certPEM, keyPEM, err := ca.issue(tmpl)
		if err != nil {
			return p, fmt.Errorf("issue serving certificate: %w", err)
		}
		if err := writePair(p.ServingCert, p.ServingKey, certPEM, keyPEM); err != nil {
			return p, err
		}
		log.Info("generated serving certificate", zap.String("cert", p.ServingCert), zap.String("reason", reason),
			zap.Strings("dnsNames", dns), zap.Stringers("ips", ipStringers(ips)))
	}

	reason, err = reissueReason(p.AdminCert, p.AdminKey, ca, now, func(c *x509.Certificate) string {
		if c.Subject.CommonName != AdminUser || !slices.Contains(c.Subject.Organization, AdminGroup) {
			return "subject is not " + AdminUser + "/" + AdminGroup
		}
		if !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
			return "not for client auth"
		}
		return ""
	})
	if err != nil {
		return p, err
	}
	if reason != "" {
		certPEM, keyPEM, err := ca.issue(clientTemplate(AdminUser, []string{AdminGroup}, now))
		if err != nil {
			return p, fmt.Errorf("issue admin certificate: %w", err)
		}
		if err := writePair(p.AdminCert, p.AdminKey, certPEM, keyPEM); err != nil {
			return p, err
		}
		log.Info("generated admin client certificate", zap.String("cert", p.AdminCert), zap.String("reason", reason))
	}
	return p, nil
}

// IssueClientCert signs a new client certificate (and a new ECDSA P-256
// key) for user name in groups with the CA in dir, valid for LeafValidity.
// The subject is CN=name, O=groups, which is how the apiserver reads a
// client certificate's identity. Nothing is written to dir.
func IssueClientCert(dir, name string, groups []string) (certPEM, keyPEM []byte, err error) {
	if name == "" {
		return nil, nil, errors.New("issue client certificate: empty user name")
	}
	p := PathsIn(dir)
	ca, err := loadCA(p.CACert, p.CAKey)
	if err != nil {
		return nil, nil, err
	}
	certPEM, keyPEM, err = ca.issue(clientTemplate(name, groups, time.Now()))
	if err != nil {
		return nil, nil, fmt.Errorf("issue client certificate for %q: %w", name, err)
	}
	return certPEM, keyPEM, nil
}

// authority is a CA that can sign.
type authority struct {
	cert   *x509.Certificate
	signer crypto.Signer
}

// issue signs tmpl with a fresh P-256 key.
func (a *authority) issue(tmpl *x509.Certificate) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	if tmpl.NotAfter.After(a.cert.NotAfter) {
		tmpl.NotAfter = a.cert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, key.Public(), a.signer)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return encodeCert(der), keyPEM, nil
}

// ensureCA loads the CA in p, or generates one when neither file exists.
func ensureCA(p Paths) (*authority, bool, error) {
	certExists, err := exists(p.CACert)
	if err != nil {
		return nil, false, err
	}
	keyExists, err := exists(p.CAKey)
	if err != nil {
		return nil, false, err
	}
	switch {
	case certExists && keyExists:
		ca, err := loadCA(p.CACert, p.CAKey)
		return ca, false, err
	case certExists:
		return nil, false, fmt.Errorf("%s exists but %s does not: cannot sign certificates without the CA's key", p.CACert, p.CAKey)
	case keyExists:
		return nil, false, fmt.Errorf("%s exists but %s does not", p.CAKey, p.CACert)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, false, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: CACommonName},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, false, fmt.Errorf("generate CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, false, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, false, err
	}
	// Key first: a crash between the two writes leaves a key without a
	// certificate, which the next start reports instead of silently
	// replacing a CA whose certificate others may already trust.
	if err := writePair(p.CACert, p.CAKey, encodeCert(der), keyPEM); err != nil {
		return nil, false, err
	}
	return &authority{cert: cert, signer: key}, true, nil
}

// loadCA reads a CA certificate and its key and checks that they match.
func loadCA(certFile, keyFile string) (*authority, error) {
	cert, err := readCert(certFile)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("%s is not a CA certificate", certFile)
	}
	signer, err := readKey(keyFile)
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(cert.PublicKey, signer.Public()) {
		return nil, fmt.Errorf("%s does not match the key in %s", certFile, keyFile)
	}
	return &authority{cert: cert, signer: signer}, nil
}

// reissueReason says why the leaf certificate in certFile must be issued
// again, or "" when it can be reused. check adds the certificate's own
// requirements.
func reissueReason(certFile, keyFile string, ca *authority, now time.Time, check func(*x509.Certificate) string) (string, error) {
	certExists, err := exists(certFile)
	if err != nil {
		return "", err
	}
	keyExists, err := exists(keyFile)
	if err != nil {
		return "", err
	}
	if !certExists || !keyExists {
		return "missing", nil
	}
	cert, err := readCert(certFile)
	if err != nil {
		return "unreadable certificate: " + err.Error(), nil
	}
	key, err := readKey(keyFile)
	if err != nil {
		return "unreadable key: " + err.Error(), nil
	}
	switch {
	case !publicKeysEqual(cert.PublicKey, key.Public()):
		return "certificate does not match key", nil
	case cert.CheckSignatureFrom(ca.cert) != nil:
		return "not signed by the CA", nil
	case now.Add(RenewBefore).After(cert.NotAfter):
		return "expires " + cert.NotAfter.UTC().Format(time.RFC3339), nil
	}
	return check(cert), nil
}

func leafTemplate(subject pkix.Name, usage x509.ExtKeyUsage, now time.Time) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               subject,
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(LeafValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{usage},
		BasicConstraintsValid: true,
	}
}

func clientTemplate(name string, groups []string, now time.Time) *x509.Certificate {
	return leafTemplate(pkix.Name{CommonName: name, Organization: slices.Clone(groups)}, x509.ExtKeyUsageClientAuth, now)
}

// servingSANs collects the DNS names and IPs the serving certificate needs.
func servingSANs(opts Options) ([]string, []net.IP, error) {
	var dns []string
	var ips []net.IP
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s == "" {
			return
		}
		if ip := net.ParseIP(s); ip != nil {
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
			return
		}
		s = strings.ToLower(strings.TrimSuffix(s, "."))
		if !slices.Contains(dns, s) {
			dns = append(dns, s)
		}
	}
	for _, n := range DefaultDNSNames {
		add(n)
	}
	for _, ip := range DefaultIPs {
		add(ip.String())
	}
	host := opts.Hostname
	if host == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, nil, fmt.Errorf("hostname for the serving certificate: %w", err)
		}
		host = h
	}
	add(host)
	if bind := opts.BindAddress; bind != "" {
		if h, _, err := net.SplitHostPort(bind); err == nil {
			bind = h
		}
		if ip := net.ParseIP(bind); ip == nil || !ip.IsUnspecified() {
			add(bind)
		}
	}
	for _, s := range opts.SANs {
		if strings.TrimSpace(s) == "" {
			continue
		}
		if strings.ContainsAny(s, " /:") && net.ParseIP(strings.TrimSpace(s)) == nil {
			return nil, nil, fmt.Errorf("--tls-san %q is neither an IP address nor a DNS name", s)
		}
		add(s)
	}
	return dns, ips, nil
}

// missingSANs lists the names in dns and ips that c does not carry.
func missingSANs(c *x509.Certificate, dns []string, ips []net.IP) []string {
	var missing []string
	for _, d := range dns {
		if !slices.ContainsFunc(c.DNSNames, func(have string) bool { return strings.EqualFold(have, d) }) {
			missing = append(missing, d)
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
			missing = append(missing, ip.String())
		}
	}
	return missing
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ak, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ak.Equal(b)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		// crypto/rand does not fail on supported platforms.
		panic(fmt.Sprintf("pki: random serial: %v", err))
	}
	return n.Add(n, big.NewInt(1))
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, err
}

func ipStringers(ips []net.IP) []fmt.Stringer {
	out := make([]fmt.Stringer, len(ips))
	for i, ip := range ips {
		out[i] = ip
	}
	return out
}

// writePair writes a key (0600) and then its certificate (0644).
func writePair(certFile, keyFile string, certPEM, keyPEM []byte) error {
	if err := WriteFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	return WriteFileAtomic(certFile, certPEM, 0o644)
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory that is synced and renamed over path, so a reader sees the old
// contents or the new, never a part. The file gets mode perm.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: make the rename durable
		d.Close()
	}
	return nil
}
