// Package cache is the scheduler's view of nodes and the pods on them,
// including pods it has assumed onto a node while their binding is in
// flight. Each cycle copies only the nodes that changed since the last
// cycle into a [Snapshot] (generation-based, as kube-scheduler's cache).
package cache
