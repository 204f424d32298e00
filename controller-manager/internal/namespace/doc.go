// Package namespace is the namespace controller: when a namespace is
// deleted (the apiserver sets its deletionTimestamp and phase Terminating
// and keeps it while spec.finalizers is not empty) it deletes everything
// in the namespace and, once all of it is gone, removes the "kubernetes"
// finalizer from spec.finalizers with an Update, which lets the apiserver
// remove the namespace.
package namespace
