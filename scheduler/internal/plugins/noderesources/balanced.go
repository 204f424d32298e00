package noderesources

import (
	"context"
	"encoding/json"
	"math"

	"github.com/gantryhq/gantry/scheduler/framework"
)

// BalancedAllocationArgs are NodeResourcesBalancedAllocation's args.
type BalancedAllocationArgs struct {
	Resources []ResourceSpec `json:"resources,omitempty"`
}

// BalancedAllocation prefers nodes whose resources are used in equal
// shares: score = (1 - standard deviation of the shares) * 100.
type BalancedAllocation struct {
	resources []ResourceSpec
}

var _ framework.ScorePlugin = (*BalancedAllocation)(nil)

// NewBalancedAllocation makes the plugin.
func NewBalancedAllocation(_ context.Context, raw json.RawMessage, _ framework.Handle) (framework.Plugin, error) {
	var args BalancedAllocationArgs
	if err := framework.DecodeArgs(raw, &args); err != nil {
		return nil, err
	}
	if len(args.Resources) == 0 {
		args.Resources = defaultResources()
	}
	return &BalancedAllocation{resources: args.Resources}, nil
}

// Name implements framework.Plugin.
func (*BalancedAllocation) Name() string { return BalancedAllocationName }

// Score implements framework.ScorePlugin.
func (b *BalancedAllocation) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	var fractions [8]float64
	n := 0
	for _, r := range b.resources {
		requested, alloc := requestedWith(pod, node, r.Name)
		if alloc == 0 || n == len(fractions) {
			continue
		}
		f := float64(requested) / float64(alloc)
		if f > 1 {
			f = 1
		}
		fractions[n] = f
		n++
	}
	if n == 0 {
		return 0, nil
	}
	var mean float64
	for _, f := range fractions[:n] {
		mean += f
	}
	mean /= float64(n)
	var variance float64
	for _, f := range fractions[:n] {
		variance += (f - mean) * (f - mean)
	}
	std := math.Sqrt(variance / float64(n))
	return int64((1 - std) * float64(framework.MaxNodeScore)), nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (*BalancedAllocation) ScoreExtensions() framework.ScoreExtensions { return nil }
