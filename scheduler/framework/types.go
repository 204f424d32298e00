package framework

import (
	"fmt"
	"maps"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// Resource names with their own fields in [Resource].
const (
	ResourceCPU              = "cpu"
	ResourceMemory           = "memory"
	ResourceEphemeralStorage = "ephemeral-storage"
	ResourcePods             = "pods"
)

// Defaults for pods that request nothing, used only for scoring (as
// kube-scheduler's non-zero requests): so that such pods still spread.
const (
	DefaultMilliCPURequest int64 = 100               // 0.1 core
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// Resource is an amount of each resource, parsed: CPU in millicores, the rest
// in units (bytes for memory).
type Resource struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	// AllowedPodNumber is the pod count (a node's allocatable "pods").
	AllowedPodNumber int64
	// Scalar holds every other resource (extended resources, hugepages).
	Scalar map[string]int64
}

// Add adds r2 to r.
func (r *Resource) Add(r2 *Resource) {
	r.MilliCPU += r2.MilliCPU
	r.Memory += r2.Memory
	r.EphemeralStorage += r2.EphemeralStorage
	r.AllowedPodNumber += r2.AllowedPodNumber
	for k, v := range r2.Scalar {
		if r.Scalar == nil {
			r.Scalar = map[string]int64{}
		}
		r.Scalar[k] += v
	}
}

// Sub subtracts r2 from r.
func (r *Resource) Sub(r2 *Resource) {
	r.MilliCPU -= r2.MilliCPU
	r.Memory -= r2.Memory
	r.EphemeralStorage -= r2.EphemeralStorage
	r.AllowedPodNumber -= r2.AllowedPodNumber
	for k, v := range r2.Scalar {
		if r.Scalar == nil {
			r.Scalar = map[string]int64{}
		}
		r.Scalar[k] -= v
	}
}

// SetMax sets each amount of r to the larger of r's and r2's.
func (r *Resource) SetMax(r2 *Resource) {
	r.MilliCPU = max(r.MilliCPU, r2.MilliCPU)
	r.Memory = max(r.Memory, r2.Memory)
	r.EphemeralStorage = max(r.EphemeralStorage, r2.EphemeralStorage)
	r.AllowedPodNumber = max(r.AllowedPodNumber, r2.AllowedPodNumber)
	for k, v := range r2.Scalar {
		if r.Scalar == nil {
			r.Scalar = map[string]int64{}
		}
		r.Scalar[k] = max(r.Scalar[k], v)
	}
}

// Clone returns a deep copy of r.
func (r Resource) Clone() Resource {
	r.Scalar = maps.Clone(r.Scalar)
	return r
}

// Get returns the amount of the named resource.
func (r *Resource) Get(name string) int64 {
	switch name {
	case ResourceCPU:
		return r.MilliCPU
	case ResourceMemory:
		return r.Memory
	case ResourceEphemeralStorage:
		return r.EphemeralStorage
	case ResourcePods:
		return r.AllowedPodNumber
	}
	return r.Scalar[name]
}

// NewResource parses a resource list (requests, limits, allocatable).
// Quantities that do not parse count as zero; the apiserver validates them.
func NewResource(list map[string]*metav1.Quantity) Resource {
	var r Resource
	for name, q := range list {
		if q == nil {
			continue
		}
		qty, err := resource.ParseQuantity(q.GetValue())
		if err != nil {
			continue
		}
		switch name {
		case ResourceCPU:
			r.MilliCPU = qty.MilliValue()
		case ResourceMemory:
			r.Memory = qty.Value()
		case ResourceEphemeralStorage:
			r.EphemeralStorage = qty.Value()
		case ResourcePods:
			r.AllowedPodNumber = qty.Value()
		default:
			if r.Scalar == nil {
				r.Scalar = map[string]int64{}
			}
			r.Scalar[name] = qty.Value()
		}
	}
	return r
}

// PodRequests computes what a pod requests, as Kubernetes does: the sum of
// its containers (and of restartable init containers, which run beside
// them), or the largest init container if that is more. It also returns
// the non-zero CPU and memory requests used for scoring.
func PodRequests(pod *corev1.Pod) (req Resource, nonZeroCPU, nonZeroMem int64) {
	spec := pod.GetSpec()
	var sidecars Resource
	for _, c := range spec.GetContainers() {
		r := NewResource(c.GetResources().GetRequests())
		req.Add(&r)
		cpu, mem := r.MilliCPU, r.Memory
		if _, ok := c.GetResources().GetRequests()[ResourceCPU]; !ok {
			cpu = DefaultMilliCPURequest
		}
		if _, ok := c.GetResources().GetRequests()[ResourceMemory]; !ok {
			mem = DefaultMemoryRequest
		}
		nonZeroCPU += cpu
		nonZeroMem += mem
	}
	var initMax Resource
	for _, c := range spec.GetInitContainers() {
		r := NewResource(c.GetResources().GetRequests())
		if c.GetRestartPolicy() == "Always" {
			sidecars.Add(&r)
			req.Add(&r)
			nonZeroCPU += r.MilliCPU
			nonZeroMem += r.Memory
			continue
		}
		r.Add(&sidecars)
		initMax.SetMax(&r)
	}
	req.SetMax(&initMax)
	nonZeroCPU = max(nonZeroCPU, initMax.MilliCPU)
	nonZeroMem = max(nonZeroMem, initMax.Memory)
	return req, nonZeroCPU, nonZeroMem
}

// PodInfo is a pod with what the scheduler derives from it, computed once.
// It is shared: plugins must not change it.
type PodInfo struct {
	Pod *corev1.Pod
	// Key is "namespace/name".
	Key string
	// Requests is what the pod requests (AllowedPodNumber is 0; every pod
	// counts one against a node's pods).
	Requests Resource
	// NonZeroCPU and NonZeroMemory are the requests with defaults for
	// containers that request nothing, for scoring.
	NonZeroCPU, NonZeroMemory int64
}

// NewPodInfo derives a PodInfo from pod.
func NewPodInfo(pod *corev1.Pod) *PodInfo {
	req, cpu, mem := PodRequests(pod)
	m := pod.GetMetadata()
	return &PodInfo{Pod: pod, Key: m.GetNamespace() + "/" + m.GetName(), Requests: req, NonZeroCPU: cpu, NonZeroMemory: mem}
}

// UID is the pod's uid.
func (p *PodInfo) UID() string { return p.Pod.GetMetadata().GetUid() }

// Priority is the pod's priority (0 when unset).
func (p *PodInfo) Priority() int32 { return PodPriority(p.Pod) }

// PodPriority is pod's spec.priority, 0 when unset.
func PodPriority(pod *corev1.Pod) int32 { return pod.GetSpec().GetPriority() }

// QueuedPodInfo is a pod in the scheduling queue.
type QueuedPodInfo struct {
	*PodInfo
	// Timestamp is when the pod was last added to the queue.
	Timestamp time.Time
	// InitialAttemptTimestamp is when the pod was first popped.
	InitialAttemptTimestamp time.Time
	// Attempts counts scheduling attempts.
	Attempts int
	// UnschedulablePlugins are the plugins that rejected the pod in its
	// last attempt.
	UnschedulablePlugins map[string]struct{}
}

var generation atomic.Int64

// NextGeneration returns a new, increasing generation number.
func NextGeneration() int64 { return generation.Add(1) }

// NodeInfo is a node with the pods on it (bound or assumed) and their sums.
// The scheduler's snapshot hands out NodeInfos to plugins: they must not
// change them.
type NodeInfo struct {
	node *corev1.Node
	// Pods on the node.
	Pods []*PodInfo
	// Requested is the sum of the pods' requests; AllowedPodNumber counts
	// the pods.
	Requested Resource
	// NonZeroRequested is the sum of the pods' non-zero requests (CPU and
	// memory only), for scoring.
	NonZeroRequested Resource
	// Allocatable is the node's status.allocatable, parsed.
	Allocatable Resource
	// Taints are the node's taints with effect NoSchedule or NoExecute.
	Taints []*corev1.Taint
	// Generation increases on every change.
	Generation int64
}

// NewNodeInfo returns a NodeInfo (without a node) holding pods.
func NewNodeInfo(pods ...*PodInfo) *NodeInfo {
	ni := &NodeInfo{Generation: NextGeneration()}
	for _, p := range pods {
		ni.AddPod(p)
	}
	return ni
}

// Node is the node (nil when the node was deleted but pods still point at
// it).
func (n *NodeInfo) Node() *corev1.Node {
	if n == nil {
		return nil
	}
	return n.node
}

// Name is the node's name ("" without a node).
func (n *NodeInfo) Name() string { return n.Node().GetMetadata().GetName() }

// SetNode sets the node, parsing its allocatable resources and taints.
func (n *NodeInfo) SetNode(node *corev1.Node) {
	n.node = node
	n.Allocatable = NewResource(node.GetStatus().GetAllocatable())
	n.Taints = nil // a fresh slice: clones share the old one
	for _, t := range node.GetSpec().GetTaints() {
		if t.GetEffect() == "NoSchedule" || t.GetEffect() == "NoExecute" {
			n.Taints = append(n.Taints, t)
		}
	}
	n.Generation = NextGeneration()
}

// RemoveNode clears the node, keeping the pods.
func (n *NodeInfo) RemoveNode() {
	n.node = nil
	n.Generation = NextGeneration()
}

// AddPod adds a pod to the node's sums.
func (n *NodeInfo) AddPod(p *PodInfo) {
	n.Pods = append(n.Pods, p)
	n.update(p, 1)
}

// RemovePod removes the pod with pod's uid.
func (n *NodeInfo) RemovePod(pod *corev1.Pod) error {
	uid := pod.GetMetadata().GetUid()
	for i, p := range n.Pods {
		if p.UID() != uid {
			continue
		}
		last := len(n.Pods) - 1
		n.Pods[i] = n.Pods[last]
		n.Pods[last] = nil
		n.Pods = n.Pods[:last]
		n.update(p, -1)
		return nil
	}
	return fmt.Errorf("no pod %s/%s on node %s", pod.GetMetadata().GetNamespace(), pod.GetMetadata().GetName(), n.Name())
}

func (n *NodeInfo) update(p *PodInfo, sign int64) {
	n.Requested.MilliCPU += sign * p.Requests.MilliCPU
	n.Requested.Memory += sign * p.Requests.Memory
	n.Requested.EphemeralStorage += sign * p.Requests.EphemeralStorage
	n.Requested.AllowedPodNumber += sign
	for k, v := range p.Requests.Scalar {
		if n.Requested.Scalar == nil {
			n.Requested.Scalar = map[string]int64{}
		}
		n.Requested.Scalar[k] += sign * v
	}
	n.NonZeroRequested.MilliCPU += sign * p.NonZeroCPU
	n.NonZeroRequested.Memory += sign * p.NonZeroMemory
	n.Generation = NextGeneration()
}

// Clone returns a copy of n that can change without changing n (the pods
// themselves are shared).
func (n *NodeInfo) Clone() *NodeInfo {
	c := &NodeInfo{
		node:             n.node,
		Requested:        n.Requested.Clone(),
		NonZeroRequested: n.NonZeroRequested.Clone(),
		Allocatable:      n.Allocatable.Clone(),
		Taints:           n.Taints,
		Generation:       n.Generation,
	}
	if len(n.Pods) > 0 {
		c.Pods = append(make([]*PodInfo, 0, len(n.Pods)+1), n.Pods...)
	}
	return c
}
