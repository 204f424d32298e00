package controller

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/client/workqueue"
)

// Names of the controllers, as --controllers spells them.
const (
	CloudNode          = "cloud-node"
	CloudNodeLifecycle = "cloud-node-lifecycle"
	Service            = "service"
	Route              = "route"
)

// All lists every controller, in start order.
var All = []string{CloudNode, CloudNodeLifecycle, Service, Route}

// SyncFunc reconciles one key. An error requeues the key with back-off.
type SyncFunc func(ctx context.Context, key string) error

// RunWorkers runs n workers that take keys from q and sync them until ctx
// ends, then shuts q down and waits for the workers.
func RunWorkers(ctx context.Context, q workqueue.Interface, n int, syncFn SyncFunc, log *zap.Logger) {
	var wg sync.WaitGroup
	for range max(n, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for processNext(ctx, q, syncFn, log) {
			}
		}()
	}
	<-ctx.Done()
	q.ShutDown()
	wg.Wait()
}

func processNext(ctx context.Context, q workqueue.Interface, syncFn SyncFunc, log *zap.Logger) bool {
	key, quit := q.Get()
	if quit {
		return false
	}
	defer q.Done(key)
	start := time.Now()
	if err := syncFn(ctx, key); err != nil {
		if ctx.Err() != nil {
			return true
		}
		log.Info("sync failed; requeued", zap.String("key", key), zap.Int("retries", q.NumRequeues(key)), zap.Error(err))
		q.AddRateLimited(key)
		return true
	}
	log.Debug("synced", zap.String("key", key), zap.Duration("took", time.Since(start)))
	q.Forget(key)
	return true
}

// Every calls fn every period until ctx ends, first at once.
func Every(ctx context.Context, period time.Duration, fn func(ctx context.Context)) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		fn(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// NopRecorder drops events; controllers use it when given no recorder.
type NopRecorder struct{}

var _ record.EventRecorder = NopRecorder{}

// Event implements record.EventRecorder.
func (NopRecorder) Event(scheme.Object, string, string, string) {}

// Eventf implements record.EventRecorder.
func (NopRecorder) Eventf(scheme.Object, string, string, string, ...any) {}
