package app

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/gantryhq/gantry/client"
	clientconfig "github.com/gantryhq/gantry/client/config"
	"github.com/gantryhq/gantry/client/daemon"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/leaderelection"
	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/config"
	"github.com/gantryhq/gantry/scheduler/internal/plugins"
	"github.com/gantryhq/gantry/scheduler/internal/scheduler"
)

// NewSchedulerCommand returns the scheduler's command, with the built-in
// plugins and those opts register.
func NewSchedulerCommand(opts ...Option) *cobra.Command {
	o := NewOptions()
	cmd := &cobra.Command{
		Use:           "scheduler",
		Short:         "Bind pending pods to nodes",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: daemon.RunE("scheduler", o.Validate, func(ctx context.Context) error {
			cfg, err := o.Config(opts...)
			if err != nil {
				return err
			}
			return Run(ctx, cfg.Complete())
		}),
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// Config is the scheduler's configuration, built from validated Options.
type Config struct {
	Options   *Options
	Component *config.SchedulerConfiguration
	Client    *clientconfig.Config
	Registry  framework.Registry
	Logger    *zap.Logger
	// Ready, when set, is called with the health server's address once the
	// scheduler's caches have synced (nil address when it is off).
	Ready func(healthAddr net.Addr)
}

// Config loads the configuration file and the client config, and builds
// the plugin registry.
func (o *Options) Config(opts ...Option) (*Config, error) {
	comp := config.Default()
	if o.ConfigFile != "" {
		c, err := config.Load(o.ConfigFile)
		if err != nil {
			return nil, err
		}
		comp = c
	}
	if o.LeaderElect != nil {
		v := *o.LeaderElect
		comp.LeaderElection.LeaderElect = &v
	}
	cc, err := clientconfig.Open(o.Kubeconfig, o.Context)
	if err != nil {
		return nil, fmt.Errorf("client config: %w", err)
	}
	reg := plugins.NewInTreeRegistry()
	for _, opt := range opts {
		if err := opt(reg); err != nil {
			return nil, err
		}
	}
	log, err := daemon.NewLogger("scheduler", o.LogLevel)
	if err != nil {
		return nil, err
	}
	return &Config{Options: o, Component: comp, Client: cc, Registry: reg, Logger: log}, nil
}

// CompletedConfig is a Config ready to run.
type CompletedConfig struct{ *completed }

type completed struct{ Config }

// Complete fills in what is left.
func (c *Config) Complete() CompletedConfig {
	cc := &completed{*c}
	if cc.Logger == nil {
		cc.Logger = zap.NewNop()
	}
	if cc.Registry == nil {
		cc.Registry = plugins.NewInTreeRegistry()
	}
	if cc.Component == nil {
		cc.Component = config.Default()
	}
	if cc.Options.Identity == "" {
		host, _ := os.Hostname()
		cc.Options.Identity = host + "_" + strconv.FormatUint(rand.Uint64(), 36)
	}
	return CompletedConfig{cc}
}

// Run runs the scheduler until ctx ends, or until it loses leadership
// (then it returns an error and the process should exit).
func Run(ctx context.Context, c CompletedConfig) error {
	log := c.Logger
	cs, err := client.New(c.Client, client.WithLogger(log.Named("client")), client.WithUserAgent("scheduler"))
	if err != nil {
		return err
	}
	defer cs.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	health := daemon.NewHealth()
	// One recorder per profile, so that events name the profile's
	// schedulerName as their source; a deep queue, so that a burst of
	// thousands of bindings does not drop events.
	var recorders []*record.Recorder
	recorderFor := func(schedulerName string) record.EventRecorder {
		r := record.New(cs, record.Options{Component: schedulerName, Instance: c.Options.Identity, QueueSize: 16384, Logger: log})
		recorders = append(recorders, r)
		return r
	}
	factory := informer.NewFactory(cs, informer.WithLogger(log))
	s, inf, err := scheduler.Setup(ctx, scheduler.SetupOptions{
		ClientSet: cs, Factory: factory, Config: c.Component, Registry: c.Registry,
		EventRecorderFor: recorderFor, Registerer: health.Registry, Logger: log,
	})
	if err != nil {
		return err
	}
	health.AddReadyCheck("informers", func(context.Context) error {
		if !inf.HasSynced() {
			return errors.New("informers not synced")
		}
		return nil
	})

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for _, r := range recorders {
		wg.Add(1)
		go func() { defer wg.Done(); r.Run(ctx) }()
	}
	healthAddr := make(chan net.Addr, 1)
	if c.Options.Port >= 0 {
		addr := net.JoinHostPort(c.Options.BindAddress, strconv.Itoa(c.Options.Port))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := health.Serve(ctx, addr, func(a net.Addr) { healthAddr <- a }); err != nil && ctx.Err() == nil {
				log.Error("health server", zap.Error(err))
				cancel()
			}
		}()
	} else {
		healthAddr <- nil
	}
	factory.Start(ctx)
	// Shutdown waits for the informers, which stop only once ctx is
	// cancelled: cancel first (deferred calls run last-in first-out).
	defer func() { cancel(); factory.Shutdown() }()
	if !factory.WaitForCacheSync(ctx) {
		return ctx.Err()
	}
	var addr net.Addr
	select {
	case addr = <-healthAddr:
	case <-ctx.Done():
		return nil
	}
	daemon.NotifyReady()
	if c.Ready != nil {
		c.Ready(addr)
	}
	log.Info("caches synced")

	le := c.Component.LeaderElection
	if le.LeaderElect == nil || !*le.LeaderElect {
		s.Run(ctx)
		return nil
	}
	var lost error
	elector, err := leaderelection.New(leaderelection.Config{
		Leases:          cs.Leases(le.ResourceNamespace),
		Name:            le.ResourceName,
		Identity:        c.Options.Identity,
		LeaseDuration:   le.LeaseDuration.Duration,
		RenewDeadline:   le.RenewDeadline.Duration,
		RetryPeriod:     le.RetryPeriod.Duration,
		ReleaseOnCancel: true,
		Logger:          log.Named("leaderelection"),
		Callbacks: leaderelection.Callbacks{
			OnStartedLeading: func(ctx context.Context) {
				log.Info("leading: scheduling")
				s.Run(ctx)
			},
			OnStoppedLeading: func() {
				if ctx.Err() == nil {
					lost = errors.New("leader election lost")
				}
			},
		},
	})
	if err != nil {
		return err
	}
	elector.Run(ctx)
	return lost
}
