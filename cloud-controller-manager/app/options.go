package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/config"
	"github.com/gantryhq/gantry/client/daemon"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/controller"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider"
)

// DefaultSecurePort serves /livez, /readyz, /metrics and /debug/pprof.
const DefaultSecurePort = 10258

// Options are the command's flags.
type Options struct {
	Kubeconfig string
	Context    string

	CloudProvider string
	ClusterName   string

	LeaderElect          bool
	LeaderElectNamespace string
	LeaderElectName      string
	LeaseDuration        time.Duration
	RenewDeadline        time.Duration
	RetryPeriod          time.Duration

	// Controllers to run: "*" for all, a name to add one, "-name" to leave
	// one out.
	Controllers []string

	BindAddress string
	SecurePort  int
	LogLevel    string

	ConcurrentServiceSyncs    int
	ConcurrentNodeSyncs       int
	NodeMonitorPeriod         time.Duration
	NodeStatusUpdateFrequency time.Duration
	RouteReconcilePeriod      time.Duration
	ServiceResyncPeriod       time.Duration

	registry *provider.Registry
}

// NewOptions returns the defaults, with the providers of reg.
func NewOptions(reg *provider.Registry) *Options {
	return &Options{
		CloudProvider:             "",
		ClusterName:               "gantry",
		LeaderElect:               true,
		LeaderElectNamespace:      "kube-system",
		LeaderElectName:           "cloud-controller-manager",
		LeaseDuration:             15 * time.Second,
		RenewDeadline:             10 * time.Second,
		RetryPeriod:               2 * time.Second,
		Controllers:               []string{"*"},
		BindAddress:               "0.0.0.0",
		SecurePort:                DefaultSecurePort,
		LogLevel:                  "info",
		ConcurrentServiceSyncs:    1,
		ConcurrentNodeSyncs:       1,
		NodeMonitorPeriod:         5 * time.Second,
		NodeStatusUpdateFrequency: 5 * time.Minute,
		RouteReconcilePeriod:      10 * time.Second,
		ServiceResyncPeriod:       5 * time.Minute,
		registry:                  reg,
	}
}

// AddFlags adds the flags, the providers' own included.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Path to the client config (default $GANTRY_CONFIG or ~/.gantry/config).")
	fs.StringVar(&o.Context, "context", o.Context, "Context of the client config to use (default its current context).")
	fs.StringVar(&o.CloudProvider, "cloud-provider", o.CloudProvider, fmt.Sprintf("The cloud provider: one of %s. Required.", strings.Join(o.registry.Names(), ", ")))
	fs.StringVar(&o.ClusterName, "cluster-name", o.ClusterName, "The cluster's name; providers label what they make with it.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Take a leader lease before running the controllers, so that only one of several replicas acts.")
	fs.StringVar(&o.LeaderElectNamespace, "leader-elect-resource-namespace", o.LeaderElectNamespace, "Namespace of the leader Lease.")
	fs.StringVar(&o.LeaderElectName, "leader-elect-resource-name", o.LeaderElectName, "Name of the leader Lease.")
	fs.DurationVar(&o.LeaseDuration, "leader-elect-lease-duration", o.LeaseDuration, "How long a non-leader waits after the last renewal before taking the lease.")
	fs.DurationVar(&o.RenewDeadline, "leader-elect-renew-deadline", o.RenewDeadline, "How long the leader keeps trying to renew before it stops leading.")
	fs.DurationVar(&o.RetryPeriod, "leader-elect-retry-period", o.RetryPeriod, "How often the lease is tried.")
	fs.StringSliceVar(&o.Controllers, "controllers", o.Controllers, fmt.Sprintf("Controllers to run: '*' for all, 'name' to add one, '-name' to leave one out. Known: %s.", strings.Join(controller.All, ", ")))
	fs.StringVar(&o.BindAddress, "bind-address", o.BindAddress, "Address to serve health and metrics on.")
	fs.IntVar(&o.SecurePort, "secure-port", o.SecurePort, "Port to serve /livez, /readyz, /metrics and /debug/pprof on (0 picks a free port).")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "Log level: debug, info, warn or error.")
	fs.IntVar(&o.ConcurrentServiceSyncs, "concurrent-service-syncs", o.ConcurrentServiceSyncs, "Services synced at once.")
	fs.IntVar(&o.ConcurrentNodeSyncs, "concurrent-node-syncs", o.ConcurrentNodeSyncs, "Nodes initialized at once.")
	fs.DurationVar(&o.NodeMonitorPeriod, "node-monitor-period", o.NodeMonitorPeriod, "How often the node lifecycle controller asks the provider about NotReady nodes.")
	fs.DurationVar(&o.NodeStatusUpdateFrequency, "node-status-update-frequency", o.NodeStatusUpdateFrequency, "How often node addresses are refreshed from the provider.")
	fs.DurationVar(&o.RouteReconcilePeriod, "route-reconcile-period", o.RouteReconcilePeriod, "How often routes are reconciled.")
	fs.DurationVar(&o.ServiceResyncPeriod, "service-resync-period", o.ServiceResyncPeriod, "How often every load balancer is ensured again even when nothing changed.")
	o.registry.AddFlags(fs)
}

// Validate checks the options.
func (o *Options) Validate() []error {
	var errs []error
	if o.CloudProvider == "" {
		errs = append(errs, fmt.Errorf("--cloud-provider is required (one of %s)", strings.Join(o.registry.Names(), ", ")))
	} else if !o.registry.Has(o.CloudProvider) {
		errs = append(errs, fmt.Errorf("--cloud-provider=%s: unknown provider (one of %s)", o.CloudProvider, strings.Join(o.registry.Names(), ", ")))
	}
	if o.ClusterName == "" {
		errs = append(errs, errors.New("--cluster-name must not be empty"))
	}
	if _, err := EnabledControllers(o.Controllers); err != nil {
		errs = append(errs, err)
	}
	if o.SecurePort < 0 || o.SecurePort > 65535 {
		errs = append(errs, fmt.Errorf("--secure-port=%d: must be 0..65535", o.SecurePort))
	}
	if o.ConcurrentServiceSyncs < 1 || o.ConcurrentNodeSyncs < 1 {
		errs = append(errs, errors.New("--concurrent-service-syncs and --concurrent-node-syncs must be at least 1"))
	}
	for name, d := range map[string]time.Duration{
		"--node-monitor-period": o.NodeMonitorPeriod, "--node-status-update-frequency": o.NodeStatusUpdateFrequency,
		"--route-reconcile-period": o.RouteReconcilePeriod, "--service-resync-period": o.ServiceResyncPeriod,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive", name))
		}
	}
	if o.LeaderElect && o.LeaseDuration <= o.RenewDeadline {
		errs = append(errs, errors.New("--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline"))
	}
	return errs
}

// EnabledControllers resolves a --controllers list to the controllers to
// run, in start order.
func EnabledControllers(spec []string) ([]string, error) {
	on := map[string]bool{}
	star := false
	for _, s := range spec {
		s = strings.TrimSpace(s)
		name, off := strings.CutPrefix(s, "-")
		switch {
		case s == "*":
			star = true
			continue
		case !slices.Contains(controller.All, name):
			return nil, fmt.Errorf("--controllers: unknown controller %q (known: %s)", name, strings.Join(controller.All, ", "))
		}
		on[name] = !off
	}
	var out []string
	for _, name := range controller.All {
		enabled, named := on[name]
		if (named && enabled) || (!named && star) {
			out = append(out, name)
		}
	}
	return out, nil
}

// Config is everything Run needs, built from valid options.
type Config struct {
	Options     Options
	Client      *client.Clientset
	Provider    provider.Interface
	Logger      *zap.Logger
	Controllers []string
	Identity    string
}

// Config loads the client config, connects, and builds the provider.
func (o *Options) Config(ctx context.Context) (*Config, error) {
	log, err := daemon.NewLogger("cloud-controller-manager", o.LogLevel)
	if err != nil {
		return nil, err
	}
	ccfg, err := config.Open(o.Kubeconfig, o.Context)
	if err != nil {
		return nil, err
	}
	cs, err := client.New(ccfg, client.WithLogger(log.Named("client")), client.WithUserAgent("cloud-controller-manager"))
	if err != nil {
		return nil, err
	}
	p, err := o.registry.New(ctx, o.CloudProvider, provider.Config{ClusterName: o.ClusterName, Logger: log.Named("provider")})
	if err != nil {
		_ = cs.Close()
		return nil, err
	}
	controllers, _ := EnabledControllers(o.Controllers)
	host, _ := os.Hostname()
	return &Config{Options: *o, Client: cs, Provider: p, Logger: log, Controllers: controllers,
		Identity: fmt.Sprintf("%s_%d_%d", host, os.Getpid(), time.Now().UnixNano()%1e6)}, nil
}

// CompletedConfig is a Config that Complete filled in; only it reaches Run.
type CompletedConfig struct{ *completed }

type completed struct{ *Config }

// Complete fills in what the options left open.
func (c *Config) Complete() CompletedConfig {
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.Identity == "" {
		host, _ := os.Hostname()
		c.Identity = host
	}
	return CompletedConfig{&completed{c}}
}
