// Package fake is a Runtime without containers: a started container runs at
// once and keeps running until a test (or a configured behavior) stops it.
// It serves the kubelet's unit tests and hollow nodes, hundreds of which fit
// in one process.
package fake
