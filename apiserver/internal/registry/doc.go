// Package registry is the apiserver's generic registry: one implementation of
// create, read, list, update, status update, delete and watch for every kind,
// over the storage package, with a Strategy per kind for its defaults and
// validation. It decides what each verb may change (Update never changes
// status, UpdateStatus never changes spec or metadata), keeps server-owned
// metadata (uid, creationTimestamp, generation, deletionTimestamp), and
// implements deletion through finalizers and graceful pod termination.
//
// Errors are *StatusError values; the gRPC layer turns them into codes.
package registry
