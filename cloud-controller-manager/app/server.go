package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/gantryhq/gantry/client/daemon"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/leaderelection"
	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/controller"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/controller/cloudnode"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/controller/nodelifecycle"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/controller/route"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/controller/service"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider/docker"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider/fake"
)

// Option changes the command NewCommand builds.
type Option func(*commandOptions)

type commandOptions struct {
	regs     []provider.Registration
	builtins bool
	ready    func(net.Addr)
}

// WithProvider registers a provider beside the built-in ones.
func WithProvider(reg provider.Registration) Option {
	return func(o *commandOptions) { o.regs = append(o.regs, reg) }
}

// WithoutBuiltinProviders leaves the built-in providers (fake, docker) out,
// for a binary that ships only its own.
func WithoutBuiltinProviders() Option { return func(o *commandOptions) { o.builtins = false } }

// WithHealthReady is called with the address health is served on once it
// listens (tests ask for --secure-port=0).
func WithHealthReady(fn func(net.Addr)) Option { return func(o *commandOptions) { o.ready = fn } }

// BuiltinProviders are the providers every binary has unless
// WithoutBuiltinProviders: the fake (empty) and docker.
func BuiltinProviders() []provider.Registration {
	return []provider.Registration{fake.Registration(fake.New()), docker.Registration()}
}

// NewCommand builds the cloud-controller-manager command.
func NewCommand(opts ...Option) *cobra.Command {
	co := commandOptions{builtins: true}
	for _, o := range opts {
		o(&co)
	}
	regs := co.regs
	if co.builtins {
		regs = append(BuiltinProviders(), regs...)
	}
	reg, regErr := provider.NewRegistry(regs...)
	if regErr != nil {
		reg, _ = provider.NewRegistry()
	}
	o := NewOptions(reg)
	cmd := &cobra.Command{
		Use:   "cloud-controller-manager",
		Short: "Runs the cloud controllers (nodes, load balancers, routes) against a cloud provider",
		Long: `The cloud-controller-manager initializes nodes from their instances, deletes nodes whose
instances are gone, makes load balancers for type: LoadBalancer services and routes for
node pod CIDRs, through the provider --cloud-provider names.`,
		SilenceUsage: true,
		Args:         cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if regErr != nil {
				return regErr
			}
			if errs := o.Validate(); len(errs) > 0 {
				return errors.Join(errs...)
			}
			cfg, err := o.Config(cmd.Context())
			if err != nil {
				return err
			}
			defer cfg.Client.Close()
			return Run(cmd.Context(), cfg.Complete(), co.ready)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// Run serves health and metrics, takes the leader lease (with
// --leader-elect) and runs the enabled controllers until ctx ends.
func Run(ctx context.Context, cc CompletedConfig, healthReady func(net.Addr)) error {
	log := cc.Logger
	o := cc.Options
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	health := daemon.NewHealth()
	// A standby replica (not leading) is ready; the leader is ready once
	// its caches have synced.
	var leading, synced atomic.Bool
	health.AddReadyCheck("informer-sync", func(context.Context) error {
		if leading.Load() && !synced.Load() {
			return errors.New("caches not synced yet")
		}
		return nil
	})
	errc := make(chan error, 2)
	go func() {
		addr := net.JoinHostPort(o.BindAddress, strconv.Itoa(o.SecurePort))
		if err := health.Serve(ctx, addr, healthReady); err != nil {
			errc <- err
			cancel()
		}
	}()

	recorder := record.New(cc.Client, record.Options{Component: "cloud-controller-manager", Logger: log.Named("events")})
	go recorder.Run(ctx)

	lead := func(ctx context.Context) {
		leading.Store(true)
		defer leading.Store(false)
		if err := runControllers(ctx, cc, recorder, &synced); err != nil {
			errc <- err
		}
	}
	daemon.NotifyReady()
	if !o.LeaderElect {
		lead(ctx)
	} else {
		el, err := leaderelection.New(leaderelection.Config{
			Leases:          cc.Client.Leases(o.LeaderElectNamespace),
			Name:            o.LeaderElectName,
			Identity:        cc.Identity,
			LeaseDuration:   o.LeaseDuration,
			RenewDeadline:   o.RenewDeadline,
			RetryPeriod:     o.RetryPeriod,
			ReleaseOnCancel: true,
			Logger:          log.Named("leaderelection"),
			Callbacks:       leaderelection.Callbacks{OnStartedLeading: lead},
		})
		if err != nil {
			return err
		}
		el.Run(ctx)
		if ctx.Err() == nil {
			return errors.New("lost the leader lease")
		}
	}
	daemon.NotifyStopping()
	select {
	case err := <-errc:
		return err
	default:
	}
	log.Info("stopped")
	return nil
}

// runControllers starts the informers and the enabled controllers whose
// provider capability exists, and waits for them.
func runControllers(ctx context.Context, cc CompletedConfig, recorder record.EventRecorder, synced *atomic.Bool) error {
	log := cc.Logger
	o := cc.Options
	factory := informer.NewFactory(cc.Client, informer.WithLogger(log))
	p := cc.Provider
	var runs []func(context.Context) error
	for _, name := range cc.Controllers {
		switch name {
		case controller.CloudNode, controller.CloudNodeLifecycle:
			inst, ok := p.Instances()
			if !ok {
				log.Warn("provider has no instances; controller not started", zap.String("controller", name))
				continue
			}
			if name == controller.CloudNode {
				runs = append(runs, cloudnode.New(cloudnode.Config{Client: cc.Client, Informers: factory, Instances: inst,
					Recorder: recorder, Logger: log, Workers: o.ConcurrentNodeSyncs, StatusUpdatePeriod: o.NodeStatusUpdateFrequency}).Run)
			} else {
				runs = append(runs, nodelifecycle.New(nodelifecycle.Config{Client: cc.Client, Informers: factory, Instances: inst,
					Recorder: recorder, Logger: log, MonitorPeriod: o.NodeMonitorPeriod}).Run)
			}
		case controller.Service:
			lb, ok := p.LoadBalancer()
			if !ok {
				log.Warn("provider has no load balancers; controller not started", zap.String("controller", name))
				continue
			}
			runs = append(runs, service.New(service.Config{Client: cc.Client, Informers: factory, LoadBalancer: lb,
				Recorder: recorder, Logger: log, ClusterName: o.ClusterName, Workers: o.ConcurrentServiceSyncs,
				ResyncPeriod: o.ServiceResyncPeriod}).Run)
		case controller.Route:
			routes, ok := p.Routes()
			if !ok {
				log.Info("provider does not support routes; route controller not started", zap.String("provider", p.ProviderName()))
				continue
			}
			runs = append(runs, route.New(route.Config{Client: cc.Client, Informers: factory, Routes: routes,
				Recorder: recorder, Logger: log, ClusterName: o.ClusterName, ReconcilePeriod: o.RouteReconcilePeriod}).Run)
		}
	}
	factory.Start(ctx)
	defer factory.Shutdown()
	if !factory.WaitForCacheSync(ctx) {
		return nil
	}
	synced.Store(true)
	defer synced.Store(false)
	log.Info("controllers running", zap.Strings("controllers", cc.Controllers), zap.String("provider", p.ProviderName()))
	var wg sync.WaitGroup
	errs := make([]error, len(runs))
	for i, run := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = run(ctx)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("controllers: %w", err)
	}
	return nil
}
