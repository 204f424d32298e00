package config

import (
	"encoding/json"
	"fmt"
	"time"
)

// APIVersion and Kind of the configuration file.
const (
	APIVersion = "scheduler.gantry.io/v1"
	Kind       = "SchedulerConfiguration"
)

// DefaultSchedulerName is the profile pods get when they name none.
const DefaultSchedulerName = "default-scheduler"

// SchedulerConfiguration is the configuration file.
type SchedulerConfiguration struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Parallelism is how many goroutines Filter and Score use (default 16).
	Parallelism int32 `json:"parallelism,omitempty"`
	// PercentageOfNodesToScore is the share of nodes to find feasible
	// before scoring; 0 is adaptive (50% minus 1% per 125 nodes, at least
	// 5%), and at least 100 nodes are always looked for.
	PercentageOfNodesToScore int32 `json:"percentageOfNodesToScore,omitempty"`
	// PodInitialBackoffSeconds and PodMaxBackoffSeconds bound the retry
	// back-off of unschedulable pods (defaults 1 and 10).
	PodInitialBackoffSeconds int64 `json:"podInitialBackoffSeconds,omitempty"`
	PodMaxBackoffSeconds     int64 `json:"podMaxBackoffSeconds,omitempty"`
	// MaxInFlightBindings bounds the bindings running at once (default
	// 256).
	MaxInFlightBindings int32 `json:"maxInFlightBindings,omitempty"`
	// LeaderElection configures the election among replicas.
	LeaderElection LeaderElection `json:"leaderElection"`
	// Profiles, one per schedulerName (default: one "default-scheduler").
	Profiles []Profile `json:"profiles,omitempty"`
}

// LeaderElection configures leader election on a Lease.
type LeaderElection struct {
	LeaderElect       *bool    `json:"leaderElect,omitempty"`
	LeaseDuration     Duration `json:"leaseDuration,omitempty"`
	RenewDeadline     Duration `json:"renewDeadline,omitempty"`
	RetryPeriod       Duration `json:"retryPeriod,omitempty"`
	ResourceName      string   `json:"resourceName,omitempty"`
	ResourceNamespace string   `json:"resourceNamespace,omitempty"`
}

// Profile is a scheduler profile: the plugins that schedule pods naming
// SchedulerName.
type Profile struct {
	SchedulerName string `json:"schedulerName"`
	// PercentageOfNodesToScore overrides the global one for this profile.
	PercentageOfNodesToScore *int32 `json:"percentageOfNodesToScore,omitempty"`
	// Plugins are merged into the default plugins.
	Plugins *Plugins `json:"plugins,omitempty"`
	// PluginConfig holds plugins' args.
	PluginConfig []PluginConfig `json:"pluginConfig,omitempty"`
}

// Plugins lists plugins per extension point. MultiPoint enables a plugin at
// every extension point it implements.
type Plugins struct {
	MultiPoint PluginSet `json:"multiPoint,omitempty"`
	QueueSort  PluginSet `json:"queueSort,omitempty"`
	PreFilter  PluginSet `json:"preFilter,omitempty"`
	Filter     PluginSet `json:"filter,omitempty"`
	PostFilter PluginSet `json:"postFilter,omitempty"`
	PreScore   PluginSet `json:"preScore,omitempty"`
	Score      PluginSet `json:"score,omitempty"`
	Reserve    PluginSet `json:"reserve,omitempty"`
	Permit     PluginSet `json:"permit,omitempty"`
	PreBind    PluginSet `json:"preBind,omitempty"`
	Bind       PluginSet `json:"bind,omitempty"`
	PostBind   PluginSet `json:"postBind,omitempty"`
}

// PluginSet enables and disables plugins at one extension point. Disabling
// "*" disables every default plugin there.
type PluginSet struct {
	Enabled  []Plugin `json:"enabled,omitempty"`
	Disabled []Plugin `json:"disabled,omitempty"`
}

// Plugin names a plugin, with its weight at Score.
type Plugin struct {
	Name   string `json:"name"`
	Weight int32  `json:"weight,omitempty"`
}

// PluginConfig holds one plugin's args.
type PluginConfig struct {
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

// Duration is a time.Duration written as in Kubernetes ("15s").
type Duration struct{ time.Duration }

// UnmarshalJSON reads "15s" (or a number of nanoseconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("duration: %w", err)
		}
		d.Duration = time.Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes "15s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.Duration.String()) }
