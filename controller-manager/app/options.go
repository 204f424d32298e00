package app

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Options are the controller-manager's flags.
type Options struct {
	Kubeconfig  string
	Context     string
	BindAddress string
	// Port serves /livez, /readyz, /metrics and /debug/pprof over plain
	// HTTP; 0 turns it off, -1 picks a free port (tests).
	Port int

	Controllers []string

	LeaderElect         bool
	LeaseDuration       time.Duration
	RenewDeadline       time.Duration
	RetryPeriod         time.Duration
	LeaderElectNS       string
	LeaderElectName     string
	ConcurrentRSSyncs   int
	ConcurrentDSyncs    int
	ConcurrentJobSyncs  int
	ConcurrentCronSyncs int
	ConcurrentGCSyncs   int
	ConcurrentNSSyncs   int
	ConcurrentEPSyncs   int

	NodeMonitorPeriod      time.Duration
	NodeMonitorGracePeriod time.Duration
	NodeEvictionRate       float64

	// JobBackoffBase is the first back-off before a failed job pod is
	// replaced (Kubernetes: 10s, doubling up to JobBackoffMax).
	JobBackoffBase time.Duration
	JobBackoffMax  time.Duration
	// CronJobResyncPeriod is how often every cron job is looked at again
	// besides its own next schedule.
	CronJobResyncPeriod time.Duration
	// NamespaceSyncPeriod is how long the namespace controller waits
	// before looking again at a namespace whose content is still going.
	NamespaceSyncPeriod time.Duration

	LogLevel string
}

// NewOptions returns the defaults (Kubernetes' where it has them).
func NewOptions() *Options {
	return &Options{
		BindAddress:            "0.0.0.0",
		Port:                   10257,
		Controllers:            []string{"*"},
		LeaderElect:            true,
		LeaseDuration:          15 * time.Second,
		RenewDeadline:          10 * time.Second,
		RetryPeriod:            2 * time.Second,
		LeaderElectNS:          "kube-system",
		LeaderElectName:        "controller-manager",
		ConcurrentRSSyncs:      5,
		ConcurrentDSyncs:       5,
		ConcurrentJobSyncs:     5,
		ConcurrentCronSyncs:    5,
		ConcurrentGCSyncs:      20,
		ConcurrentNSSyncs:      10,
		ConcurrentEPSyncs:      5,
		NodeMonitorPeriod:      5 * time.Second,
		NodeMonitorGracePeriod: 40 * time.Second,
		NodeEvictionRate:       0.1,
		JobBackoffBase:         10 * time.Second,
		JobBackoffMax:          6 * time.Minute,
		CronJobResyncPeriod:    10 * time.Second,
		NamespaceSyncPeriod:    2 * time.Second,
		LogLevel:               "info",
	}
}

// AddFlags registers the options on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Client config file (default: $GANTRY_CONFIG or ~/.gantry/config).")
	fs.StringVar(&o.Context, "context", o.Context, "Context of the client config to use (default: its current context).")
	fs.StringVar(&o.BindAddress, "bind-address", o.BindAddress, "IP address to serve health and metrics on.")
	fs.IntVar(&o.Port, "port", o.Port, "Port of /livez, /readyz, /metrics and /debug/pprof (plain HTTP); 0 disables it.")
	fs.IntVar(&o.Port, "secure-port", o.Port, "Alias of --port, as the scheduler and Kubernetes name it.")
	fs.StringSliceVar(&o.Controllers, "controllers", o.Controllers, fmt.Sprintf(
		"Controllers to run: '*' for all, 'name' to add one, '-name' to leave one out. All: %s.", strings.Join(AllControllers(), ", ")))
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Campaign for leadership before running controllers (for running several replicas).")
	fs.DurationVar(&o.LeaseDuration, "leader-elect-lease-duration", o.LeaseDuration, "How long candidates wait after the leader's last renewal before taking over.")
	fs.DurationVar(&o.RenewDeadline, "leader-elect-renew-deadline", o.RenewDeadline, "How long the leader tries to renew before giving up.")
	fs.DurationVar(&o.RetryPeriod, "leader-elect-retry-period", o.RetryPeriod, "Wait between tries to acquire or renew.")
	fs.StringVar(&o.LeaderElectNS, "leader-elect-resource-namespace", o.LeaderElectNS, "Namespace of the leader election Lease.")
	fs.StringVar(&o.LeaderElectName, "leader-elect-resource-name", o.LeaderElectName, "Name of the leader election Lease.")
	fs.IntVar(&o.ConcurrentRSSyncs, "concurrent-replicaset-syncs", o.ConcurrentRSSyncs, "ReplicaSets synced at once.")
	fs.IntVar(&o.ConcurrentDSyncs, "concurrent-deployment-syncs", o.ConcurrentDSyncs, "Deployments synced at once.")
	fs.IntVar(&o.ConcurrentJobSyncs, "concurrent-job-syncs", o.ConcurrentJobSyncs, "Jobs synced at once.")
	fs.IntVar(&o.ConcurrentCronSyncs, "concurrent-cron-job-syncs", o.ConcurrentCronSyncs, "CronJobs synced at once.")
	fs.IntVar(&o.ConcurrentGCSyncs, "concurrent-gc-syncs", o.ConcurrentGCSyncs, "Garbage collector workers.")
	fs.IntVar(&o.ConcurrentNSSyncs, "concurrent-namespace-syncs", o.ConcurrentNSSyncs, "Namespaces synced at once.")
	fs.IntVar(&o.ConcurrentEPSyncs, "concurrent-endpoint-syncs", o.ConcurrentEPSyncs, "Services' endpoints synced at once.")
	fs.DurationVar(&o.NodeMonitorPeriod, "node-monitor-period", o.NodeMonitorPeriod, "How often node health is checked.")
	fs.DurationVar(&o.NodeMonitorGracePeriod, "node-monitor-grace-period", o.NodeMonitorGracePeriod, "How long a node's Lease may go unrenewed before the node is marked unreachable.")
	fs.Float64Var(&o.NodeEvictionRate, "node-eviction-rate", o.NodeEvictionRate, "Nodes per second tainted NoExecute (and so evicted from) when nodes fail.")
	fs.DurationVar(&o.JobBackoffBase, "job-backoff-base", o.JobBackoffBase, "Back-off before the first failed job pod is replaced; it doubles per failure.")
	fs.DurationVar(&o.JobBackoffMax, "job-backoff-max", o.JobBackoffMax, "Longest back-off before a failed job pod is replaced.")
	fs.DurationVar(&o.CronJobResyncPeriod, "cronjob-resync-period", o.CronJobResyncPeriod, "How often every cron job is checked besides its next schedule.")
	fs.DurationVar(&o.NamespaceSyncPeriod, "namespace-sync-period", o.NamespaceSyncPeriod, "Wait before checking again a terminating namespace whose content is still going.")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "debug, info, warn or error.")
}

// Validate reports every problem with the options.
func (o *Options) Validate() []error {
	var errs []error
	if net.ParseIP(o.BindAddress) == nil {
		errs = append(errs, fmt.Errorf("--bind-address %q is not an IP address", o.BindAddress))
	}
	if o.Port < -1 || o.Port > 65535 {
		errs = append(errs, fmt.Errorf("--port %d is out of range", o.Port))
	}
	if _, err := EnabledControllers(o.Controllers); err != nil {
		errs = append(errs, err)
	}
	if o.LeaderElect {
		if o.LeaseDuration <= o.RenewDeadline {
			errs = append(errs, fmt.Errorf("--leader-elect-lease-duration (%v) must be greater than --leader-elect-renew-deadline (%v)", o.LeaseDuration, o.RenewDeadline))
		}
		if float64(o.RenewDeadline) <= 1.2*float64(o.RetryPeriod) {
			errs = append(errs, fmt.Errorf("--leader-elect-renew-deadline (%v) must be greater than 1.2 × --leader-elect-retry-period (%v)", o.RenewDeadline, o.RetryPeriod))
		}
	}
	for name, d := range map[string]time.Duration{"--node-monitor-period": o.NodeMonitorPeriod, "--node-monitor-grace-period": o.NodeMonitorGracePeriod,
		"--job-backoff-base": o.JobBackoffBase, "--job-backoff-max": o.JobBackoffMax, "--cronjob-resync-period": o.CronJobResyncPeriod,
		"--namespace-sync-period": o.NamespaceSyncPeriod} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive", name))
		}
	}
	if o.NodeEvictionRate <= 0 {
		errs = append(errs, fmt.Errorf("--node-eviction-rate must be positive"))
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, o.LogLevel) {
		errs = append(errs, fmt.Errorf("--log-level %q: want debug, info, warn or error", o.LogLevel))
	}
	return errs
}

// EnabledControllers resolves --controllers to the names to run: '*'
// adds every controller, 'name' adds one, '-name' removes one (wherever it
// stands).
func EnabledControllers(spec []string) ([]string, error) {
	all := AllControllers()
	on := map[string]bool{}
	off := map[string]bool{}
	for _, s := range spec {
		s = strings.TrimSpace(s)
		switch {
		case s == "*":
			for _, n := range all {
				on[n] = true
			}
		case strings.HasPrefix(s, "-"):
			n := s[1:]
			if !slices.Contains(all, n) {
				return nil, fmt.Errorf("--controllers: unknown controller %q (known: %s)", n, strings.Join(all, ", "))
			}
			off[n] = true
		default:
			if !slices.Contains(all, s) {
				return nil, fmt.Errorf("--controllers: unknown controller %q (known: %s)", s, strings.Join(all, ", "))
			}
			on[s] = true
		}
	}
	var out []string
	for _, n := range all {
		if on[n] && !off[n] {
			out = append(out, n)
		}
	}
	return out, nil
}
