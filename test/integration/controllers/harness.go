package controllers

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/controller-manager/app"
)

// FakeClock is a settable clock for the controllers.
type FakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewFakeClock returns a clock at t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{t: t} }

// Now returns the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Step moves the clock on by d.
func (c *FakeClock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// CM is a controller-manager running in the test's process.
type CM struct {
	t      testing.TB
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// CMOptions tune StartCM.
type CMOptions struct {
	// Mutate changes the options (short periods are already set).
	Mutate func(o *app.Options)
	// Clock replaces the wall clock when not nil.
	Clock *FakeClock
	// Logger (default: none).
	Logger *zap.Logger
}

// TestOptions are controller-manager options with short periods, leader
// election on (with a short lease) and no health port.
func TestOptions() *app.Options {
	o := app.NewOptions()
	o.Port = 0
	// A generous renew deadline, so that a loaded machine (or -race) does
	// not lose the lease; a stopped controller-manager releases it, so a
	// restart takes over at once anyway.
	o.LeaseDuration = 15 * time.Second
	o.RenewDeadline = 10 * time.Second
	o.RetryPeriod = 100 * time.Millisecond
	o.NodeMonitorPeriod = 200 * time.Millisecond
	// Long enough that a loaded machine does not miss hollow nodes'
	// heartbeats; the node lifecycle tests shorten it.
	o.NodeMonitorGracePeriod = 20 * time.Second
	o.NodeEvictionRate = 100
	o.JobBackoffBase = 100 * time.Millisecond
	o.JobBackoffMax = time.Second
	o.CronJobResyncPeriod = 100 * time.Millisecond
	o.NamespaceSyncPeriod = 200 * time.Millisecond
	return o
}

// StartCM runs a controller-manager over cs until Stop or the end of the
// test.
func StartCM(t testing.TB, cs *client.Clientset, opts CMOptions) *CM {
	t.Helper()
	o := TestOptions()
	if opts.Mutate != nil {
		opts.Mutate(o)
	}
	if errs := o.Validate(); len(errs) > 0 {
		t.Fatalf("controller-manager options: %v", errs)
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
		// GANTRY_CM_LOG=<file> keeps the controller-manager's debug log,
		// to look into a failure.
		if path := os.Getenv("GANTRY_CM_LOG"); path != "" {
			cfg := zap.NewDevelopmentConfig()
			cfg.OutputPaths = []string{path}
			cfg.Level = zap.NewAtomicLevelAt(zap.DebugLevel)
			if l, err := cfg.Build(); err == nil {
				log = l
			}
		}
	}
	cfg, err := o.ConfigFor(cs, log)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Clock != nil {
		cfg.Clock = opts.Clock
	}
	ctx, cancel := context.WithCancel(context.Background())
	cm := &CM{t: t, cancel: cancel, done: make(chan error, 1)}
	go func() { cm.done <- app.Run(ctx, cfg.Complete()) }()
	t.Cleanup(cm.Stop)
	return cm
}

// Stop stops the controller-manager and waits for it. It fails the test
// if the controller-manager had stopped by itself (lost its lease).
func (c *CM) Stop() {
	c.once.Do(func() {
		c.cancel()
		if err := <-c.done; err != nil {
			c.t.Errorf("controller-manager: %v", err)
		}
	})
}
