package strategy

import (
	"github.com/gantryhq/gantry/apiserver/internal/registry"
)

// All returns a strategy for every kind, keyed by resource plural name
// ("pods").
func All() map[string]registry.Strategy {
	return map[string]registry.Strategy{
		"namespaces":  Namespace{},
		"pods":        Pod{},
		"nodes":       Node{},
		"services":    Service{},
		"endpoints":   Endpoints{},
		"events":      Event{},
		"replicasets": ReplicaSet{},
		"deployments": Deployment{},
		"jobs":        Job{},
		"cronjobs":    CronJob{},
		"leases":      Lease{},
	}
}

var (
	_ registry.Strategy        = Namespace{}
	_ registry.DeletionHolder  = Namespace{}
	_ registry.Strategy        = Pod{}
	_ registry.GracefulDeleter = Pod{}
	_ registry.Strategy        = Node{}
	_ registry.Strategy        = Service{}
	_ registry.Strategy        = Endpoints{}
	_ registry.Strategy        = Event{}
	_ registry.Strategy        = ReplicaSet{}
	_ registry.Strategy        = Deployment{}
	_ registry.Strategy        = Job{}
	_ registry.Strategy        = CronJob{}
	_ registry.Strategy        = Lease{}
)
