// Package informer keeps an indexed, watch-backed cache of one resource, in
// the shape of client-go's shared informers, with generics.
//
// An [Informer] lists its resource (in pages), then watches from the
// revision the list was read at. When the watch stream breaks it watches
// again from the last revision it saw, with back-off; when that revision is
// compacted (OutOfRange) it lists again and tells its handlers the
// difference as Add, Update and Delete events, so the cache always converges
// to what a fresh List returns. Handlers ([Handler]) are called in order,
// each on its own goroutine with an unbounded buffer, so a slow handler
// delays only itself; the cache is updated before handlers hear of a change.
//
// The cache is an [Indexer] keyed by "namespace/name" ("name" for
// cluster-scoped kinds) with a built-in namespace index; [Informer.AddIndexers]
// adds more (a pod's node, say). Read it through a [Lister].
//
// A [Factory] hands out one informer per Go type, resource and filter, so
// the controllers of one process share caches:
//
//	f := informer.NewFactory(cs)
//	pods := f.Pods()                                  // every pod
//	mine := informer.Filtered[*corev1.Pod](f, informer.Filter{FieldSelector: "spec.nodeName=" + node})
//	pods.AddEventHandler(informer.Handler[*corev1.Pod]{OnAdd: ..., OnUpdate: ..., OnDelete: ...})
//	f.Start(ctx)
//	if !f.WaitForCacheSync(ctx) { return ctx.Err() }
//
// Objects in the cache, and those handed to handlers, are shared by every
// user of the informer: never change them. proto.Clone an object before
// changing it, and write the copy.
package informer
