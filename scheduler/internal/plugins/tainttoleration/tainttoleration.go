package tainttoleration

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/plugins/helper"
)

// Name of the plugin.
const Name = "TaintToleration"

// TaintToleration filters and scores on taints.
type TaintToleration struct{}

var (
	_ framework.FilterPlugin = TaintToleration{}
	_ framework.ScorePlugin  = TaintToleration{}
)

// New makes the plugin.
func New(context.Context, json.RawMessage, framework.Handle) (framework.Plugin, error) {
	return TaintToleration{}, nil
}

// Name implements framework.Plugin.
func (TaintToleration) Name() string { return Name }

// Filter implements framework.FilterPlugin.
func (TaintToleration) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	tols := pod.Pod.GetSpec().GetTolerations()
	for _, t := range node.Taints {
		if !helper.TolerationsTolerate(tols, t) {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable,
				fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.GetKey(), t.GetValue()))
		}
	}
	return nil
}

// Score implements framework.ScorePlugin: the count of PreferNoSchedule
// taints the pod does not tolerate (normalized in reverse).
func (TaintToleration) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	var n int64
	tols := pod.Pod.GetSpec().GetTolerations()
	for _, t := range node.Node().GetSpec().GetTaints() {
		if t.GetEffect() == "PreferNoSchedule" && !helper.TolerationsTolerate(tols, t) {
			n++
		}
	}
	return n, nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (p TaintToleration) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore implements framework.ScoreExtensions.
func (TaintToleration) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores framework.NodeScoreList) *framework.Status {
	helper.DefaultNormalizeScore(true, scores)
	return nil
}
