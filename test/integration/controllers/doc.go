// Package controllers holds the controller-manager's integration tests:
// a real apiserver (apiservertest) with the controller-manager running in
// the test's process, and "hollow nodes", a test double for the scheduler
// and kubelets that binds pods to fake Nodes, renews their Leases and
// reports the pods Running and Ready (or finished, when a pod asks to
// through an annotation).
package controllers
