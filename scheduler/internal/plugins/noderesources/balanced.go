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
	cpuMem    bool
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
	cpuMem := len(args.Resources) == 2 && args.Resources[0].Name == framework.ResourceCPU && args.Resources[1].Name == framework.ResourceMemory
	return &BalancedAllocation{resources: args.Resources, cpuMem: cpuMem}, nil
}

// share is requested/allocatable capped at 1, or -1 without allocatable.
func share(requested, allocatable int64) float64 {
	if allocatable == 0 {
		return -1
	}
	return min(float64(requested)/float64(allocatable), 1)
}

// Name implements framework.Plugin.
func (*BalancedAllocation) Name() string { return BalancedAllocationName }

// Score implements framework.ScorePlugin.
func (b *BalancedAllocation) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	if b.cpuMem {
		// The default: CPU and memory, where the standard deviation of two
		// shares is half their difference.
		c, m := share(node.NonZeroRequested.MilliCPU+pod.NonZeroCPU, node.Allocatable.MilliCPU),
			share(node.NonZeroRequested.Memory+pod.NonZeroMemory, node.Allocatable.Memory)
		if c < 0 || m < 0 {
			if c < 0 && m < 0 {
				return 0, nil
			}
			return framework.MaxNodeScore, nil // one resource: nothing to balance
		}
		return int64((1 - math.Abs(c-m)/2) * float64(framework.MaxNodeScore)), nil
	}
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
