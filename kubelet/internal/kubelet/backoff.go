package kubelet

import (
	"sync"
	"time"
)

// backoff is the per-key exponential back-off of Kubernetes' flowcontrol
// Backoff, as the kubelet uses it for CrashLoopBackOff and
// ImagePullBackOff: the first retry is immediate, each later one waits twice
// as long as the one before (initial, 2×initial, ... up to max), and a key
// that stayed quiet for 2×max starts over.
type backoff struct {
	initial, max time.Duration
	mu           sync.Mutex
	entries      map[string]*backoffEntry
}

type backoffEntry struct {
	delay time.Duration
	// at is the time the delay counts from (the container's finish, or the
	// failed pull).
	at time.Time
}

func newBackoff(initial, max time.Duration) *backoff {
	return &backoff{initial: initial, max: max, entries: map[string]*backoffEntry{}}
}

// inBackoff reports whether key must still wait at now, counting from since
// (when the thing last failed), and for how long.
func (b *backoff) inBackoff(key string, since, now time.Time) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[key]
	if e == nil {
		return false, 0
	}
	if now.Sub(e.at) > 2*b.max+e.delay {
		delete(b.entries, key)
		return false, 0
	}
	if wait := e.delay - now.Sub(since); wait > 0 {
		return true, wait
	}
	return false, 0
}

// next records a retry of key at (counting from) since: the next wait is
// double the last (initial for the first), capped at max.
func (b *backoff) next(key string, since time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[key]
	switch {
	case e == nil || since.Sub(e.at) > 2*b.max+e.delay:
		e = &backoffEntry{delay: b.initial}
		b.entries[key] = e
	default:
		e.delay = min(2*e.delay, b.max)
	}
	e.at = since
	return e.delay
}

// reset forgets key.
func (b *backoff) reset(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.entries, key)
}

// resetPrefix forgets every key starting with prefix (a pod's uid).
func (b *backoff) resetPrefix(prefix string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.entries {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			delete(b.entries, k)
		}
	}
}

// current is key's present delay (0 when none).
func (b *backoff) current(key string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.entries[key]; e != nil {
		return e.delay
	}
	return 0
}

// since is when key's delay counts from (zero when none).
func (b *backoff) since(key string) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.entries[key]; e != nil {
		return e.at
	}
	return time.Time{}
}
