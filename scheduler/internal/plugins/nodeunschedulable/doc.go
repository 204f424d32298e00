// Package nodeunschedulable is the NodeUnschedulable plugin: cordoned nodes
// (spec.unschedulable) take only pods that tolerate
// node.kubernetes.io/unschedulable:NoSchedule.
package nodeunschedulable
