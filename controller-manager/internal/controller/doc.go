// Package controller holds what every controller of the controller-manager
// shares: the Context they are built from, the worker loop over a work
// queue, ReplicaSet-style expectations, pod creation and deletion, and
// helpers on selectors, owner references and pod readiness (Kubernetes'
// pkg/controller/controller_utils.go).
package controller
