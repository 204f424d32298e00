package framework

import (
	"bytes"
	"errors"
	"io"
	"sync"
)

// ErrNotFound is returned by [CycleState.Read] for a key never written.
var ErrNotFound = errors.New("not found")

// StateKey names a piece of cycle state; plugins use their own name.
type StateKey string

// StateData is a piece of cycle state.
type StateData interface {
	// Clone copies the data, for preemption's what-if runs. Data never
	// changed after PreFilter may return itself.
	Clone() StateData
}

// CycleState is what plugins share during one pod's scheduling cycle. It is
// safe for concurrent use (Filter and Score read it from many goroutines).
type CycleState struct {
	mu   sync.RWMutex
	data map[StateKey]StateData
	// SkipFilterPlugins and SkipScorePlugins name the plugins whose
	// PreFilter or PreScore returned Skip. Written by the framework only.
	SkipFilterPlugins map[string]struct{}
	SkipScorePlugins  map[string]struct{}
	// FilterPlugins, when not nil, are the Filter plugins that run for this
	// cycle (those not skipped), computed once at PreFilter. Written by the
	// framework only.
	FilterPlugins []FilterPlugin
}

// NewCycleState returns an empty state.
func NewCycleState() *CycleState {
	return &CycleState{data: map[StateKey]StateData{}}
}

// Read returns the data at key, or ErrNotFound.
func (c *CycleState) Read(key StateKey) (StateData, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if d, ok := c.data[key]; ok {
		return d, nil
	}
	return nil, ErrNotFound
}

// Write stores data at key.
func (c *CycleState) Write(key StateKey, d StateData) {
	c.mu.Lock()
	c.data[key] = d
	c.mu.Unlock()
}

// Delete removes key.
func (c *CycleState) Delete(key StateKey) {
	c.mu.Lock()
	delete(c.data, key)
	c.mu.Unlock()
}

// Clone copies the state (each piece through its Clone).
func (c *CycleState) Clone() *CycleState {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := NewCycleState()
	for k, v := range c.data {
		out.data[k] = v.Clone()
	}
	out.SkipFilterPlugins = c.SkipFilterPlugins
	out.SkipScorePlugins = c.SkipScorePlugins
	out.FilterPlugins = c.FilterPlugins
	return out
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
