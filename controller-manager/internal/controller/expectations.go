package controller

import (
	"sync"
	"time"
)

// ExpectationsTimeout is how long expectations are trusted: a create or
// delete whose watch event never arrives holds a controller back no
// longer than this.
const ExpectationsTimeout = 5 * time.Minute

// Expectations remember, per controller key, the creates and deletes a
// controller has made and not yet seen in its cache, so that a stale cache
// never makes it create or delete twice (Kubernetes'
// UIDTrackingControllerExpectations). Safe for concurrent use.
type Expectations struct {
	mu  sync.Mutex
	m   map[string]*expectation
	now func() time.Time
}

type expectation struct {
	adds    int
	deletes map[string]struct{} // keys of pods expected to go
	at      time.Time
}

// NewExpectations returns empty expectations.
func NewExpectations() *Expectations {
	return &Expectations{m: map[string]*expectation{}, now: time.Now}
}

// Satisfied reports whether the controller key may act on its cache: every
// expected create and delete has been observed, the expectations expired,
// or none were ever set.
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	if !ok {
		return true
	}
	if x.adds <= 0 && len(x.deletes) == 0 {
		return true
	}
	return e.now().Sub(x.at) > ExpectationsTimeout
}

// ExpectCreations records that n creates are in flight for key (replacing
// earlier expectations).
func (e *Expectations) ExpectCreations(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &expectation{adds: n, deletes: map[string]struct{}{}, at: e.now()}
}

// ExpectDeletions records that the pods podKeys are being deleted for key
// (replacing earlier expectations).
func (e *Expectations) ExpectDeletions(key string, podKeys []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := &expectation{deletes: map[string]struct{}{}, at: e.now()}
	for _, k := range podKeys {
		x.deletes[k] = struct{}{}
	}
	e.m[key] = x
}

// CreationObserved lowers key's expected creates by one: a create was seen,
// or failed.
func (e *Expectations) CreationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok && x.adds > 0 {
		x.adds--
	}
}

// DeletionObserved removes podKey from key's expected deletes.
func (e *Expectations) DeletionObserved(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		delete(x.deletes, podKey)
	}
}

// Delete forgets key's expectations (its controller object is gone).
func (e *Expectations) Delete(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
