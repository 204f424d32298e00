package plugins

import (
	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/config"
	"github.com/gantryhq/gantry/scheduler/internal/plugins/defaultbinder"
	"github.com/gantryhq/gantry/scheduler/internal/plugins/defaultpreemption"
	"github.com/gantryhq/gantry/scheduler/internal/plugins/nodeaffinity"
	"github.com/gantryhq/gantry/scheduler/internal/plugins/nodename"
	"github.com/gantryhq/gantry/scheduler/internal/plugins/noderesources"
	"github.com/gantryhq/gantry/scheduler/internal/plugins/nodeunschedulable"
	"github.com/gantryhq/gantry/scheduler/internal/plugins/queuesort"
	"github.com/gantryhq/gantry/scheduler/internal/plugins/selectorspread"
	"github.com/gantryhq/gantry/scheduler/internal/plugins/tainttoleration"
)

// NewInTreeRegistry returns the built-in plugins' factories.
func NewInTreeRegistry() framework.Registry {
	return framework.Registry{
		config.PrioritySort:                    queuesort.New,
		config.NodeUnschedulable:               nodeunschedulable.New,
		config.NodeName:                        nodename.New,
		config.TaintToleration:                 tainttoleration.New,
		config.NodeAffinity:                    nodeaffinity.New,
		config.NodeResourcesFit:                noderesources.NewFit,
		config.NodeResourcesBalancedAllocation: noderesources.NewBalancedAllocation,
		config.SelectorSpread:                  selectorspread.New,
		config.DefaultPreemption:               defaultpreemption.New,
		config.DefaultBinder:                   defaultbinder.New,
	}
}
