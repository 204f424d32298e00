// Package internal holds the controller-manager's own parts; see its
// sub-packages.
package internal
