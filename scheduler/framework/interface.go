package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/record"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Score bounds: a Score plugin's scores, after NormalizeScore, are in
// [MinNodeScore, MaxNodeScore].
const (
	MinNodeScore int64 = 0
	MaxNodeScore int64 = 100
)

// Plugin is what every plugin is.
type Plugin interface {
	// Name is the plugin's registered name.
	Name() string
}

// QueueSortPlugin orders the active queue. Every profile must use the same
// one.
type QueueSortPlugin interface {
	Plugin
	// Less reports whether a should be scheduled before b.
	Less(a, b *QueuedPodInfo) bool
}

// PreFilterResult narrows the nodes a pod is filtered against.
type PreFilterResult struct {
	// NodeNames, when not nil, are the only nodes considered.
	NodeNames map[string]struct{}
}

// PreFilterPlugin runs once per cycle, before Filter: it computes what its
// Filter needs (into the CycleState) or rejects the pod outright.
// Returning Skip skips the plugin's Filter for this pod.
type PreFilterPlugin interface {
	Plugin
	PreFilter(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) (*PreFilterResult, *Status)
}

// FilterPlugin says whether a pod fits a node. It is called concurrently for
// different nodes and must not change node. Return Unschedulable (or
// UnschedulableAndUnresolvable when preemption cannot help) with a reason.
type FilterPlugin interface {
	Plugin
	Filter(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) *Status
}

// NodeToStatus maps node names to why a node was rejected.
type NodeToStatus map[string]*Status

// PostFilterResult is what a PostFilter plugin achieved.
type PostFilterResult struct {
	// NominatedNodeName is the node room was made on.
	NominatedNodeName string
}

// PostFilterPlugin runs when no node fits (DefaultPreemption). Success means
// the pod may fit later on the nominated node.
type PostFilterPlugin interface {
	Plugin
	PostFilter(ctx context.Context, state *CycleState, pod *PodInfo, filtered NodeToStatus) (*PostFilterResult, *Status)
}

// PreScorePlugin runs once per cycle, before Score, with the feasible nodes.
// Returning Skip skips the plugin's Score for this pod.
type PreScorePlugin interface {
	Plugin
	PreScore(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) *Status
}

// NodeScore is a node's score from one plugin.
type NodeScore struct {
	Name  string
	Score int64
}

// NodeScoreList is a plugin's scores, one per feasible node, in the order of
// the nodes given to the framework.
type NodeScoreList []NodeScore

// ScoreExtensions normalize a plugin's scores.
type ScoreExtensions interface {
	// NormalizeScore changes scores in place into [MinNodeScore,
	// MaxNodeScore].
	NormalizeScore(ctx context.Context, state *CycleState, pod *PodInfo, scores NodeScoreList) *Status
}

// ScorePlugin ranks feasible nodes. Score is called concurrently for
// different nodes. Scores are multiplied by the plugin's weight and summed.
type ScorePlugin interface {
	Plugin
	Score(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) (int64, *Status)
	// ScoreExtensions is nil when the scores need no normalizing.
	ScoreExtensions() ScoreExtensions
}

// ReservePlugin is told when a pod is assumed on a node (Reserve) and when
// that is undone (Unreserve, which must be idempotent and may be called
// even if Reserve was not).
type ReservePlugin interface {
	Plugin
	Reserve(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string) *Status
	Unreserve(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string)
}

// PermitPlugin may approve, reject or delay (Wait, up to the duration
// returned) a pod's binding. A waiting pod is released with
// [WaitingPod.Allow] or [WaitingPod.Reject].
type PermitPlugin interface {
	Plugin
	Permit(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string) (*Status, time.Duration)
}

// PreBindPlugin runs before binding, in the binding goroutine.
type PreBindPlugin interface {
	Plugin
	PreBind(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string) *Status
}

// BindPlugin binds a pod to a node. Binders run in order until one does not
// return Skip.
type BindPlugin interface {
	Plugin
	Bind(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string) *Status
}

// PostBindPlugin is told that a pod was bound. It cannot fail.
type PostBindPlugin interface {
	Plugin
	PostBind(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string)
}

// NodeInfoLister reads the cycle's snapshot of the cluster.
type NodeInfoLister interface {
	// List returns every node, in a stable order.
	List() []*NodeInfo
	// Get returns the named node.
	Get(name string) (*NodeInfo, error)
}

// WaitingPod is a pod held at Permit.
type WaitingPod interface {
	Pod() *corev1.Pod
	// Allow approves the pod on behalf of plugin; the pod binds once every
	// plugin that asked it to wait has allowed it.
	Allow(plugin string)
	// Reject rejects the pod; it goes back to the queue.
	Reject(plugin, msg string)
}

// Handle is what the framework gives plugins.
type Handle interface {
	// ClientSet talks to the apiserver.
	ClientSet() *client.Clientset
	// SharedInformerFactory is the scheduler's informer factory; informers
	// made from it in a factory function are started with the scheduler's.
	SharedInformerFactory() *informer.Factory
	// SnapshotSharedLister is the snapshot of the current cycle.
	SnapshotSharedLister() NodeInfoLister
	// EventRecorder records events for the profile.
	EventRecorder() record.EventRecorder
	// Logger is the plugin's logger.
	Logger() *zap.Logger
	// Parallelizer runs work over nodes in parallel.
	Parallelizer() Parallelizer
	// RunFilterPlugins runs every Filter plugin of the profile for pod on
	// node (preemption uses it on a node with victims removed).
	RunFilterPlugins(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) *Status
	// RunPreFilterPlugins runs every PreFilter plugin, filling state.
	RunPreFilterPlugins(ctx context.Context, state *CycleState, pod *PodInfo) (*PreFilterResult, *Status)
	// GetWaitingPod returns the pod with uid waiting at Permit, or nil.
	GetWaitingPod(uid string) WaitingPod
	// IterateOverWaitingPods calls fn for every waiting pod.
	IterateOverWaitingPods(fn func(WaitingPod))
	// SchedulerName is the profile's schedulerName.
	SchedulerName() string
}

// PluginFactory makes a plugin. args is the plugin's pluginConfig args from
// the configuration file, as JSON (nil when none were given); decode it
// with [DecodeArgs].
type PluginFactory func(ctx context.Context, args json.RawMessage, h Handle) (Plugin, error)

// Registry maps plugin names to factories.
type Registry map[string]PluginFactory

// Register adds a factory; a name registered twice is an error.
func (r Registry) Register(name string, f PluginFactory) error {
	if _, ok := r[name]; ok {
		return fmt.Errorf("a plugin named %q is already registered", name)
	}
	r[name] = f
	return nil
}

// Merge adds every factory of other; a name in both is an error.
func (r Registry) Merge(other Registry) error {
	for name, f := range other {
		if err := r.Register(name, f); err != nil {
			return err
		}
	}
	return nil
}

// DecodeArgs decodes a plugin's args into into (a pointer to the plugin's
// args struct, holding the defaults). Unknown fields are an error. Empty
// args leave into as it is.
func DecodeArgs(args json.RawMessage, into any) error {
	if len(args) == 0 || string(args) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytesReader(args))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("decode plugin args: %w", err)
	}
	return nil
}
