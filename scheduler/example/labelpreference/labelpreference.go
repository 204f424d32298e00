package labelpreference

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gantryhq/gantry/scheduler/framework"
)

// Name of the plugin, as it is registered and enabled in the configuration.
const Name = "LabelPreference"

// Args are the plugin's args (pluginConfig in the configuration file).
type Args struct {
	// Prefer is "key=value": nodes with that label score 100, others 0.
	Prefer string `json:"prefer"`
	// Avoid is a label key: nodes that have it are filtered out.
	Avoid string `json:"avoid,omitempty"`
}

// LabelPreference is the plugin.
type LabelPreference struct {
	key, value string
	avoid      string
}

var (
	_ framework.FilterPlugin = (*LabelPreference)(nil)
	_ framework.ScorePlugin  = (*LabelPreference)(nil)
)

// New is the plugin's factory, registered with app.WithPlugin(Name, New).
func New(_ context.Context, raw json.RawMessage, _ framework.Handle) (framework.Plugin, error) {
	args := Args{Prefer: "disk=ssd"}
	if err := framework.DecodeArgs(raw, &args); err != nil {
		return nil, err
	}
	k, v, ok := strings.Cut(args.Prefer, "=")
	if !ok || k == "" {
		return nil, fmt.Errorf("prefer: %q is not key=value", args.Prefer)
	}
	return &LabelPreference{key: k, value: v, avoid: args.Avoid}, nil
}

// Name implements framework.Plugin.
func (p *LabelPreference) Name() string { return Name }

// Filter implements framework.FilterPlugin.
func (p *LabelPreference) Filter(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	if p.avoid == "" {
		return nil
	}
	if _, ok := node.Node().GetMetadata().GetLabels()[p.avoid]; ok {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, "node(s) had label "+p.avoid)
	}
	return nil
}

// Score implements framework.ScorePlugin.
func (p *LabelPreference) Score(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	if v, ok := node.Node().GetMetadata().GetLabels()[p.key]; ok && v == p.value {
		return framework.MaxNodeScore, nil
	}
	return framework.MinNodeScore, nil
}

// ScoreExtensions implements framework.ScorePlugin: scores are already in
// range.
func (p *LabelPreference) ScoreExtensions() framework.ScoreExtensions { return nil }
