package config

// Names of the built-in plugins.
const (
	PrioritySort                    = "PrioritySort"
	NodeUnschedulable               = "NodeUnschedulable"
	NodeName                        = "NodeName"
	TaintToleration                 = "TaintToleration"
	NodeAffinity                    = "NodeAffinity"
	NodeResourcesFit                = "NodeResourcesFit"
	NodeResourcesBalancedAllocation = "NodeResourcesBalancedAllocation"
	SelectorSpread                  = "SelectorSpread"
	DefaultPreemption               = "DefaultPreemption"
	DefaultBinder                   = "DefaultBinder"
)

// DefaultPlugins are every profile's plugins before its own changes, with
// kube-scheduler's score weights.
func DefaultPlugins() []Plugin {
	return []Plugin{
		{Name: PrioritySort},
		{Name: NodeUnschedulable},
		{Name: NodeName},
		{Name: TaintToleration, Weight: 3},
		{Name: NodeAffinity, Weight: 2},
		{Name: NodeResourcesFit, Weight: 1},
		{Name: NodeResourcesBalancedAllocation, Weight: 1},
		{Name: SelectorSpread, Weight: 2},
		{Name: DefaultPreemption},
		{Name: DefaultBinder},
	}
}
