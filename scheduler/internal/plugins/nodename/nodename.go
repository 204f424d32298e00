package nodename

import (
	"context"
	"encoding/json"

	"github.com/gantryhq/gantry/scheduler/framework"
)

// Name of the plugin.
const Name = "NodeName"

// ErrReason is the rejection's reason.
const ErrReason = "node(s) didn't match the requested node name"

// NodeName filters on spec.nodeName.
type NodeName struct{}

var _ framework.FilterPlugin = NodeName{}

// New makes the plugin.
func New(context.Context, json.RawMessage, framework.Handle) (framework.Plugin, error) {
	return NodeName{}, nil
}

// Name implements framework.Plugin.
func (NodeName) Name() string { return Name }

// Filter implements framework.FilterPlugin.
func (NodeName) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	if want := pod.Pod.GetSpec().GetNodeName(); want != "" && want != node.Name() {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReason)
	}
	return nil
}
