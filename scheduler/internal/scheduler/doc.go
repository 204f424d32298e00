// Package scheduler is the scheduling loop: it pops a pod from the queue,
// runs its profile's plugins over a snapshot of the cache to pick a node,
// assumes the pod onto it and binds it asynchronously, and keeps the cache
// and the queue current from informers.
package scheduler
