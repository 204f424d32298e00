package nodeutil

import (
	"slices"

	"google.golang.org/protobuf/types/known/timestamppb"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Well-known taints and labels.
const (
	// TaintUninitialized is put on a node by a kubelet started with
	// --cloud-provider=external; the cloud node controller removes it once
	// it has initialized the node.
	TaintUninitialized = "node.cloudprovider.kubernetes.io/uninitialized"
	// TaintShutdown marks a node whose instance is shut down.
	TaintShutdown = "node.cloudprovider.kubernetes.io/shutdown"

	LabelInstanceType = "node.kubernetes.io/instance-type"
	LabelZone         = "topology.kubernetes.io/zone"
	LabelRegion       = "topology.kubernetes.io/region"
	// LabelExcludeFromLB keeps a node out of every load balancer.
	LabelExcludeFromLB = "node.kubernetes.io/exclude-from-external-load-balancers"

	ConditionReady              = "Ready"
	ConditionNetworkUnavailable = "NetworkUnavailable"
)

// Condition returns the node's condition of type t, or nil.
func Condition(n *corev1.Node, t string) *corev1.NodeCondition {
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() == t {
			return c
		}
	}
	return nil
}

// IsReady says whether the node's Ready condition is True.
func IsReady(n *corev1.Node) bool {
	return Condition(n, ConditionReady).GetStatus() == "True"
}

// HasTaint says whether the node has a taint with key.
func HasTaint(n *corev1.Node, key string) bool {
	return slices.ContainsFunc(n.GetSpec().GetTaints(), func(t *corev1.Taint) bool { return t.GetKey() == key })
}

// RemoveTaint removes the taints with key from n (a copy); it says whether
// there were any.
func RemoveTaint(n *corev1.Node, key string) bool {
	if n.Spec == nil {
		return false
	}
	before := len(n.Spec.Taints)
	n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(t *corev1.Taint) bool { return t.GetKey() == key })
	return len(n.Spec.Taints) != before
}

// AddTaint adds a taint to n (a copy) unless one with its key is there; it
// says whether it added it.
func AddTaint(n *corev1.Node, t *corev1.Taint) bool {
	if HasTaint(n, t.GetKey()) {
		return false
	}
	if n.Spec == nil {
		n.Spec = &corev1.NodeSpec{}
	}
	if t.GetEffect() == "NoExecute" && t.TimeAdded == nil {
		t.TimeAdded = timestamppb.Now()
	}
	n.Spec.Taints = append(n.Spec.Taints, t)
	return true
}

// Address returns the node's first address of type t ("InternalIP"), or "".
func Address(n *corev1.Node, t string) string {
	for _, a := range n.GetStatus().GetAddresses() {
		if a.GetType() == t {
			return a.GetAddress()
		}
	}
	return ""
}
