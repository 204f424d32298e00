// Package workqueue gives controllers client-go's rate-limited work queue
// (k8s.io/client-go/util/workqueue) with Gantry's defaults, and the
// "namespace/name" keys controllers put on it.
//
// The queue collapses duplicate keys, never hands one key to two workers at
// once, and backs off per key:
//
//	q := workqueue.New("replicaset")
//	defer q.ShutDown()
//	// handlers: q.Add(workqueue.KeyOf(rs))
//	// workers:
//	for {
//		key, quit := q.Get()
//		if quit { return }
//		if err := sync(ctx, key); err != nil { q.AddRateLimited(key) } else { q.Forget(key) }
//		q.Done(key)
//	}
package workqueue
