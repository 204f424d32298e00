package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/config"
	"github.com/gantryhq/gantry/client/daemon"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/leaderelection"
	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/controller-manager/internal/controller"
)

// NewControllerManagerCommand is the controller-manager's command.
func NewControllerManagerCommand() *cobra.Command {
	o := NewOptions()
	cmd := &cobra.Command{
		Use:           "controller-manager",
		Short:         "Runs the reconcile loops of Gantry's built-in workloads",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if errs := o.Validate(); len(errs) > 0 {
				err := errors.Join(errs...)
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return err
			}
			log, err := daemon.NewLogger("controller-manager", o.LogLevel)
			if err != nil {
				return err
			}
			defer func() { _ = log.Sync() }()
			cfg, err := o.Config(log)
			if err != nil {
				log.Error("configuration failed", zap.Error(err))
				return err
			}
			if err := Run(daemon.SignalContext(), cfg.Complete()); err != nil {
				log.Error("controller-manager failed", zap.Error(err))
				return err
			}
			return nil
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// Config is what Run needs, made from Options.
type Config struct {
	Options     *Options
	Client      *client.Clientset
	Logger      *zap.Logger
	Controllers []string
	Identity    string
	// Clock is the controllers' clock (default: the wall clock).
	Clock controller.Clock
	// HealthReady, if set, is told the health server's address once it
	// listens.
	HealthReady func(net.Addr)
}

// Config connects to the apiserver the kubeconfig names.
func (o *Options) Config(log *zap.Logger) (*Config, error) {
	cc, err := config.Open(o.Kubeconfig, o.Context)
	if err != nil {
		return nil, fmt.Errorf("load client config: %w", err)
	}
	cs, err := client.New(cc, client.WithLogger(log), client.WithUserAgent("controller-manager"))
	if err != nil {
		return nil, err
	}
	return o.ConfigFor(cs, log)
}

// ConfigFor makes a Config over an existing clientset (tests).
func (o *Options) ConfigFor(cs *client.Clientset, log *zap.Logger) (*Config, error) {
	names, err := EnabledControllers(o.Controllers)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	return &Config{Options: o, Client: cs, Logger: log, Controllers: names, Identity: host + "_" + uuid.NewString()}, nil
}

// CompletedConfig is a Config with every default filled in; only it can
// reach Run.
type CompletedConfig struct{ *Config }

// Complete fills in defaults.
func (c *Config) Complete() CompletedConfig {
	if c.Clock == nil {
		c.Clock = controller.RealClock{}
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return CompletedConfig{c}
}

// Run serves health and metrics and, while leading (or at once without
// leader election), runs the controllers until ctx ends.
func Run(ctx context.Context, cfg CompletedConfig) error {
	o := cfg.Options
	log := cfg.Logger
	health := daemon.NewHealth()
	metrics := controller.NewMetrics(health.Registry)
	leading := make(chan struct{})
	var leadOnce sync.Once
	health.AddReadyCheck("leader", func(context.Context) error {
		select {
		case <-leading:
			return nil
		default:
			if o.LeaderElect {
				return errors.New("not leading")
			}
			return errors.New("controllers not started")
		}
	})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	healthErr := make(chan error, 1)
	if o.Port != 0 {
		port := o.Port
		if port < 0 {
			port = 0
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			addr := net.JoinHostPort(o.BindAddress, strconv.Itoa(port))
			if err := health.Serve(ctx, addr, cfg.HealthReady); err != nil {
				healthErr <- err
				cancel()
			}
		}()
	}
	daemon.NotifyReady()
	lead := func(ctx context.Context) {
		leadOnce.Do(func() { close(leading) })
		runControllers(ctx, cfg, metrics)
	}
	if !o.LeaderElect {
		lead(ctx)
	} else {
		el, err := leaderelection.New(leaderelection.Config{
			Leases: cfg.Client.Leases(o.LeaderElectNS), Name: o.LeaderElectName, Identity: cfg.Identity,
			LeaseDuration: o.LeaseDuration, RenewDeadline: o.RenewDeadline, RetryPeriod: o.RetryPeriod,
			ReleaseOnCancel: true, Logger: log.Named("leaderelection"),
			Callbacks: leaderelection.Callbacks{
				OnStartedLeading: lead,
				OnStoppedLeading: func() { log.Info("stopped leading") },
			},
		})
		if err != nil {
			return err
		}
		el.Run(ctx)
		if ctx.Err() == nil {
			cancel()
			wg.Wait()
			return errors.New("leader election lost")
		}
	}
	daemon.NotifyStopping()
	cancel()
	wg.Wait()
	select {
	case err := <-healthErr:
		return err
	default:
	}
	return nil
}

// runControllers builds the controllers over one informer factory and an
// event recorder, starts them and blocks until ctx ends and they stop.
func runControllers(ctx context.Context, cfg CompletedConfig, metrics *controller.Metrics) {
	log := cfg.Logger
	rec := record.New(cfg.Client, record.Options{Component: "controller-manager", Logger: log})
	factory := informer.NewFactory(cfg.Client, informer.WithLogger(log))
	cc := &controller.Context{Client: cfg.Client, Informers: factory, Recorder: rec, Logger: log, Clock: cfg.Clock, Metrics: metrics}
	type running struct {
		c       controller.Controller
		workers int
	}
	var cs []running
	for _, x := range initializers {
		if !contains(cfg.Controllers, x.name) {
			continue
		}
		c, n := x.init(cc, cfg.Config)
		cs = append(cs, running{c, n})
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rec.Run(ctx)
	}()
	factory.Start(ctx)
	start := time.Now()
	if !factory.WaitForCacheSync(ctx) {
		wg.Wait()
		factory.Shutdown()
		return
	}
	log.Info("caches synced; starting controllers", zap.Duration("took", time.Since(start)), zap.Strings("controllers", cfg.Controllers))
	for _, r := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.c.Run(ctx, r.workers)
		}()
	}
	wg.Wait()
	factory.Shutdown()
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
