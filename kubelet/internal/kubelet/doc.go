// Package kubelet is the node agent's core: it registers the Node, renews
// its Lease, reports node status, and reconciles every pod bound to the
// node through a runtime.Runtime — one worker per pod, woken by the pod
// informer, by the runtime's container events, by probe results and by
// back-off timers, never by a slow poll.
//
// A sync of one pod reads the runtime's truth (runtime.PodStatus), decides
// (computeActions: restart policy, CrashLoopBackOff, image pull policy and
// ImagePullBackOff, failed liveness/startup probes), acts (Runtime.SyncPod),
// reads the truth again and writes the pod status when it changed. A pod
// with a deletionTimestamp is killed (SIGTERM, SIGKILL after its grace
// period), its containers removed, and then the pod object deleted for good
// with a uid precondition. Containers of pods the apiserver no longer has
// are removed.
package kubelet
