package controllertest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/gantryhq/gantry/client/clienttest"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/record/recordtest"
	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/controller-manager/internal/controller"
)

// Clock is a settable clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now implements controller.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Step moves the clock on by d.
func (c *Clock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Epoch is the fixed time the harness' clock starts at.
var Epoch = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// Harness is a fake API with informers over it.
type Harness struct {
	T        testing.TB
	Server   *clienttest.Server
	Recorder *recordtest.Recorder
	Clock    *Clock
	Ctx      *controller.Context
	started  bool
}

// New seeds a fake API with objs and returns a harness; make the
// controller with h.Ctx, then call h.Start.
func New(t testing.TB, objs ...scheme.Object) *Harness {
	t.Helper()
	cs, s := clienttest.New(t, objs...)
	rec := &recordtest.Recorder{}
	clk := NewClock(Epoch)
	log := zaptest.NewLogger(t)
	return &Harness{
		T: t, Server: s, Recorder: rec, Clock: clk,
		Ctx: &controller.Context{
			Client:    cs,
			Informers: informer.NewFactory(cs, informer.WithBackoff(10*time.Millisecond, 100*time.Millisecond)),
			Recorder:  rec,
			Logger:    log,
			Clock:     clk,
		},
	}
}

// Start starts the informers, waits for their caches and clears the
// recorded actions.
func (h *Harness) Start() {
	h.T.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.T.Cleanup(func() {
		cancel()
		h.Ctx.Informers.Shutdown()
	})
	h.Ctx.Informers.Start(ctx)
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if !h.Ctx.Informers.WaitForCacheSync(wctx) {
		h.T.Fatal("caches did not sync")
	}
	h.Server.ClearActions()
	h.started = true
}

// Writes returns the writes made since the last call as "verb resource
// ns/name" strings (creates of generated names show the generateName),
// sorted, and clears the actions.
func (h *Harness) Writes() []string {
	var out []string
	for _, a := range h.Server.Actions() {
		switch a.Verb {
		case "get", "list", "watch":
			continue
		}
		name := a.Name
		if a.Object != nil {
			m := a.Object.GetMetadata()
			name = m.GetName()
			if name == "" {
				name = m.GetGenerateName()
			}
		}
		ns := a.Namespace
		if ns == "" && a.Object != nil {
			ns = a.Object.GetMetadata().GetNamespace()
		}
		s := fmt.Sprintf("%s %s %s", a.Verb, a.Resource, name)
		if ns != "" {
			s = fmt.Sprintf("%s %s %s/%s", a.Verb, a.Resource, ns, name)
		}
		if a.Delete != nil && a.Delete.GetPropagationPolicy() != "" {
			s += " " + a.Delete.GetPropagationPolicy()
		}
		out = append(out, s)
	}
	h.Server.ClearActions()
	sort.Strings(out)
	return out
}

// WaitFor polls cond until it holds or 10 s pass.
func (h *Harness) WaitFor(what string, cond func() bool) {
	h.T.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.T.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
