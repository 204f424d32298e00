package defaultpreemption

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/record"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"github.com/gantryhq/gantry/scheduler/framework"
)

// Name of the plugin.
const Name = "DefaultPreemption"

// DefaultPreemption evicts lower-priority pods to make room.
type DefaultPreemption struct {
	h framework.Handle

	mu sync.Mutex
	// nominated remembers, by preemptor uid, the node it preempted on, so
	// that it does not preempt again while its victims terminate.
	nominated map[string]string
}

var _ framework.PostFilterPlugin = (*DefaultPreemption)(nil)

// New makes the plugin.
func New(_ context.Context, _ json.RawMessage, h framework.Handle) (framework.Plugin, error) {
	return &DefaultPreemption{h: h, nominated: map[string]string{}}, nil
}

// Name implements framework.Plugin.
func (*DefaultPreemption) Name() string { return Name }

// Candidate is a node and the pods to evict from it.
type Candidate struct {
	Node    string
	Victims []*framework.PodInfo
}

// PostFilter implements framework.PostFilterPlugin.
func (p *DefaultPreemption) PostFilter(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, filtered framework.NodeToStatus) (*framework.PostFilterResult, *framework.Status) {
	if pod.Pod.GetSpec().GetPreemptionPolicy() == "Never" {
		return nil, framework.NewStatus(framework.Unschedulable, "not eligible due to preemptionPolicy=Never.")
	}
	lister := p.h.SnapshotSharedLister()
	p.mu.Lock()
	prev, ok := p.nominated[pod.UID()]
	p.mu.Unlock()
	if ok {
		if ni, err := lister.Get(prev); err == nil && terminatingLower(ni, pod.Priority()) {
			return &framework.PostFilterResult{NominatedNodeName: prev}, nil
		}
	}
	c, st := p.FindCandidate(ctx, state, pod, filtered)
	if !st.IsSuccess() {
		return nil, st
	}
	if err := p.evict(ctx, pod, c); err != nil {
		return nil, framework.AsStatus(err)
	}
	p.mu.Lock()
	p.nominated[pod.UID()] = c.Node
	p.mu.Unlock()
	return &framework.PostFilterResult{NominatedNodeName: c.Node}, nil
}

func terminatingLower(ni *framework.NodeInfo, prio int32) bool {
	for _, v := range ni.Pods {
		if v.Pod.GetMetadata().GetDeletionTimestamp() != nil && v.Priority() < prio {
			return true
		}
	}
	return false
}

// FindCandidate finds the best node to preempt on.
func (p *DefaultPreemption) FindCandidate(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, filtered framework.NodeToStatus) (*Candidate, *framework.Status) {
	nodes := p.h.SnapshotSharedLister().List()
	var potential []*framework.NodeInfo
	for _, n := range nodes {
		if st, ok := filtered[n.Name()]; ok && st.Code() == framework.UnschedulableAndUnresolvable {
			continue
		}
		potential = append(potential, n)
	}
	if len(potential) == 0 {
		return nil, framework.NewStatus(framework.Unschedulable, fmt.Sprintf("0/%d nodes are available: %d Preemption is not helpful for scheduling.", len(nodes), len(nodes)))
	}
	cands := make([]*Candidate, len(potential))
	p.h.Parallelizer().Until(ctx, len(potential), func(i int) {
		cands[i] = p.selectVictims(ctx, state, pod, potential[i])
	})
	var best *Candidate
	var bestKey [3]int64
	for _, c := range cands {
		if c == nil {
			continue
		}
		key := rank(c)
		if best == nil || less(key, bestKey) {
			best, bestKey = c, key
		}
	}
	if best == nil {
		return nil, framework.NewStatus(framework.Unschedulable, fmt.Sprintf("0/%d nodes are available: %d No preemption victims found for incoming pod.", len(nodes), len(potential)))
	}
	return best, nil
}

// rank orders candidates: lowest highest-victim priority, then lowest sum
// of priorities, then fewest victims.
func rank(c *Candidate) [3]int64 {
	top := int64(math.MinInt32)
	var sum int64
	for _, v := range c.Victims {
		top = max(top, int64(v.Priority()))
		sum += int64(v.Priority()) + math.MaxInt32 + 1
	}
	return [3]int64{top, sum, int64(len(c.Victims))}
}

func less(a, b [3]int64) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// selectVictims returns the fewest lower-priority pods of node whose
// eviction lets pod fit, or nil.
func (p *DefaultPreemption) selectVictims(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *Candidate {
	ni := node.Clone()
	prio := pod.Priority()
	var lower []*framework.PodInfo
	for _, v := range node.Pods {
		if v.Priority() < prio {
			lower = append(lower, v)
			if err := ni.RemovePod(v.Pod); err != nil {
				return nil
			}
		}
	}
	if len(lower) == 0 {
		return nil
	}
	st := state.Clone()
	if !p.h.RunFilterPlugins(ctx, st, pod, ni).IsSuccess() {
		return nil
	}
	// Give back as many as possible, most important first.
	sort.SliceStable(lower, func(i, j int) bool { return lower[i].Priority() > lower[j].Priority() })
	var victims []*framework.PodInfo
	for _, v := range lower {
		if v.Pod.GetMetadata().GetDeletionTimestamp() != nil {
			continue // going anyway
		}
		ni.AddPod(v)
		if !p.h.RunFilterPlugins(ctx, st, pod, ni).IsSuccess() {
			if err := ni.RemovePod(v.Pod); err != nil {
				return nil
			}
			victims = append(victims, v)
		}
	}
	if len(victims) == 0 {
		// Only terminating pods stand in the way: wait for them.
		return &Candidate{Node: node.Name()}
	}
	return &Candidate{Node: node.Name(), Victims: victims}
}

// evict deletes the victims gracefully and records the preemptor's
// nominated node in its status.
func (p *DefaultPreemption) evict(ctx context.Context, pod *framework.PodInfo, c *Candidate) error {
	cs := p.h.ClientSet()
	for _, v := range c.Victims {
		m := v.Pod.GetMetadata()
		err := cs.Pods(m.GetNamespace()).Delete(ctx, m.GetName(), client.DeleteOptions{Preconditions: &client.Preconditions{UID: m.GetUid()}})
		if err != nil && !client.IsNotFound(err) && !client.IsConflict(err) {
			return fmt.Errorf("preempt pod %s: %w", v.Key, err)
		}
		if r := p.h.EventRecorder(); r != nil {
			r.Eventf(v.Pod, record.Normal, "Preempted", "Preempted by pod %s on node %s", pod.UID(), c.Node)
		}
	}
	m := pod.Pod.GetMetadata()
	return client.RetryOnConflict(ctx, func() error {
		cur, err := cs.Pods(m.GetNamespace()).Get(ctx, m.GetName())
		if err != nil {
			return err
		}
		if cur.GetMetadata().GetUid() != m.GetUid() || cur.GetStatus().GetNominatedNodeName() == c.Node {
			return nil
		}
		cur = proto.Clone(cur).(*corev1.Pod)
		if cur.Status == nil {
			cur.Status = &corev1.PodStatus{}
		}
		cur.Status.NominatedNodeName = c.Node
		_, err = cs.Pods(m.GetNamespace()).UpdateStatus(ctx, cur)
		return err
	})
}

// Forget drops what the plugin remembers of a pod (it was bound or
// deleted).
func (p *DefaultPreemption) Forget(uid string) {
	p.mu.Lock()
	delete(p.nominated, uid)
	p.mu.Unlock()
}

// PostBind implements framework.PostBindPlugin: a bound pod is forgotten.
func (p *DefaultPreemption) PostBind(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, _ string) {
	p.Forget(pod.UID())
}
