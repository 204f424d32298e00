package leaderelection

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gantryhq/gantry/client"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// Defaults of Config, as Kubernetes' components use.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// jitterFactor stretches each RetryPeriod wait by up to this fraction.
const jitterFactor = 1.2

// Config configures an Elector.
type Config struct {
	// Leases is the typed client of the Lease's namespace
	// (cs.Leases("kube-system")).
	Leases *client.Typed[*coordinationv1.Lease]
	// Name of the Lease.
	Name string
	// Identity of this candidate; unique among the candidates
	// ("<hostname>_<random>").
	Identity string

	// LeaseDuration is how long candidates wait, after they last saw the
	// lease renewed, before taking it over (default 15s).
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps trying to renew before it
	// gives up leadership (default 10s). Must be less than LeaseDuration.
	RenewDeadline time.Duration
	// RetryPeriod is the wait between tries (default 2s). Must be less than
	// RenewDeadline/1.2.
	RetryPeriod time.Duration

	// ReleaseOnCancel gives the lease up when Run's context ends while
	// leading, so another candidate takes over at once instead of after
	// LeaseDuration. OnStartedLeading must have returned by then, which
	// Run waits for.
	ReleaseOnCancel bool

	Callbacks Callbacks
	// Logger (default: none).
	Logger *zap.Logger
}

// Callbacks are what the Elector calls.
type Callbacks struct {
	// OnStartedLeading runs, on its own goroutine, when this candidate
	// becomes leader. Its context is cancelled when leadership is lost or
	// Run's context ends; it must then return promptly. Required.
	OnStartedLeading func(ctx context.Context)
	// OnStoppedLeading is called when this candidate, having led, stops
	// leading (after OnStartedLeading has returned). Optional.
	OnStoppedLeading func()
	// OnNewLeader is called, on its own goroutine, when the holder of the
	// lease is seen to change, with the new holder's identity (possibly this
	// candidate's). Optional.
	OnNewLeader func(identity string)
}

// Elector runs one candidate's side of the election.
type Elector struct {
	cfg Config
	log *zap.Logger

	leader atomic.Bool

	mu           sync.Mutex
	observed     *coordinationv1.LeaseSpec // the lease spec last seen
	observedTime time.Time                 // when it was last seen to change
	observedRV   string
}

// New checks cfg, fills in defaults and returns an Elector.
func New(cfg Config) (*Elector, error) {
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = DefaultLeaseDuration
	}
	if cfg.RenewDeadline == 0 {
		cfg.RenewDeadline = DefaultRenewDeadline
	}
	if cfg.RetryPeriod == 0 {
		cfg.RetryPeriod = DefaultRetryPeriod
	}
	var errs []error
	if cfg.Leases == nil {
		errs = append(errs, errors.New("leaderelection: Leases is required"))
	}
	if cfg.Name == "" {
		errs = append(errs, errors.New("leaderelection: Name is required"))
	}
	if cfg.Identity == "" {
		errs = append(errs, errors.New("leaderelection: Identity is required"))
	}
	if cfg.Callbacks.OnStartedLeading == nil {
		errs = append(errs, errors.New("leaderelection: Callbacks.OnStartedLeading is required"))
	}
	if cfg.LeaseDuration <= cfg.RenewDeadline {
		errs = append(errs, fmt.Errorf("leaderelection: LeaseDuration (%v) must be greater than RenewDeadline (%v)", cfg.LeaseDuration, cfg.RenewDeadline))
	}
	if float64(cfg.RenewDeadline) <= jitterFactor*float64(cfg.RetryPeriod) {
		errs = append(errs, fmt.Errorf("leaderelection: RenewDeadline (%v) must be greater than %v*RetryPeriod (%v)", cfg.RenewDeadline, jitterFactor, cfg.RetryPeriod))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.With(zap.String("lease", cfg.Leases.Namespace()+"/"+cfg.Name), zap.String("identity", cfg.Identity))
	return &Elector{cfg: cfg, log: log}, nil
}

// Run campaigns until this candidate leads, leads until leadership is lost
// or ctx ends, and returns. To campaign again, call Run again (most daemons
// exit instead).
func (e *Elector) Run(ctx context.Context) {
	acquired, ok := e.acquire(ctx)
	if !ok {
		return
	}
	leadCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.cfg.Callbacks.OnStartedLeading(leadCtx)
	}()
	e.renew(leadCtx, acquired)
	e.leader.Store(false)
	cancel()
	<-done
	if ctx.Err() != nil && e.cfg.ReleaseOnCancel {
		e.release()
	}
	if e.cfg.Callbacks.OnStoppedLeading != nil {
		e.cfg.Callbacks.OnStoppedLeading()
	}
}

// IsLeader reports whether this candidate leads now.
func (e *Elector) IsLeader() bool { return e.leader.Load() }

// Leader is the identity of the holder this candidate last saw ("" if none).
func (e *Elector) Leader() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.observed.GetHolderIdentity()
}

// acquire tries every RetryPeriod until it holds the lease, and returns
// when the successful try started; false if ctx ended first.
func (e *Elector) acquire(ctx context.Context) (time.Time, bool) {
	e.log.Info("attempting to acquire leader lease")
	for {
		start := time.Now()
		if e.tryAcquireOrRenew(ctx) {
			e.leader.Store(true)
			e.log.Info("acquired leader lease")
			return start, true
		}
		if !sleep(ctx, jittered(e.cfg.RetryPeriod)) {
			return time.Time{}, false
		}
	}
}

// renew keeps the lease until no renewal has succeeded for RenewDeadline
// since the start of the last successful one (at last), or ctx ends.
func (e *Elector) renew(ctx context.Context, last time.Time) {
	for sleep(ctx, e.cfg.RetryPeriod) {
		deadline, cancel := context.WithDeadline(ctx, last.Add(e.cfg.RenewDeadline))
		renewed := false
		for {
			start := time.Now()
			if e.tryAcquireOrRenew(deadline) {
				last, renewed = start, true
				break
			}
			if !sleep(deadline, e.cfg.RetryPeriod) {
				break
			}
		}
		cancel()
		if !renewed {
			if ctx.Err() == nil {
				e.log.Warn("failed to renew leader lease within the renew deadline; stopping leading")
			}
			return
		}
	}
}

// tryAcquireOrRenew makes one attempt to take or renew the lease.
func (e *Elector) tryAcquireOrRenew(ctx context.Context) bool {
	now := time.Now()
	leases := e.cfg.Leases
	lease, err := leases.Get(ctx, e.cfg.Name)
	if client.IsNotFound(err) {
		created, err := leases.Create(ctx, &coordinationv1.Lease{
			Metadata: &metav1.ObjectMeta{Name: e.cfg.Name},
			Spec: &coordinationv1.LeaseSpec{
				HolderIdentity:       proto.String(e.cfg.Identity),
				LeaseDurationSeconds: proto.Int32(e.leaseSeconds()),
				AcquireTime:          timestamppb.New(now),
				RenewTime:            timestamppb.New(now),
				LeaseTransitions:     proto.Int32(0),
			},
		})
		if err != nil {
			e.log.Debug("create lease failed", zap.Error(err))
			return false
		}
		e.observe(created, now)
		return true
	}
	if err != nil {
		e.log.Debug("get lease failed", zap.Error(err))
		return false
	}
	e.observe(lease, now)

	spec := lease.GetSpec()
	holder := spec.GetHolderIdentity()
	if holder != "" && holder != e.cfg.Identity && !e.expired(now) {
		return false
	}
	next := proto.Clone(lease).(*coordinationv1.Lease)
	if next.Spec == nil {
		next.Spec = &coordinationv1.LeaseSpec{}
	}
	ns := next.Spec
	if holder != e.cfg.Identity {
		ns.HolderIdentity = proto.String(e.cfg.Identity)
		ns.AcquireTime = timestamppb.New(now)
		ns.LeaseTransitions = proto.Int32(spec.GetLeaseTransitions() + 1)
	}
	ns.RenewTime = timestamppb.New(now)
	ns.LeaseDurationSeconds = proto.Int32(e.leaseSeconds())
	updated, err := leases.Update(ctx, next) // next carries the resourceVersion read
	if err != nil {
		e.log.Debug("update lease failed", zap.Error(err))
		return false
	}
	e.observe(updated, now)
	return true
}

// observe records the lease as seen at now; the expiry clock restarts only
// when the record changed.
func (e *Elector) observe(l *coordinationv1.Lease, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	spec := l.GetSpec()
	if e.observed != nil && proto.Equal(e.observed, spec) {
		return
	}
	oldHolder := e.observed.GetHolderIdentity()
	e.observed = proto.Clone(spec).(*coordinationv1.LeaseSpec)
	if e.observed == nil {
		e.observed = &coordinationv1.LeaseSpec{}
	}
	e.observedTime = now
	e.observedRV = l.GetMetadata().GetResourceVersion()
	if h := spec.GetHolderIdentity(); h != oldHolder && h != "" {
		e.log.Info("new leader observed", zap.String("leader", h))
		if cb := e.cfg.Callbacks.OnNewLeader; cb != nil {
			go cb(h)
		}
	}
}

// expired reports whether the observed holder's lease has run out by the
// local clock.
func (e *Elector) expired(now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := e.cfg.LeaseDuration
	if s := e.observed.GetLeaseDurationSeconds(); s > 0 {
		d = time.Duration(s) * time.Second
	}
	return !e.observedTime.Add(d).After(now)
}

// release gives the lease up if this candidate still holds it.
func (e *Elector) release() {
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.RenewDeadline)
	defer cancel()
	lease, err := e.cfg.Leases.Get(ctx, e.cfg.Name)
	if err != nil {
		e.log.Warn("release lease: get failed", zap.Error(err))
		return
	}
	if lease.GetSpec().GetHolderIdentity() != e.cfg.Identity {
		return
	}
	now := timestamppb.Now()
	next := proto.Clone(lease).(*coordinationv1.Lease)
	next.Spec.HolderIdentity = proto.String("")
	next.Spec.LeaseDurationSeconds = proto.Int32(1)
	next.Spec.AcquireTime = now
	next.Spec.RenewTime = now
	if _, err := e.cfg.Leases.Update(ctx, next); err != nil {
		e.log.Warn("release lease failed", zap.Error(err))
		return
	}
	e.log.Info("released leader lease")
}

// leaseSeconds is LeaseDuration in whole seconds, rounded up so that others
// never wait less than this candidate assumes.
func (e *Elector) leaseSeconds() int32 {
	return int32((e.cfg.LeaseDuration + time.Second - 1) / time.Second)
}

func jittered(d time.Duration) time.Duration {
	return d + time.Duration(rand.Float64()*(jitterFactor-1)*float64(d))
}

// sleep waits d; false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
