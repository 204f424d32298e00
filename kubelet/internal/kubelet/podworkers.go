package kubelet

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"go.uber.org/zap"
)

// syncFunc syncs one pod. requeue > 0 asks for another sync that much
// later; done means the pod is gone and its worker may stop.
type syncFunc func(ctx context.Context, uid string) (requeue time.Duration, done bool, err error)

// podWorkers runs one goroutine per pod uid, so that a slow pod (pulling an
// image, waiting out a grace period) never delays another, and never two
// syncs of one pod at once. Wake-ups collapse: many enqueues while a sync
// runs give one more sync. Every pod is synced again resync (plus up to
// half of it, at random) after its last sync, so that the periodic syncs
// of many pods spread out instead of asking the runtime all at once.
type podWorkers struct {
	ctx    context.Context
	sync   syncFunc
	log    *zap.Logger
	resync time.Duration

	mu      sync.Mutex
	workers map[string]*podWorker
	wg      sync.WaitGroup
}

type podWorker struct {
	kick     chan struct{}
	timer    *time.Timer
	deadline time.Time
	errDelay time.Duration
}

func newPodWorkers(ctx context.Context, fn syncFunc, resync time.Duration, log *zap.Logger) *podWorkers {
	return &podWorkers{ctx: ctx, sync: fn, resync: resync, log: log, workers: map[string]*podWorker{}}
}

// enqueue wakes the worker of uid, starting one if needed.
func (p *podWorkers) enqueue(uid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx.Err() != nil {
		return
	}
	w := p.workers[uid]
	if w == nil {
		w = &podWorker{kick: make(chan struct{}, 1)}
		p.workers[uid] = w
		p.wg.Add(1)
		go p.run(uid, w)
	}
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// enqueueAfter wakes the worker of uid after d (the earliest of pending
// requests wins).
func (p *podWorkers) enqueueAfter(uid string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.workers[uid]
	if w == nil {
		return
	}
	p.scheduleLocked(uid, w, d)
}

func (p *podWorkers) scheduleLocked(uid string, w *podWorker, d time.Duration) {
	at := time.Now().Add(d)
	if w.timer != nil && !w.deadline.IsZero() && w.deadline.Before(at) && time.Until(w.deadline) > 0 {
		return
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	w.deadline = at
	w.timer = time.AfterFunc(d, func() {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	})
}

// uids lists the pods that have a worker.
func (p *podWorkers) uids() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.workers))
	for uid := range p.workers {
		out = append(out, uid)
	}
	return out
}

// wait waits for every worker to stop (after the context ends).
func (p *podWorkers) wait() { p.wg.Wait() }

func (p *podWorkers) run(uid string, w *podWorker) {
	defer p.wg.Done()
	for {
		select {
		case <-p.ctx.Done():
			p.mu.Lock()
			if w.timer != nil {
				w.timer.Stop()
			}
			p.mu.Unlock()
			return
		case <-w.kick:
		}
		requeue, done, err := p.sync(p.ctx, uid)
		if p.ctx.Err() != nil {
			return
		}
		if err != nil {
			w.errDelay = min(max(2*w.errDelay, 200*time.Millisecond), 30*time.Second)
			p.log.Info("pod sync failed", zap.String("uid", uid), zap.Duration("retryIn", w.errDelay), zap.Error(err))
			requeue = w.errDelay
			done = false
		} else {
			w.errDelay = 0
		}
		p.mu.Lock()
		if done && len(w.kick) == 0 {
			if w.timer != nil {
				w.timer.Stop()
			}
			delete(p.workers, uid)
			p.mu.Unlock()
			return
		}
		if p.resync > 0 {
			if next := p.resync + rand.N(p.resync/2+1); requeue <= 0 || next < requeue {
				requeue = next
			}
		}
		if requeue > 0 {
			p.scheduleLocked(uid, w, requeue)
		}
		p.mu.Unlock()
	}
}
