package defaultbinder

import (
	"context"
	"encoding/json"

	"github.com/gantryhq/gantry/scheduler/framework"
)

// Name of the plugin.
const Name = "DefaultBinder"

// DefaultBinder binds pods through the apiserver.
type DefaultBinder struct {
	h framework.Handle
}

var _ framework.BindPlugin = (*DefaultBinder)(nil)

// New makes the plugin.
func New(_ context.Context, _ json.RawMessage, h framework.Handle) (framework.Plugin, error) {
	return &DefaultBinder{h: h}, nil
}

// Name implements framework.Plugin.
func (*DefaultBinder) Name() string { return Name }

// Bind implements framework.BindPlugin.
func (b *DefaultBinder) Bind(ctx context.Context, _ *framework.CycleState, pod *framework.PodInfo, node string) *framework.Status {
	if _, err := b.h.ClientSet().BindPod(ctx, pod.Pod, node); err != nil {
		return framework.AsStatus(err)
	}
	return nil
}
