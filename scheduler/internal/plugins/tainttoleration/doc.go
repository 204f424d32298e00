// Package tainttoleration is the TaintToleration plugin: a pod fits a node
// only if it tolerates the node's NoSchedule and NoExecute taints, and
// prefers nodes with fewer PreferNoSchedule taints it does not tolerate.
package tainttoleration
