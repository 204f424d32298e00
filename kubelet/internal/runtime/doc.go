// Package runtime is the kubelet's seam to the container engine: a coarse
// Runtime interface (sync a pod, kill it, remove it, read its status, list
// what exists) in the shape of Kubernetes' pkg/kubelet/container.Runtime.
// The decisions (what to start, what to kill, back-off, probes) are the
// kubelet's; a Runtime only carries them out and reports what is there.
//
// Two implementations: docker (the real one, over the Docker engine API)
// and fake (no containers: pods run at once; for unit tests and hollow
// nodes).
package runtime
