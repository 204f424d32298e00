package queuesort

import (
	"context"
	"encoding/json"

	"github.com/gantryhq/gantry/scheduler/framework"
)

// Name of the plugin.
const Name = "PrioritySort"

// PrioritySort orders the queue by priority, then by arrival.
type PrioritySort struct{}

var _ framework.QueueSortPlugin = PrioritySort{}

// New makes the plugin.
func New(context.Context, json.RawMessage, framework.Handle) (framework.Plugin, error) {
	return PrioritySort{}, nil
}

// Name implements framework.Plugin.
func (PrioritySort) Name() string { return Name }

// Less implements framework.QueueSortPlugin.
func (PrioritySort) Less(a, b *framework.QueuedPodInfo) bool {
	pa, pb := a.Priority(), b.Priority()
	return pa > pb || pa == pb && a.Timestamp.Before(b.Timestamp)
}
