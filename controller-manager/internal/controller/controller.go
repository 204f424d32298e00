package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/client/workqueue"
)

// Clock tells the time. Controllers take it from their Context so that tests
// can move time on without waiting.
type Clock interface {
	Now() time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// Context is what a controller is built from: the clients, the shared
// informers (all made before the factory starts), the event recorder, the
// logger and the clock. It is shared by every controller of a process.
type Context struct {
	Client    *client.Clientset
	Informers *informer.Factory
	Recorder  record.EventRecorder
	Logger    *zap.Logger
	Clock     Clock
	// Metrics, if set, count and time every sync.
	Metrics *Metrics
}

// Now is c.Clock's time, or the wall clock's when c has none.
func (c *Context) Now() time.Time {
	if c.Clock == nil {
		return time.Now()
	}
	return c.Clock.Now()
}

// Controller is one reconcile loop.
type Controller interface {
	// Name is the controller's name, as --controllers spells it.
	Name() string
	// Run starts workers and blocks until ctx ends and they have
	// stopped. The shared informers are started and synced first by the
	// caller.
	Run(ctx context.Context, workers int)
}

// SyncFunc reconciles the object key names. An error puts the key back on
// the queue with back-off; a nil error forgets the key's failures.
type SyncFunc func(ctx context.Context, key string) error

// RunWorkers runs workers goroutines that take keys from q and pass them to
// sync, until ctx ends; then it shuts q down and waits for them.
func RunWorkers(ctx context.Context, log *zap.Logger, q workqueue.Interface, workers int, syncFn SyncFunc) {
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for processNext(ctx, log, q, syncFn) {
			}
		}()
	}
	<-ctx.Done()
	q.ShutDown()
	wg.Wait()
}

func processNext(ctx context.Context, log *zap.Logger, q workqueue.Interface, sync SyncFunc) bool {
	key, quit := q.Get()
	if quit {
		return false
	}
	defer q.Done(key)
	start := time.Now()
	err := safeSync(ctx, key, sync)
	if err == nil {
		q.Forget(key)
		log.Debug("synced", zap.String("key", key), zap.Duration("took", time.Since(start)))
		return true
	}
	if ctx.Err() != nil {
		return true
	}
	if client.IsConflict(err) || client.IsNotFound(err) || client.IsAlreadyExists(err) {
		log.Debug("sync failed; requeued", zap.String("key", key), zap.Error(err))
	} else {
		log.Info("sync failed; requeued", zap.String("key", key), zap.Error(err))
	}
	q.AddRateLimited(key)
	return true
}

func safeSync(ctx context.Context, key string, sync SyncFunc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic syncing %s: %v", key, r)
		}
	}()
	return sync(ctx, key)
}

// Enqueue adds obj's key to q.
func Enqueue(q workqueue.Interface, obj workqueue.Object) { q.Add(workqueue.KeyOf(obj)) }
