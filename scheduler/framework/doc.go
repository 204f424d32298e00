// Package framework is the scheduler's public plugin API, in the shape of
// kube-scheduler's: plugins registered by name implement one small interface
// per extension point (QueueSort, PreFilter, Filter, PostFilter, PreScore,
// Score with NormalizeScore, Reserve/Unreserve, Permit, PreBind, Bind,
// PostBind) and report a *Status, where nil means success.
//
// A scheduling cycle runs the plugins of one profile over a snapshot of the
// cluster ([NodeInfoLister]) taken at the start of the cycle, with a
// [CycleState] the plugins share for that cycle only. Pods and nodes arrive
// pre-parsed ([PodInfo], [NodeInfo]): resource quantities are parsed once
// per pod and node, never per cycle.
//
// Out-of-tree plugins import only this package, client and proto, and are
// compiled into a scheduler binary with app.NewSchedulerCommand(
// app.WithPlugin(name, factory)).
package framework
