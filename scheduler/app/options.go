package app

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/spf13/pflag"

	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/config"
)

// DefaultPort is the scheduler's health and metrics port, as
// kube-scheduler's.
const DefaultPort = 10259

// Options are the scheduler's flags.
type Options struct {
	// Kubeconfig is the client config file (default: $GANTRY_CONFIG or
	// ~/.gantry/config).
	Kubeconfig string
	// Context is the config's context to use ("" for the current one).
	Context string
	// ConfigFile is a SchedulerConfiguration file ("" for the defaults).
	ConfigFile string
	// LeaderElect overrides the configuration's leaderElection.leaderElect
	// when set.
	LeaderElect *bool
	// Identity in leader election (default: hostname_random).
	Identity string
	// BindAddress and Port serve /livez, /readyz, /metrics and
	// /debug/pprof. Port 0 picks a free port; -1 turns it off.
	BindAddress string
	Port        int
	LogLevel    string

	leaderElect bool
	fs          *pflag.FlagSet
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{BindAddress: "0.0.0.0", Port: DefaultPort, LogLevel: "info", leaderElect: true}
}

// AddFlags registers the options on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	o.fs = fs
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Client config file of the apiserver (default $GANTRY_CONFIG or ~/.gantry/config).")
	fs.StringVar(&o.Context, "context", o.Context, "Context of the client config to use (default: its current context).")
	fs.StringVar(&o.ConfigFile, "config", o.ConfigFile, "SchedulerConfiguration file (apiVersion "+config.APIVersion+"); empty: the defaults.")
	fs.BoolVar(&o.leaderElect, "leader-elect", o.leaderElect, "Take a Lease before scheduling, so that only one replica schedules (overrides leaderElection.leaderElect).")
	fs.StringVar(&o.Identity, "leader-elect-identity", o.Identity, "Identity in leader election (default: hostname_random).")
	fs.StringVar(&o.BindAddress, "bind-address", o.BindAddress, "Address of the health and metrics server.")
	fs.IntVar(&o.Port, "secure-port", o.Port, "Port of /livez, /readyz, /metrics and /debug/pprof (plain HTTP); 0 picks a free port, -1 disables.")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "debug, info, warn or error.")
}

// Validate checks the options.
func (o *Options) Validate() []error {
	var errs []error
	if o.fs != nil && o.fs.Changed("leader-elect") {
		v := o.leaderElect
		o.LeaderElect = &v
	}
	if o.Port < -1 || o.Port > 65535 {
		errs = append(errs, fmt.Errorf("--secure-port: %d is not a port", o.Port))
	}
	if o.Port >= 0 && net.ParseIP(o.BindAddress) == nil {
		errs = append(errs, fmt.Errorf("--bind-address: %q is not an IP address", o.BindAddress))
	}
	switch o.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level: %q is not debug, info, warn or error", o.LogLevel))
	}
	if o.ConfigFile != "" {
		if _, err := os.Stat(o.ConfigFile); err != nil {
			errs = append(errs, fmt.Errorf("--config: %w", err))
		}
	}
	return errs
}

// Option changes what NewSchedulerCommand builds.
type Option func(framework.Registry) error

// WithPlugin registers an out-of-tree plugin factory under name, to be
// enabled in the configuration file's profiles (or at MultiPoint).
func WithPlugin(name string, factory framework.PluginFactory) Option {
	return func(r framework.Registry) error {
		if name == "" || factory == nil {
			return errors.New("WithPlugin: name and factory are required")
		}
		return r.Register(name, factory)
	}
}
