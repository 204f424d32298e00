// Package strategy holds one registry.Strategy per kind: Kubernetes'
// defaulting (pkg/apis/*/v1/defaults.go and the defaulting admission
// plugins), create-time preparation, and validation of new objects, updates
// and status updates (pkg/apis/*/validation, pkg/registry/*/strategy.go).
//
// Field errors are made with k8s.io/apimachinery's field package and carry
// Kubernetes' paths from the object's root ("spec.containers[0].image").
// Object metadata is the registry's job; a strategy validates everything
// else, including the metadata of embedded templates.
package strategy
