package cache

import (
	"errors"
	"fmt"
	"sync"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"github.com/gantryhq/gantry/scheduler/framework"
)

// item is a node in the cache's recency list: the most recently changed node
// is at the head, so a snapshot walks only what changed since it was taken.
type item struct {
	info       *framework.NodeInfo
	prev, next *item
}

type podState struct {
	pod             *framework.PodInfo
	nodeName        string
	assumed         bool
	bindingFinished bool
}

// Cache holds nodes and the pods bound or assumed on them. It is safe for
// concurrent use.
type Cache struct {
	mu    sync.RWMutex
	nodes map[string]*item
	head  *item
	// order lists node names in the order they were added (the snapshot's
	// stable order).
	order []string
	// nodeSetGen changes when a node is added or removed.
	nodeSetGen int64
	pods       map[string]*podState // by uid
}

// New returns an empty cache.
func New() *Cache {
	return &Cache{nodes: map[string]*item{}, pods: map[string]*podState{}}
}

func (c *Cache) moveToHead(it *item) {
	if c.head == it {
		return
	}
	if it.prev != nil {
		it.prev.next = it.next
	}
	if it.next != nil {
		it.next.prev = it.prev
	}
	it.prev = nil
	it.next = c.head
	if c.head != nil {
		c.head.prev = it
	}
	c.head = it
}

func (c *Cache) unlink(it *item) {
	if it.prev != nil {
		it.prev.next = it.next
	}
	if it.next != nil {
		it.next.prev = it.prev
	}
	if c.head == it {
		c.head = it.next
	}
	it.prev, it.next = nil, nil
}

func (c *Cache) itemFor(name string) *item {
	it, ok := c.nodes[name]
	if !ok {
		it = &item{info: framework.NewNodeInfo()}
		c.nodes[name] = it
	}
	return it
}

// AddNode adds or updates a node.
func (c *Cache) AddNode(node *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	name := node.GetMetadata().GetName()
	it := c.itemFor(name)
	if it.info.Node() == nil {
		c.order = append(c.order, name)
		c.nodeSetGen = framework.NextGeneration()
	}
	it.info.SetNode(node)
	c.moveToHead(it)
}

// UpdateNode is AddNode.
func (c *Cache) UpdateNode(node *corev1.Node) { c.AddNode(node) }

// RemoveNode removes a node. Pods still on it keep a node-less entry until
// they are removed too.
func (c *Cache) RemoveNode(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.nodes[name]
	if !ok {
		return
	}
	if it.info.Node() != nil {
		c.removeOrder(name)
		c.nodeSetGen = framework.NextGeneration()
	}
	if len(it.info.Pods) == 0 {
		c.unlink(it)
		delete(c.nodes, name)
		return
	}
	it.info.RemoveNode()
	c.moveToHead(it)
}

func (c *Cache) removeOrder(name string) {
	for i, n := range c.order {
		if n == name {
			c.order = append(c.order[:i], c.order[i+1:]...)
			return
		}
	}
}

func (c *Cache) addPodLocked(p *framework.PodInfo, node string) {
	it := c.itemFor(node)
	it.info.AddPod(p)
	c.moveToHead(it)
}

func (c *Cache) removePodLocked(pod *corev1.Pod, node string) error {
	it, ok := c.nodes[node]
	if !ok {
		return fmt.Errorf("node %s of pod %s not in cache", node, pod.GetMetadata().GetName())
	}
	if err := it.info.RemovePod(pod); err != nil {
		return err
	}
	if it.info.Node() == nil && len(it.info.Pods) == 0 {
		c.unlink(it)
		delete(c.nodes, node)
		return nil
	}
	c.moveToHead(it)
	return nil
}

// AssumePod counts pod (whose spec.nodeName is set to its chosen node)
// against that node at once, before it is bound.
func (c *Cache) AssumePod(p *framework.PodInfo) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	uid := p.UID()
	if _, ok := c.pods[uid]; ok {
		return fmt.Errorf("pod %s is in the cache already", p.Key)
	}
	node := p.Pod.GetSpec().GetNodeName()
	c.addPodLocked(p, node)
	c.pods[uid] = &podState{pod: p, nodeName: node, assumed: true}
	return nil
}

// FinishBinding marks an assumed pod's binding as done; the pod stays
// assumed until the informer reports it bound.
func (c *Cache) FinishBinding(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.GetMetadata().GetUid()]; ok && ps.assumed {
		ps.bindingFinished = true
	}
}

// ForgetPod undoes AssumePod (the binding failed).
func (c *Cache) ForgetPod(pod *corev1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	uid := pod.GetMetadata().GetUid()
	ps, ok := c.pods[uid]
	if !ok {
		return nil
	}
	if !ps.assumed {
		return fmt.Errorf("pod %s/%s is bound, not assumed", pod.GetMetadata().GetNamespace(), pod.GetMetadata().GetName())
	}
	delete(c.pods, uid)
	return c.removePodLocked(ps.pod.Pod, ps.nodeName)
}

// IsAssumed reports whether the pod is assumed and not yet seen bound.
func (c *Cache) IsAssumed(pod *corev1.Pod) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ps, ok := c.pods[pod.GetMetadata().GetUid()]
	return ok && ps.assumed
}

// Contains reports whether the pod (by uid) is in the cache, bound or
// assumed.
func (c *Cache) Contains(pod *corev1.Pod) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.pods[pod.GetMetadata().GetUid()]
	return ok
}

// AddPod adds a pod seen bound to a node; an assumed pod is confirmed.
func (c *Cache) AddPod(pod *corev1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	uid := pod.GetMetadata().GetUid()
	node := pod.GetSpec().GetNodeName()
	if node == "" {
		return errors.New("pod has no node")
	}
	p := framework.NewPodInfo(pod)
	if ps, ok := c.pods[uid]; ok {
		// A confirmed assumed pod, or a pod that moved: replace it. The
		// assumed PodInfo is not changed (the binding goroutine holds it).
		if err := c.removePodLocked(ps.pod.Pod, ps.nodeName); err != nil {
			return err
		}
	}
	c.addPodLocked(p, node)
	c.pods[uid] = &podState{pod: p, nodeName: node}
	return nil
}

// UpdatePod replaces a bound pod (its requests may have changed).
func (c *Cache) UpdatePod(pod *corev1.Pod) error {
	c.mu.Lock()
	ps, ok := c.pods[pod.GetMetadata().GetUid()]
	if ok && !ps.assumed && ps.nodeName == pod.GetSpec().GetNodeName() {
		err := c.removePodLocked(ps.pod.Pod, ps.nodeName)
		if err == nil {
			p := framework.NewPodInfo(pod)
			c.addPodLocked(p, ps.nodeName)
			ps.pod = p
		}
		c.mu.Unlock()
		return err
	}
	c.mu.Unlock()
	return c.AddPod(pod)
}

// RemovePod removes a pod (deleted, or finished).
func (c *Cache) RemovePod(pod *corev1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	uid := pod.GetMetadata().GetUid()
	ps, ok := c.pods[uid]
	if !ok {
		return nil
	}
	delete(c.pods, uid)
	return c.removePodLocked(ps.pod.Pod, ps.nodeName)
}

// NodeCount is the number of nodes.
func (c *Cache) NodeCount() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.order)
}

// PodCount is the number of pods, bound and assumed.
func (c *Cache) PodCount() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.pods)
}

// Dump returns a copy of every node's NodeInfo, for tests and debugging.
func (c *Cache) Dump() map[string]*framework.NodeInfo {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[string]*framework.NodeInfo, len(c.nodes))
	for name, it := range c.nodes {
		out[name] = it.info.Clone()
	}
	return out
}

// UpdateSnapshot brings s up to date, copying only the nodes that changed
// since s was last updated.
func (c *Cache) UpdateSnapshot(s *Snapshot) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	gen := s.generation
	for it := c.head; it != nil && it.info.Generation > gen; it = it.next {
		name := it.info.Name()
		if name == "" {
			continue // a node-less entry: not schedulable
		}
		clone := it.info.Clone()
		if existing, ok := s.nodeInfoMap[name]; ok {
			*existing = *clone
		} else {
			s.nodeInfoMap[name] = clone
		}
	}
	if c.head != nil {
		s.generation = c.head.info.Generation
	}
	if s.nodeSetGen != c.nodeSetGen || len(s.nodeInfoList) != len(c.order) {
		s.nodeSetGen = c.nodeSetGen
		s.nodeInfoList = s.nodeInfoList[:0]
		keep := make(map[string]struct{}, len(c.order))
		for _, name := range c.order {
			keep[name] = struct{}{}
			ni, ok := s.nodeInfoMap[name]
			if !ok {
				ni = c.nodes[name].info.Clone()
				s.nodeInfoMap[name] = ni
			}
			s.nodeInfoList = append(s.nodeInfoList, ni)
		}
		for name := range s.nodeInfoMap {
			if _, ok := keep[name]; !ok {
				delete(s.nodeInfoMap, name)
			}
		}
	}
}
