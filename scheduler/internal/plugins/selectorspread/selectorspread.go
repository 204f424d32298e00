package selectorspread

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/labels"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/plugins/helper"
)

// Name of the plugin.
const Name = "SelectorSpread"

// HostnameKey is the only topology key the spread constraints support.
const HostnameKey = "kubernetes.io/hostname"

// ErrReasonConstraints is the Filter's rejection.
const ErrReasonConstraints = "node(s) didn't match pod topology spread constraints"

const (
	scoreKey  framework.StateKey = Name + "/score"
	filterKey framework.StateKey = Name + "/filter"
)

// SelectorSpread spreads pods of one controller.
type SelectorSpread struct {
	h framework.Handle
}

var (
	_ framework.PreFilterPlugin = (*SelectorSpread)(nil)
	_ framework.FilterPlugin    = (*SelectorSpread)(nil)
	_ framework.PreScorePlugin  = (*SelectorSpread)(nil)
	_ framework.ScorePlugin     = (*SelectorSpread)(nil)
)

// New makes the plugin.
func New(_ context.Context, _ json.RawMessage, h framework.Handle) (framework.Plugin, error) {
	return &SelectorSpread{h: h}, nil
}

// Name implements framework.Plugin.
func (*SelectorSpread) Name() string { return Name }

// ControllerUID is the uid of pod's controller owner, "" if none.
func ControllerUID(pod *corev1.Pod) string {
	for _, o := range pod.GetMetadata().GetOwnerReferences() {
		if o.GetController() {
			return o.GetUid()
		}
	}
	return ""
}

type constraint struct {
	maxSkew  int32
	selector labels.Selector
}

type filterState struct {
	constraints []constraint
	// minMatching is, per constraint, the fewest matching pods on any node
	// (counted over every node at PreFilter).
	minMatching []int
}

func (s *filterState) Clone() framework.StateData { return s }

func selectorFor(ls *metav1.LabelSelector) (labels.Selector, error) {
	if ls == nil {
		return labels.Nothing(), nil
	}
	sel := labels.NewSelector()
	for k, v := range ls.GetMatchLabels() {
		r, err := labels.NewRequirement(k, "=", []string{v})
		if err != nil {
			return nil, err
		}
		sel = sel.Add(*r)
	}
	for _, e := range ls.GetMatchExpressions() {
		var op string
		switch e.GetOperator() {
		case "In":
			op = "in"
		case "NotIn":
			op = "notin"
		case "Exists":
			op = "exists"
		case "DoesNotExist":
			op = "!"
		default:
			return nil, fmt.Errorf("unknown operator %q", e.GetOperator())
		}
		r, err := labels.NewRequirement(e.GetKey(), selectionOp(op), e.GetValues())
		if err != nil {
			return nil, err
		}
		sel = sel.Add(*r)
	}
	return sel, nil
}

func countMatching(node *framework.NodeInfo, ns string, sel labels.Selector) int {
	n := 0
	for _, p := range node.Pods {
		m := p.Pod.GetMetadata()
		if m.GetNamespace() == ns && m.GetDeletionTimestamp() == nil && sel.Matches(labels.Set(m.GetLabels())) {
			n++
		}
	}
	return n
}

// PreFilter implements framework.PreFilterPlugin: it skips pods without
// hard hostname spread constraints.
func (s *SelectorSpread) PreFilter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, nodes []*framework.NodeInfo) (*framework.PreFilterResult, *framework.Status) {
	var fs filterState
	for _, c := range pod.Pod.GetSpec().GetTopologySpreadConstraints() {
		if c.GetWhenUnsatisfiable() != "DoNotSchedule" || c.GetTopologyKey() != HostnameKey {
			continue
		}
		sel, err := selectorFor(c.GetLabelSelector())
		if err != nil {
			return nil, framework.NewStatus(framework.UnschedulableAndUnresolvable, fmt.Sprintf("invalid labelSelector: %v", err))
		}
		fs.constraints = append(fs.constraints, constraint{maxSkew: max(c.GetMaxSkew(), 1), selector: sel})
	}
	if len(fs.constraints) == 0 {
		return nil, framework.NewStatus(framework.Skip)
	}
	ns := pod.Pod.GetMetadata().GetNamespace()
	for _, c := range fs.constraints {
		least := -1
		for _, n := range nodes {
			if n.Node() == nil {
				continue
			}
			if k := countMatching(n, ns, c.selector); least < 0 || k < least {
				least = k
			}
		}
		fs.minMatching = append(fs.minMatching, max(least, 0))
	}
	state.Write(filterKey, &fs)
	return nil, nil
}

// Filter implements framework.FilterPlugin: placing the pod must keep each
// node's count of matching pods within maxSkew of the least loaded node.
func (s *SelectorSpread) Filter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	d, err := state.Read(filterKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	fs := d.(*filterState)
	ns := pod.Pod.GetMetadata().GetNamespace()
	self := labels.Set(pod.Pod.GetMetadata().GetLabels())
	for i, c := range fs.constraints {
		k := countMatching(node, ns, c.selector)
		if c.selector.Matches(self) {
			k++
		}
		if k-fs.minMatching[i] > int(c.maxSkew) {
			return framework.NewStatus(framework.Unschedulable, ErrReasonConstraints)
		}
	}
	return nil
}

type scoreState struct{ owner string }

func (s *scoreState) Clone() framework.StateData { return s }

// PreScore implements framework.PreScorePlugin; pods without a controller
// skip scoring.
func (s *SelectorSpread) PreScore(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, _ []*framework.NodeInfo) *framework.Status {
	owner := ControllerUID(pod.Pod)
	if owner == "" {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(scoreKey, &scoreState{owner: owner})
	return nil
}

// Score implements framework.ScorePlugin: the number of the workload's pods
// already on node (normalized in reverse: fewer is better).
func (s *SelectorSpread) Score(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	d, err := state.Read(scoreKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	owner := d.(*scoreState).owner
	ns := pod.Pod.GetMetadata().GetNamespace()
	var n int64
	for _, p := range node.Pods {
		if p.Pod.GetMetadata().GetNamespace() == ns && ControllerUID(p.Pod) == owner {
			n++
		}
	}
	return n, nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (s *SelectorSpread) ScoreExtensions() framework.ScoreExtensions { return s }

// NormalizeScore implements framework.ScoreExtensions.
func (s *SelectorSpread) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores framework.NodeScoreList) *framework.Status {
	helper.DefaultNormalizeScore(true, scores)
	return nil
}
