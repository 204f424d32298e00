package proxier

import (
	"context"
	"time"
)

// Runner calls a function when triggered, at most once per MinInterval, and
// at least once per MaxInterval (Kubernetes' BoundedFrequencyRunner).
// Triggers while it waits or runs collapse into one run.
type Runner struct {
	fn       func(ctx context.Context) error
	min, max time.Duration
	trigger  chan struct{}
	// OnError is told of failed runs; a failed run is retried after
	// MinInterval (at least one second).
	OnError func(error)
}

// NewRunner returns a Runner of fn.
func NewRunner(fn func(ctx context.Context) error, minInterval, maxInterval time.Duration) *Runner {
	return &Runner{fn: fn, min: minInterval, max: maxInterval, trigger: make(chan struct{}, 1)}
}

// Trigger asks for a run soon. It never blocks.
func (r *Runner) Trigger() {
	select {
	case r.trigger <- struct{}{}:
	default:
	}
}

// Run runs fn once at once, then on triggers and every MaxInterval, until ctx
// ends.
func (r *Runner) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.trigger:
		case <-timer.C:
		}
		if wait := r.min - time.Since(last); wait > 0 && !last.IsZero() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		// What arrived while waiting is covered by this run.
		select {
		case <-r.trigger:
		default:
		}
		last = time.Now()
		next := r.max
		if err := r.fn(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			if r.OnError != nil {
				r.OnError(err)
			}
			next = max(r.min, time.Second)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}
