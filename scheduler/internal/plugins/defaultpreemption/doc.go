// Package defaultpreemption is the DefaultPreemption plugin (PostFilter):
// when no node fits a pod, it looks for a node where evicting pods of lower
// priority would make it fit, picks the node whose victims matter least,
// deletes the victims gracefully and nominates the node for the pod.
package defaultpreemption
