package scheduler

import (
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/client/informer"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"github.com/gantryhq/gantry/scheduler/internal/queue"
)

// Informers are what the scheduler watches.
type Informers struct {
	Nodes    *informer.Informer[*corev1.Node]
	Assigned *informer.Informer[*corev1.Pod]
	// Pending has one informer per profile.
	Pending []*informer.Informer[*corev1.Pod]
}

// NewInformers makes the scheduler's informers on f: every node, pods bound
// to a node, and per profile the pods pending for it (field selectors
// spec.nodeName= and spec.schedulerName=, terminal pods left out).
func NewInformers(f *informer.Factory, schedulerNames []string) *Informers {
	inf := &Informers{
		Nodes:    f.Nodes(),
		Assigned: informer.Filtered[*corev1.Pod](f, informer.Filter{FieldSelector: "spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed"}),
	}
	for _, name := range schedulerNames {
		inf.Pending = append(inf.Pending, informer.Filtered[*corev1.Pod](f, informer.Filter{
			FieldSelector: "spec.nodeName=,spec.schedulerName=" + name + ",status.phase!=Succeeded,status.phase!=Failed",
		}))
	}
	return inf
}

// PendingLister looks pods up in the pending informers.
func (inf *Informers) PendingLister() PendingLister {
	return func(ns, name string) (*corev1.Pod, bool) {
		for _, p := range inf.Pending {
			if pod, err := p.Lister().Get(ns, name); err == nil {
				return pod, true
			}
		}
		return nil, false
	}
}

// HasSynced reports whether every informer has synced.
func (inf *Informers) HasSynced() bool {
	if !inf.Nodes.HasSynced() || !inf.Assigned.HasSynced() {
		return false
	}
	for _, p := range inf.Pending {
		if !p.HasSynced() {
			return false
		}
	}
	return true
}

// AddEventHandlers feeds the informers into the cache and the queue.
func (s *Scheduler) AddEventHandlers(inf *Informers) {
	inf.Nodes.AddEventHandler(informer.Handler[*corev1.Node]{
		OnAdd: func(n *corev1.Node) {
			s.cache.AddNode(n)
			s.queue.MoveAllToActiveOrBackoff(queue.NodeAdd)
		},
		OnUpdate: func(old, n *corev1.Node) {
			s.cache.UpdateNode(n)
			if nodeSchedulingChanged(old, n) {
				s.queue.MoveAllToActiveOrBackoff(queue.NodeChange)
			}
		},
		OnDelete: func(n *corev1.Node) { s.cache.RemoveNode(n.GetMetadata().GetName()) },
	})
	inf.Assigned.AddEventHandler(informer.Handler[*corev1.Pod]{
		OnAdd: func(p *corev1.Pod) {
			if err := s.cache.AddPod(p); err != nil {
				s.log.Error("add pod to cache", zap.Error(err))
			}
			s.queue.DeleteNominatedPod(p.GetMetadata().GetNamespace() + "/" + p.GetMetadata().GetName())
		},
		OnUpdate: func(old, p *corev1.Pod) {
			if err := s.cache.UpdatePod(p); err != nil {
				s.log.Error("update pod in cache", zap.Error(err))
			}
			if old.GetMetadata().GetDeletionTimestamp() == nil && p.GetMetadata().GetDeletionTimestamp() != nil {
				s.queue.MoveAllToActiveOrBackoff(queue.AssignedPodChange)
			}
		},
		OnDelete: func(p *corev1.Pod) {
			if err := s.cache.RemovePod(p); err != nil {
				s.log.Error("remove pod from cache", zap.Error(err))
			}
			s.queue.MoveAllToActiveOrBackoff(queue.AssignedPodDelete)
		},
	})
	for _, pending := range inf.Pending {
		pending.AddEventHandler(informer.Handler[*corev1.Pod]{
			OnAdd: func(p *corev1.Pod) {
				if p.GetMetadata().GetDeletionTimestamp() == nil {
					s.queue.Add(p)
				}
			},
			OnUpdate: func(old, p *corev1.Pod) {
				if p.GetMetadata().GetDeletionTimestamp() != nil {
					s.queue.Delete(p)
					return
				}
				s.queue.Update(old, p)
			},
			OnDelete: func(p *corev1.Pod) { s.queue.Delete(p) },
		})
	}
}

// nodeSchedulingChanged reports whether a node update may let pending pods
// fit: allocatable, labels, taints or unschedulable changed.
func nodeSchedulingChanged(old, n *corev1.Node) bool {
	if old.GetSpec().GetUnschedulable() != n.GetSpec().GetUnschedulable() {
		return true
	}
	if !proto.Equal(&corev1.NodeSpec{Taints: old.GetSpec().GetTaints()}, &corev1.NodeSpec{Taints: n.GetSpec().GetTaints()}) {
		return true
	}
	if !equalMap(old.GetMetadata().GetLabels(), n.GetMetadata().GetLabels()) {
		return true
	}
	oa, na := old.GetStatus().GetAllocatable(), n.GetStatus().GetAllocatable()
	if len(oa) != len(na) {
		return true
	}
	for k, v := range na {
		if oa[k].GetValue() != v.GetValue() {
			return true
		}
	}
	return false
}

func equalMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
