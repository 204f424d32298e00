// Package rollout is the client side of `gantry rollout`: a Deployment's
// revision history read from its ReplicaSets, undo (copying an older
// ReplicaSet's template back into the Deployment, as apps/v1 and kubectl
// do), restart (the kubectl.kubernetes.io/restartedAt template
// annotation), pause and resume, and status: one line saying how far a
// rollout has got, and a wait until it finishes or exceeds its progress
// deadline.
package rollout
