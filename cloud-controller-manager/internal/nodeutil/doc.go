// Package nodeutil reads and changes the parts of Node objects the cloud
// controllers care about: readiness, taints, labels and addresses. Functions
// that change a node take a copy, never an object from a cache.
package nodeutil
