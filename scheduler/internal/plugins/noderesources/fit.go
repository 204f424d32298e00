package noderesources

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gantryhq/gantry/scheduler/framework"
)

// Names of the plugins.
const (
	FitName                = "NodeResourcesFit"
	BalancedAllocationName = "NodeResourcesBalancedAllocation"
)

// Scoring strategies of NodeResourcesFit.
const (
	LeastAllocated = "LeastAllocated"
	MostAllocated  = "MostAllocated"
)

// ResourceSpec weighs one resource in scoring.
type ResourceSpec struct {
	Name   string `json:"name"`
	Weight int64  `json:"weight"`
}

// ScoringStrategy picks how NodeResourcesFit scores.
type ScoringStrategy struct {
	Type      string         `json:"type"`
	Resources []ResourceSpec `json:"resources,omitempty"`
}

// FitArgs are NodeResourcesFit's args.
type FitArgs struct {
	// IgnoredResources are not checked at Filter.
	IgnoredResources []string        `json:"ignoredResources,omitempty"`
	ScoringStrategy  ScoringStrategy `json:"scoringStrategy"`
}

func defaultResources() []ResourceSpec {
	return []ResourceSpec{{Name: framework.ResourceCPU, Weight: 1}, {Name: framework.ResourceMemory, Weight: 1}}
}

// Fit is the NodeResourcesFit plugin.
type Fit struct {
	ignored  map[string]bool
	most     bool
	resource []ResourceSpec
}

var (
	_ framework.FilterPlugin = (*Fit)(nil)
	_ framework.ScorePlugin  = (*Fit)(nil)
)

// NewFit makes the plugin.
func NewFit(_ context.Context, raw json.RawMessage, _ framework.Handle) (framework.Plugin, error) {
	args := FitArgs{ScoringStrategy: ScoringStrategy{Type: LeastAllocated}}
	if err := framework.DecodeArgs(raw, &args); err != nil {
		return nil, err
	}
	f := &Fit{ignored: map[string]bool{}, resource: args.ScoringStrategy.Resources}
	switch args.ScoringStrategy.Type {
	case LeastAllocated, "":
	case MostAllocated:
		f.most = true
	default:
		return nil, fmt.Errorf("scoringStrategy.type: %q is not LeastAllocated or MostAllocated", args.ScoringStrategy.Type)
	}
	if len(f.resource) == 0 {
		f.resource = defaultResources()
	}
	for _, r := range f.resource {
		if r.Weight < 1 || r.Weight > 100 {
			return nil, fmt.Errorf("scoringStrategy.resources: weight of %s must be in [1, 100]", r.Name)
		}
	}
	for _, r := range args.IgnoredResources {
		f.ignored[r] = true
	}
	return f, nil
}

// Name implements framework.Plugin.
func (*Fit) Name() string { return FitName }

// Insufficient is one resource a node lacks.
type Insufficient struct {
	Name            string
	Requested, Used int64
	Capacity        int64
}

// Filter implements framework.FilterPlugin.
func (f *Fit) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	if reasons := f.insufficient(pod, node); len(reasons) > 0 {
		return framework.NewStatus(framework.Unschedulable, reasons...)
	}
	return nil
}

func (f *Fit) insufficient(pod *framework.PodInfo, node *framework.NodeInfo) []string {
	var reasons []string
	alloc, used, req := &node.Allocatable, &node.Requested, &pod.Requests
	if used.AllowedPodNumber+1 > alloc.AllowedPodNumber {
		reasons = append(reasons, "Too many pods")
	}
	if req.MilliCPU > 0 && used.MilliCPU+req.MilliCPU > alloc.MilliCPU && !f.ignored[framework.ResourceCPU] {
		reasons = append(reasons, "Insufficient cpu")
	}
	if req.Memory > 0 && used.Memory+req.Memory > alloc.Memory && !f.ignored[framework.ResourceMemory] {
		reasons = append(reasons, "Insufficient memory")
	}
	if req.EphemeralStorage > 0 && used.EphemeralStorage+req.EphemeralStorage > alloc.EphemeralStorage && !f.ignored[framework.ResourceEphemeralStorage] {
		reasons = append(reasons, "Insufficient ephemeral-storage")
	}
	for name, v := range req.Scalar {
		if v > 0 && used.Scalar[name]+v > alloc.Scalar[name] && !f.ignored[name] {
			reasons = append(reasons, "Insufficient "+name)
		}
	}
	return reasons
}

// requestedWith returns what node would have requested of resource name
// with pod on it (non-zero requests for CPU and memory), and its
// allocatable.
func requestedWith(pod *framework.PodInfo, node *framework.NodeInfo, name string) (requested, allocatable int64) {
	switch name {
	case framework.ResourceCPU:
		return node.NonZeroRequested.MilliCPU + pod.NonZeroCPU, node.Allocatable.MilliCPU
	case framework.ResourceMemory:
		return node.NonZeroRequested.Memory + pod.NonZeroMemory, node.Allocatable.Memory
	}
	return node.Requested.Get(name) + pod.Requests.Get(name), node.Allocatable.Get(name)
}

// Score implements framework.ScorePlugin: the weighted share of each
// resource left free (LeastAllocated) or used (MostAllocated), 0..100.
func (f *Fit) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	var sum, weights int64
	for _, r := range f.resource {
		requested, alloc := requestedWith(pod, node, r.Name)
		if alloc == 0 {
			continue
		}
		var s int64
		switch {
		case requested > alloc:
			s = 0
			if f.most {
				s = framework.MaxNodeScore
			}
		case f.most:
			s = requested * framework.MaxNodeScore / alloc
		default:
			s = (alloc - requested) * framework.MaxNodeScore / alloc
		}
		sum += s * r.Weight
		weights += r.Weight
	}
	if weights == 0 {
		return 0, nil
	}
	return sum / weights, nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (*Fit) ScoreExtensions() framework.ScoreExtensions { return nil }
