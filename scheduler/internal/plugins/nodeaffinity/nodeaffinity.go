package nodeaffinity

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/plugins/helper"
)

// Name of the plugin.
const Name = "NodeAffinity"

// ErrReason is the rejection's reason.
const ErrReason = "node(s) didn't match Pod's node affinity/selector"

const stateKey framework.StateKey = Name

// NodeAffinity filters and scores on node labels.
type NodeAffinity struct{}

var (
	_ framework.PreFilterPlugin = NodeAffinity{}
	_ framework.FilterPlugin    = NodeAffinity{}
	_ framework.PreScorePlugin  = NodeAffinity{}
	_ framework.ScorePlugin     = NodeAffinity{}
)

// New makes the plugin.
func New(context.Context, json.RawMessage, framework.Handle) (framework.Plugin, error) {
	return NodeAffinity{}, nil
}

// Name implements framework.Plugin.
func (NodeAffinity) Name() string { return Name }

type preFilterState struct {
	selector map[string]string
	required []*corev1.NodeSelectorTerm
}

func (s *preFilterState) Clone() framework.StateData { return s }

// PreFilter implements framework.PreFilterPlugin. It skips pods without a
// node selector or required affinity, and narrows the nodes to those named
// by a required metadata.name matchFields term.
func (NodeAffinity) PreFilter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, _ []*framework.NodeInfo) (*framework.PreFilterResult, *framework.Status) {
	spec := pod.Pod.GetSpec()
	required := spec.GetAffinity().GetNodeAffinity().GetRequiredDuringSchedulingIgnoredDuringExecution()
	if len(spec.GetNodeSelector()) == 0 && required == nil {
		return nil, framework.NewStatus(framework.Skip)
	}
	terms := required.GetNodeSelectorTerms()
	if required != nil && len(terms) == 0 {
		return nil, framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReason)
	}
	state.Write(stateKey, &preFilterState{selector: spec.GetNodeSelector(), required: terms})
	// Nodes named by metadata.name In terms: only they can match.
	var names map[string]struct{}
	for _, t := range terms {
		var termNames []string
		for _, f := range t.GetMatchFields() {
			if f.GetKey() == "metadata.name" && f.GetOperator() == "In" {
				termNames = f.GetValues()
			}
		}
		if termNames == nil {
			return nil, nil // some term may match any node
		}
		if names == nil {
			names = map[string]struct{}{}
		}
		for _, n := range termNames {
			names[n] = struct{}{}
		}
	}
	if names != nil {
		return &framework.PreFilterResult{NodeNames: names}, nil
	}
	return nil, nil
}

// Filter implements framework.FilterPlugin.
func (NodeAffinity) Filter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	d, err := state.Read(stateKey)
	if err != nil {
		return framework.AsStatus(fmt.Errorf("reading %q from cycle state: %w", stateKey, err))
	}
	s := d.(*preFilterState)
	n := node.Node()
	labels := n.GetMetadata().GetLabels()
	for k, v := range s.selector {
		if got, ok := labels[k]; !ok || got != v {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReason)
		}
	}
	if s.required != nil && !MatchesAnyTerm(s.required, n) {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReason)
	}
	return nil
}

// MatchesAnyTerm reports whether node matches one of terms (terms are ORed;
// a term's requirements are ANDed; an empty term matches nothing).
func MatchesAnyTerm(terms []*corev1.NodeSelectorTerm, node *corev1.Node) bool {
	for _, t := range terms {
		if MatchesTerm(t, node) {
			return true
		}
	}
	return false
}

// MatchesTerm reports whether node matches every requirement of t.
func MatchesTerm(t *corev1.NodeSelectorTerm, node *corev1.Node) bool {
	if len(t.GetMatchExpressions()) == 0 && len(t.GetMatchFields()) == 0 {
		return false
	}
	labels := node.GetMetadata().GetLabels()
	for _, r := range t.GetMatchExpressions() {
		v, ok := labels[r.GetKey()]
		if !matches(r, v, ok) {
			return false
		}
	}
	for _, r := range t.GetMatchFields() {
		if r.GetKey() != "metadata.name" || !matches(r, node.GetMetadata().GetName(), true) {
			return false
		}
	}
	return true
}

func matches(r *corev1.NodeSelectorRequirement, v string, has bool) bool {
	switch r.GetOperator() {
	case "In":
		return has && slices.Contains(r.GetValues(), v)
	case "NotIn":
		return !has || !slices.Contains(r.GetValues(), v)
	case "Exists":
		return has
	case "DoesNotExist":
		return !has
	case "Gt", "Lt":
		if !has || len(r.GetValues()) != 1 {
			return false
		}
		a, err1 := strconv.ParseInt(v, 10, 64)
		b, err2 := strconv.ParseInt(r.GetValues()[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if r.GetOperator() == "Gt" {
			return a > b
		}
		return a < b
	}
	return false
}

const scoreKey framework.StateKey = Name + "/score"

type preScoreState struct {
	preferred []*corev1.PreferredSchedulingTerm
}

func (s *preScoreState) Clone() framework.StateData { return s }

// PreScore implements framework.PreScorePlugin; it skips pods without
// preferred terms.
func (NodeAffinity) PreScore(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, _ []*framework.NodeInfo) *framework.Status {
	pref := pod.Pod.GetSpec().GetAffinity().GetNodeAffinity().GetPreferredDuringSchedulingIgnoredDuringExecution()
	if len(pref) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(scoreKey, &preScoreState{preferred: pref})
	return nil
}

// Score implements framework.ScorePlugin: the sum of the weights of the
// preferred terms node matches.
func (NodeAffinity) Score(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	d, err := state.Read(scoreKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	var sum int64
	for _, t := range d.(*preScoreState).preferred {
		if t.GetWeight() != 0 && t.GetPreference() != nil && MatchesTerm(t.GetPreference(), node.Node()) {
			sum += int64(t.GetWeight())
		}
	}
	return sum, nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (p NodeAffinity) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore implements framework.ScoreExtensions.
func (NodeAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores framework.NodeScoreList) *framework.Status {
	helper.DefaultNormalizeScore(false, scores)
	return nil
}
