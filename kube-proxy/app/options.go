package app

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Options are kube-proxy's flags.
type Options struct {
	Kubeconfig       string
	HostnameOverride string
	MinSyncPeriod    time.Duration
	SyncPeriod       time.Duration
	// Cleanup removes every rule kube-proxy wrote, then exits.
	Cleanup       bool
	MasqueradeAll bool
	ClusterCIDR   string
	// LocalhostNodePorts lets node ports answer on 127.0.0.1 (sets
	// route_localnet, guarded by KUBE-FIREWALL's DROP rule).
	LocalhostNodePorts bool
	// HealthzBindAddress serves /healthz (and /livez, /readyz).
	HealthzBindAddress string
	// MetricsBindAddress serves /metrics (and /debug/pprof).
	MetricsBindAddress string
	LogLevel           string
}

// NewOptions returns Kubernetes' defaults.
func NewOptions() *Options {
	return &Options{
		MinSyncPeriod:      time.Second,
		SyncPeriod:         30 * time.Second,
		HealthzBindAddress: "0.0.0.0:10256",
		MetricsBindAddress: "127.0.0.1:10249",
		LogLevel:           "info",
	}
}

// AddFlags registers the options on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Client config file (kubeconfig-shaped). Empty: $GANTRY_CONFIG or ~/.gantry/config.")
	fs.StringVar(&o.HostnameOverride, "hostname-override", o.HostnameOverride, "The node's name, if not the hostname.")
	fs.DurationVar(&o.MinSyncPeriod, "min-sync-period", o.MinSyncPeriod, "Least time between two syncs of the rules; changes within it are batched.")
	fs.DurationVar(&o.SyncPeriod, "sync-period", o.SyncPeriod, "Most time between two syncs of the rules.")
	fs.BoolVar(&o.Cleanup, "cleanup", o.Cleanup, "Remove every iptables rule and chain kube-proxy writes, then exit.")
	fs.BoolVar(&o.MasqueradeAll, "masquerade-all", o.MasqueradeAll, "SNAT all traffic sent to a cluster IP.")
	fs.BoolVar(&o.LocalhostNodePorts, "iptables-localhost-nodeports", o.LocalhostNodePorts, "Let node ports answer on 127.0.0.1: sets net.ipv4.conf.all.route_localnet=1, after adding the KUBE-FIREWALL rule that drops other traffic to 127.0.0.0/8.")
	fs.StringVar(&o.ClusterCIDR, "cluster-cidr", o.ClusterCIDR, "The pods' CIDR; traffic to a cluster IP from outside it is masqueraded.")
	fs.StringVar(&o.HealthzBindAddress, "healthz-bind-address", o.HealthzBindAddress, "ip:port for /healthz; empty disables it.")
	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", o.MetricsBindAddress, "ip:port for /metrics; empty disables it.")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "debug, info, warn or error.")
}

// Validate reports every problem with the options.
func (o *Options) Validate() []error {
	var errs []error
	if o.MinSyncPeriod < 0 {
		errs = append(errs, fmt.Errorf("--min-sync-period must not be negative"))
	}
	if o.SyncPeriod <= 0 {
		errs = append(errs, fmt.Errorf("--sync-period must be positive"))
	}
	if o.SyncPeriod > 0 && o.MinSyncPeriod > o.SyncPeriod {
		errs = append(errs, fmt.Errorf("--min-sync-period (%s) must not exceed --sync-period (%s)", o.MinSyncPeriod, o.SyncPeriod))
	}
	if o.ClusterCIDR != "" {
		if _, err := netip.ParsePrefix(o.ClusterCIDR); err != nil {
			errs = append(errs, fmt.Errorf("--cluster-cidr: %w", err))
		}
	}
	for _, a := range []struct{ flag, addr string }{
		{"--healthz-bind-address", o.HealthzBindAddress}, {"--metrics-bind-address", o.MetricsBindAddress},
	} {
		if a.addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", a.flag, a.addr, err))
		}
	}
	if strings.ContainsAny(o.HostnameOverride, " /") {
		errs = append(errs, fmt.Errorf("--hostname-override %q is not a node name", o.HostnameOverride))
	}
	switch o.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %q must be debug, info, warn or error", o.LogLevel))
	}
	return errs
}

// hostname is the node's name.
func (o *Options) hostname() (string, error) {
	if o.HostnameOverride != "" {
		return strings.ToLower(o.HostnameOverride), nil
	}
	h, err := os.Hostname()
	return strings.ToLower(h), err
}
