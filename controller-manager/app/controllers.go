package app

import (
	"github.com/gantryhq/gantry/controller-manager/internal/controller"
	"github.com/gantryhq/gantry/controller-manager/internal/deployment"
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
}

// AllControllers names every controller.
func AllControllers() []string {
	out := make([]string, len(initializers))
	for i, x := range initializers {
		out[i] = x.name
	}
	return out
}
