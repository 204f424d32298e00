package app

import (
	"github.com/gantryhq/gantry/controller-manager/internal/controller"
	"github.com/gantryhq/gantry/controller-manager/internal/cronjob"
	"github.com/gantryhq/gantry/controller-manager/internal/deployment"
	"github.com/gantryhq/gantry/controller-manager/internal/endpoints"
	"github.com/gantryhq/gantry/controller-manager/internal/garbagecollector"
	"github.com/gantryhq/gantry/controller-manager/internal/job"
	"github.com/gantryhq/gantry/controller-manager/internal/namespace"
	"github.com/gantryhq/gantry/controller-manager/internal/nodelifecycle"
	"github.com/gantryhq/gantry/controller-manager/internal/replicaset"
)

// initFunc builds a controller (registering its informers) and says how
// many workers it runs.
type initFunc func(cc *controller.Context, cfg *Config) (controller.Controller, int)

// initializers are the controllers by name, in start order.
var initializers = []struct {
	name string
	init initFunc
}{
	{replicaset.Name, func(cc *controller.Context, cfg *Config) (controller.Controller, int) {
		return replicaset.New(cc), cfg.Options.ConcurrentRSSyncs
	}},
	{deployment.Name, func(cc *controller.Context, cfg *Config) (controller.Controller, int) {
		return deployment.New(cc), cfg.Options.ConcurrentDSyncs
	}},
	{job.Name, func(cc *controller.Context, cfg *Config) (controller.Controller, int) {
		return job.New(cc, job.Options{BackoffBase: cfg.Options.JobBackoffBase, BackoffMax: cfg.Options.JobBackoffMax}), cfg.Options.ConcurrentJobSyncs
	}},
	{cronjob.Name, func(cc *controller.Context, cfg *Config) (controller.Controller, int) {
		return cronjob.New(cc, cfg.Options.CronJobResyncPeriod), cfg.Options.ConcurrentCronSyncs
	}},
	{garbagecollector.Name, func(cc *controller.Context, cfg *Config) (controller.Controller, int) {
		return garbagecollector.New(cc), cfg.Options.ConcurrentGCSyncs
	}},
	{namespace.Name, func(cc *controller.Context, cfg *Config) (controller.Controller, int) {
		return namespace.New(cc, cfg.Options.NamespaceSyncPeriod), cfg.Options.ConcurrentNSSyncs
	}},
	{nodelifecycle.Name, func(cc *controller.Context, cfg *Config) (controller.Controller, int) {
		o := cfg.Options
		return nodelifecycle.New(cc, nodelifecycle.Options{MonitorPeriod: o.NodeMonitorPeriod, GracePeriod: o.NodeMonitorGracePeriod, EvictionRate: o.NodeEvictionRate}), 1
	}},
	{endpoints.Name, func(cc *controller.Context, cfg *Config) (controller.Controller, int) {
		return endpoints.New(cc), cfg.Options.ConcurrentEPSyncs
	}},
}

// AllControllers names every controller.
func AllControllers() []string {
	out := make([]string, len(initializers))
	for i, x := range initializers {
		out[i] = x.name
	}
	return out
}
