// Package garbagecollector deletes objects whose owners are gone and
// carries out the apiserver's propagation policies, as Kubernetes' garbage
// collector does over ownerReferences:
//
//   - Background: the apiserver deletes the owner at once; an object all of
//     whose owners are gone is deleted (one with only some owners gone
//     loses the dangling references).
//   - Foreground: the apiserver keeps the owner, with deletionTimestamp and
//     the "foregroundDeletion" finalizer; its dependents are deleted and,
//     once none is left, the finalizer is removed, letting the owner go.
//   - Orphan: the apiserver keeps the owner with the "orphan" finalizer;
//     the owner's references are removed from its dependents, then the
//     finalizer.
//
// Instead of Kubernetes' dependency graph it keeps an index by owner uid on
// each shared informer and checks owners against the caches, confirming an
// owner's absence with a live read before deleting anything.
package garbagecollector
