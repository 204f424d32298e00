package config

import (
	"errors"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

// Load reads, defaults and validates a configuration file.
func Load(path string) (*SchedulerConfiguration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scheduler configuration: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("scheduler configuration %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes (strictly: unknown fields are errors), defaults and
// validates a configuration in YAML or JSON.
func Parse(data []byte) (*SchedulerConfiguration, error) {
	cfg := &SchedulerConfiguration{}
	if err := yaml.UnmarshalStrict(data, cfg); err != nil {
		return nil, err
	}
	if cfg.Kind != Kind {
		return nil, fmt.Errorf("kind is %q, want %q", cfg.Kind, Kind)
	}
	if cfg.APIVersion != APIVersion {
		return nil, fmt.Errorf("apiVersion is %q, want %q", cfg.APIVersion, APIVersion)
	}
	SetDefaults(cfg)
	if err := Validate(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Default returns the default configuration.
func Default() *SchedulerConfiguration {
	cfg := &SchedulerConfiguration{APIVersion: APIVersion, Kind: Kind}
	SetDefaults(cfg)
	return cfg
}

// SetDefaults fills what cfg leaves unset.
func SetDefaults(cfg *SchedulerConfiguration) {
	if cfg.Parallelism == 0 {
		cfg.Parallelism = 16
	}
	if cfg.PodInitialBackoffSeconds == 0 {
		cfg.PodInitialBackoffSeconds = 1
	}
	if cfg.PodMaxBackoffSeconds == 0 {
		cfg.PodMaxBackoffSeconds = 10
	}
	if cfg.MaxInFlightBindings == 0 {
		cfg.MaxInFlightBindings = 256
	}
	le := &cfg.LeaderElection
	if le.LeaderElect == nil {
		t := true
		le.LeaderElect = &t
	}
	if le.LeaseDuration.Duration == 0 {
		le.LeaseDuration.Duration = 15e9
	}
	if le.RenewDeadline.Duration == 0 {
		le.RenewDeadline.Duration = 10e9
	}
	if le.RetryPeriod.Duration == 0 {
		le.RetryPeriod.Duration = 2e9
	}
	if le.ResourceName == "" {
		le.ResourceName = "scheduler"
	}
	if le.ResourceNamespace == "" {
		le.ResourceNamespace = "kube-system"
	}
	if len(cfg.Profiles) == 0 {
		cfg.Profiles = []Profile{{SchedulerName: DefaultSchedulerName}}
	}
	for i := range cfg.Profiles {
		if cfg.Profiles[i].SchedulerName == "" {
			cfg.Profiles[i].SchedulerName = DefaultSchedulerName
		}
	}
}

// Validate checks a defaulted configuration.
func Validate(cfg *SchedulerConfiguration) error {
	var errs []error
	if cfg.Parallelism < 1 {
		errs = append(errs, fmt.Errorf("parallelism: must be at least 1, got %d", cfg.Parallelism))
	}
	if p := cfg.PercentageOfNodesToScore; p < 0 || p > 100 {
		errs = append(errs, fmt.Errorf("percentageOfNodesToScore: must be in [0, 100], got %d", p))
	}
	if cfg.PodInitialBackoffSeconds < 1 || cfg.PodMaxBackoffSeconds < cfg.PodInitialBackoffSeconds {
		errs = append(errs, fmt.Errorf("podInitialBackoffSeconds (%d) must be at least 1 and at most podMaxBackoffSeconds (%d)",
			cfg.PodInitialBackoffSeconds, cfg.PodMaxBackoffSeconds))
	}
	if cfg.MaxInFlightBindings < 1 {
		errs = append(errs, fmt.Errorf("maxInFlightBindings: must be at least 1"))
	}
	le := cfg.LeaderElection
	if le.LeaseDuration.Duration <= le.RenewDeadline.Duration {
		errs = append(errs, fmt.Errorf("leaderElection.leaseDuration must be greater than renewDeadline"))
	}
	seen := map[string]bool{}
	for i, p := range cfg.Profiles {
		if seen[p.SchedulerName] {
			errs = append(errs, fmt.Errorf("profiles[%d].schedulerName: duplicate %q", i, p.SchedulerName))
		}
		seen[p.SchedulerName] = true
		if v := p.PercentageOfNodesToScore; v != nil && (*v < 0 || *v > 100) {
			errs = append(errs, fmt.Errorf("profiles[%d].percentageOfNodesToScore: must be in [0, 100]", i))
		}
		names := map[string]bool{}
		for j, pc := range p.PluginConfig {
			if names[pc.Name] {
				errs = append(errs, fmt.Errorf("profiles[%d].pluginConfig[%d]: duplicate args for %q", i, j, pc.Name))
			}
			names[pc.Name] = true
		}
	}
	return errors.Join(errs...)
}
