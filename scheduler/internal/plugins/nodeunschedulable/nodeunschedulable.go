package nodeunschedulable

import (
	"context"
	"encoding/json"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/plugins/helper"
)

// Name of the plugin.
const Name = "NodeUnschedulable"

// ErrReason is the rejection's reason.
const ErrReason = "node(s) were unschedulable"

// TaintKey is the taint a cordoned node is treated as having.
const TaintKey = "node.kubernetes.io/unschedulable"

var unschedulableTaint = &corev1.Taint{Key: TaintKey, Effect: "NoSchedule"}

// NodeUnschedulable filters out cordoned nodes.
type NodeUnschedulable struct{}

var _ framework.FilterPlugin = NodeUnschedulable{}

// New makes the plugin.
func New(context.Context, json.RawMessage, framework.Handle) (framework.Plugin, error) {
	return NodeUnschedulable{}, nil
}

// Name implements framework.Plugin.
func (NodeUnschedulable) Name() string { return Name }

// Filter implements framework.FilterPlugin.
func (NodeUnschedulable) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	if !node.Node().GetSpec().GetUnschedulable() {
		return nil
	}
	if helper.TolerationsTolerate(pod.Pod.GetSpec().GetTolerations(), unschedulableTaint) {
		return nil
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReason)
}
