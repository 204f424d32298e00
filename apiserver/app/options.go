package app

import (
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/gantryhq/gantry/apiserver/internal/alloc"
)

// Options are the apiserver's flags.
type Options struct {
	DataDir     string
	BindAddress string
	SecurePort  int
	// HTTPPort serves /livez, /readyz, /metrics and /debug/pprof (plain
	// HTTP, on BindAddress). 0 turns it off.
	HTTPPort int

	EtcdServers  []string
	EtcdCAFile   string
	EtcdCertFile string
	EtcdKeyFile  string
	// EtcdCompactionInterval is how often revisions older than the previous
	// interval's are compacted. 0 turns compaction off.
	EtcdCompactionInterval time.Duration
	// EventTTL is how long an Event is kept after its last write.
	EventTTL time.Duration

	TLSCertFile       string
	TLSPrivateKeyFile string
	ClientCAFile      string
	TLSSANs           []string
	TokenAuthFile     string
	// KubeletClientCertificate and KubeletClientKey are what the apiserver
	// presents to kubelets (logs, exec); empty: the generated admin
	// certificate. KubeletCertificateAuthority verifies the kubelets'
	// serving certificates; empty: they are not verified.
	KubeletClientCertificate    string
	KubeletClientKey            string
	KubeletCertificateAuthority string
	// AdvertiseAddress is the server address written into admin.conf.
	AdvertiseAddress string

	LogLevel string

	// ServiceClusterIPRange is the CIDR services' cluster IPs come from.
	ServiceClusterIPRange string
	// ServiceNodePortRange is the range node ports come from ("30000-32767").
	ServiceNodePortRange string
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		DataDir:                "/var/lib/gantry/apiserver",
		BindAddress:            "0.0.0.0",
		SecurePort:             6443,
		HTTPPort:               6444,
		EtcdCompactionInterval: 5 * time.Minute,
		EventTTL:               time.Hour,
		LogLevel:               "info",
		ServiceClusterIPRange:  alloc.DefaultServiceClusterIPRange,
		ServiceNodePortRange:   alloc.DefaultServiceNodePortRange,
	}
}

// AddFlags registers the options on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir, "Directory for the embedded etcd, generated certificates and admin.conf.")
	fs.StringVar(&o.BindAddress, "bind-address", o.BindAddress, "IP address to serve on.")
	fs.IntVar(&o.SecurePort, "secure-port", o.SecurePort, "Port of the TLS gRPC API.")
	fs.IntVar(&o.HTTPPort, "http-port", o.HTTPPort, "Port for /livez, /readyz, /metrics and /debug/pprof over plain HTTP; 0 disables it.")
	fs.StringSliceVar(&o.EtcdServers, "etcd-servers", o.EtcdServers, "etcd endpoints (https://host:2379,...). Empty: run an embedded etcd in --data-dir.")
	fs.StringVar(&o.EtcdCAFile, "etcd-cafile", o.EtcdCAFile, "CA bundle to verify etcd's certificate.")
	fs.StringVar(&o.EtcdCertFile, "etcd-certfile", o.EtcdCertFile, "Client certificate for etcd.")
	fs.StringVar(&o.EtcdKeyFile, "etcd-keyfile", o.EtcdKeyFile, "Client key for etcd.")
	fs.DurationVar(&o.EtcdCompactionInterval, "etcd-compaction-interval", o.EtcdCompactionInterval, "How often to compact old etcd revisions; 0 disables.")
	fs.DurationVar(&o.EventTTL, "event-ttl", o.EventTTL, "How long events are kept after their last write.")
	fs.StringVar(&o.TLSCertFile, "tls-cert-file", o.TLSCertFile, "Serving certificate. Empty: generate one (and a CA) in --data-dir/pki.")
	fs.StringVar(&o.TLSPrivateKeyFile, "tls-private-key-file", o.TLSPrivateKeyFile, "Serving certificate's key.")
	fs.StringVar(&o.KubeletClientCertificate, "kubelet-client-certificate", o.KubeletClientCertificate, "Client certificate presented to kubelets (logs, exec). Empty: the generated admin certificate.")
	fs.StringVar(&o.KubeletClientKey, "kubelet-client-key", o.KubeletClientKey, "Key of --kubelet-client-certificate.")
	fs.StringVar(&o.KubeletCertificateAuthority, "kubelet-certificate-authority", o.KubeletCertificateAuthority, "CA bundle to verify kubelets' serving certificates. Empty: not verified.")
	fs.StringVar(&o.ClientCAFile, "client-ca-file", o.ClientCAFile, "CA bundle that signs client certificates. Empty: the generated CA.")
	fs.StringSliceVar(&o.TLSSANs, "tls-san", o.TLSSANs, "Extra DNS names or IPs for the generated serving certificate.")
	fs.StringVar(&o.TokenAuthFile, "token-auth-file", o.TokenAuthFile, "Static bearer tokens, Kubernetes' CSV format: token,user,uid,\"group1,group2\".")
	fs.StringVar(&o.AdvertiseAddress, "advertise-address", o.AdvertiseAddress, "Address clients reach this server at, written to admin.conf. Empty: 127.0.0.1.")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "debug, info, warn or error.")
	fs.StringVar(&o.ServiceClusterIPRange, "service-cluster-ip-range", o.ServiceClusterIPRange, "CIDR of the IPs services' clusterIPs are allocated from.")
	fs.StringVar(&o.ServiceNodePortRange, "service-node-port-range", o.ServiceNodePortRange, "Range of node ports (low-high, both included) for NodePort and LoadBalancer services.")
}

// Validate reports every problem with the options.
func (o *Options) Validate() []error {
	var errs []error
	if o.DataDir == "" {
		errs = append(errs, fmt.Errorf("--data-dir must not be empty"))
	}
	if net.ParseIP(o.BindAddress) == nil {
		errs = append(errs, fmt.Errorf("--bind-address %q is not an IP address", o.BindAddress))
	}
	if o.SecurePort < 0 || o.SecurePort > 65535 {
		errs = append(errs, fmt.Errorf("--secure-port %d must be between 0 and 65535", o.SecurePort))
	}
	if o.HTTPPort < 0 || o.HTTPPort > 65535 {
		errs = append(errs, fmt.Errorf("--http-port %d must be between 0 and 65535", o.HTTPPort))
	}
	if (o.TLSCertFile == "") != (o.TLSPrivateKeyFile == "") {
		errs = append(errs, fmt.Errorf("--tls-cert-file and --tls-private-key-file must be given together"))
	}
	if (o.EtcdCertFile == "") != (o.EtcdKeyFile == "") {
		errs = append(errs, fmt.Errorf("--etcd-certfile and --etcd-keyfile must be given together"))
	}
	for _, s := range o.EtcdServers {
		if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
			errs = append(errs, fmt.Errorf("--etcd-servers entry %q must start with http:// or https://", s))
		}
	}
	for _, f := range []struct{ flag, path string }{
		{"--tls-cert-file", o.TLSCertFile}, {"--tls-private-key-file", o.TLSPrivateKeyFile},
		{"--client-ca-file", o.ClientCAFile}, {"--token-auth-file", o.TokenAuthFile},
		{"--etcd-cafile", o.EtcdCAFile}, {"--etcd-certfile", o.EtcdCertFile}, {"--etcd-keyfile", o.EtcdKeyFile},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.flag, err))
		}
	}
	if o.EtcdCompactionInterval < 0 {
		errs = append(errs, fmt.Errorf("--etcd-compaction-interval must not be negative"))
	}
	if o.EventTTL < time.Second {
		errs = append(errs, fmt.Errorf("--event-ttl %s must be at least 1s (etcd leases count whole seconds)", o.EventTTL))
	}
	switch o.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %q must be debug, info, warn or error", o.LogLevel))
	}
	if _, err := alloc.ParseIPRange(o.ServiceClusterIPRange); err != nil {
		errs = append(errs, fmt.Errorf("--service-cluster-ip-range: %w", err))
	}
	if _, err := alloc.ParsePortRange(o.ServiceNodePortRange); err != nil {
		errs = append(errs, fmt.Errorf("--service-node-port-range: %w", err))
	}
	return errs
}
