// Package nodelifecycle is the cloud node lifecycle controller. Every
// MonitorPeriod it looks at the nodes that are not Ready and asks the
// provider about their instances: a node whose instance is shut down gets
// the node.cloudprovider.kubernetes.io/shutdown taint (removed again once
// the node is Ready); a node whose instance no longer exists is deleted.
// Ready nodes are not asked about, as in Kubernetes: a node whose instance
// vanishes stops heartbeating and turns NotReady first.
package nodelifecycle
