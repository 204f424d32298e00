package framework

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// DefaultParallelism is the number of goroutines Filter and Score use.
const DefaultParallelism = 16

// Parallelizer runs a function over pieces of work on several goroutines.
type Parallelizer struct {
	workers int
}

// NewParallelizer returns a parallelizer with n goroutines (at least 1).
func NewParallelizer(n int) Parallelizer {
	if n < 1 {
		n = 1
	}
	return Parallelizer{workers: n}
}

// Until calls fn(i) for every i in [0, pieces), in parallel, until done or
// ctx ends. Pieces are handed out in chunks so small work does not pay a
// goroutine hand-off per piece.
func (p Parallelizer) Until(ctx context.Context, pieces int, fn func(i int)) {
	if pieces <= 0 {
		return
	}
	workers := min(p.workers, runtime.GOMAXPROCS(0)*2, pieces)
	if workers < 1 {
		workers = 1
	}
	chunk := max(1, pieces/(workers*4))
	chunk = min(chunk, 64)
	var next atomic.Int64
	work := func() {
		for ctx.Err() == nil {
			start := int(next.Add(int64(chunk))) - chunk
			if start >= pieces {
				return
			}
			end := min(start+chunk, pieces)
			for i := start; i < end; i++ {
				fn(i)
			}
		}
	}
	if workers == 1 {
		work()
		return
	}
	var wg sync.WaitGroup
	wg.Add(workers - 1)
	for range workers - 1 {
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}
