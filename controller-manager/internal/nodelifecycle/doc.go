// Package nodelifecycle is the node lifecycle controller with taint-based
// eviction. Every monitor period it checks each node's heartbeat (its
// Lease kube-node-lease/<node>, or its Ready condition's heartbeat): a
// node not heard from for the grace period gets Ready=Unknown; a node
// whose Ready is Unknown gets the node.kubernetes.io/unreachable:NoExecute
// taint, one whose kubelet reports NotReady the not-ready one, and a
// healthy node loses both. Adding those taints is rate-limited
// (--node-eviction-rate), and when every node is unhealthy none is tainted
// (and existing ones are removed): a cluster-wide outage is more likely the
// control plane's network than every node at once. The matching NoSchedule
// taints (and node.kubernetes.io/unschedulable for a cordoned node) are
// kept in step without a rate limit, so that the scheduler avoids such
// nodes.
//
// Pods on an unreachable node are marked not Ready at once (their kubelet
// cannot say so), so that Services stop routing to them. Pods on a node
// with NoExecute taints they do not tolerate are deleted at
// once; those that tolerate them for tolerationSeconds are deleted that
// long after the taint was added.
package nodelifecycle
