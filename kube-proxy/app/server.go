package app

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/config"
	"github.com/gantryhq/gantry/client/daemon"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/kube-proxy/internal/iptables"
	"github.com/gantryhq/gantry/kube-proxy/internal/proxier"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// NewProxyCommand returns kube-proxy's cobra command.
func NewProxyCommand() *cobra.Command {
	opts := NewOptions()
	cmd := &cobra.Command{
		Use:           "kube-proxy",
		Short:         "Turn Services into iptables rules on this node",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: daemon.RunE("kube-proxy", opts.Validate, func(ctx context.Context) error {
			cfg, err := opts.Config()
			if err != nil {
				return err
			}
			return Run(ctx, cfg.Complete())
		}),
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

// Config is kube-proxy's configuration, built from validated Options.
type Config struct {
	Options  *Options
	Logger   *zap.Logger
	Hostname string
	// NetNS, when set, runs every iptables command inside that network
	// namespace (ip netns exec) instead of the host's: tests use it.
	NetNS string
	// Ready, when set, is called with the bound health and metrics
	// addresses once they listen.
	Ready func(healthz, metrics net.Addr)
}

// Config turns validated options into a Config.
func (o *Options) Config() (*Config, error) {
	logger, err := daemon.NewLogger("kube-proxy", o.LogLevel)
	if err != nil {
		return nil, err
	}
	host, err := o.hostname()
	if err != nil {
		return nil, fmt.Errorf("hostname: %w", err)
	}
	return &Config{Options: o, Logger: logger, Hostname: host}, nil
}

// CompletedConfig is a Config with every default filled in.
type CompletedConfig struct{ *Config }

// Complete fills in defaults.
func (c *Config) Complete() CompletedConfig {
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return CompletedConfig{c}
}

// Run runs kube-proxy until ctx ends (or, with --cleanup, cleans up).
func Run(ctx context.Context, cfg CompletedConfig) error {
	o, logger := cfg.Options, cfg.Logger
	ipt, err := iptables.New(cfg.NetNS, iptables.BackendDefault)
	if err != nil {
		return err
	}
	defer ipt.Close()
	logger.Info("iptables", zap.String("version", ipt.Version()), zap.String("netns", cfg.NetNS))
	if o.Cleanup {
		if err := proxier.Cleanup(ctx, ipt); err != nil {
			return fmt.Errorf("cleanup: %w", err)
		}
		logger.Info("removed kube-proxy's iptables rules")
		return nil
	}

	ccfg, err := config.Open(o.Kubeconfig, "")
	if err != nil {
		return err
	}
	cs, err := client.New(ccfg, client.WithLogger(logger.Named("client")), client.WithUserAgent("kube-proxy"))
	if err != nil {
		return err
	}
	defer cs.Close()

	hz := daemon.NewHealth()
	p := proxier.New(ipt, proxier.Options{MasqueradeAll: o.MasqueradeAll, ClusterCIDR: o.ClusterCIDR, RandomFully: true, LocalhostNodePorts: o.LocalhostNodePorts, Hostname: cfg.Hostname},
		proxier.NewMetrics(hz.Registry), logger.Named("proxier"))
	started := time.Now()
	maxDelay := 2*o.SyncPeriod + 30*time.Second
	hz.AddLiveCheck("proxy-rules", func(context.Context) error {
		if time.Since(started) < maxDelay {
			return nil
		}
		return p.Healthy(maxDelay)
	})
	runner := proxier.NewRunner(p.Sync, o.MinSyncPeriod, o.SyncPeriod)
	runner.OnError = func(err error) { logger.Error("sync proxy rules", zap.Error(err)) }
	p.OnChange = runner.Trigger

	f := informer.NewFactory(cs, informer.WithLogger(logger.Named("informer")))
	f.Services().AddEventHandler(informer.Handler[*corev1.Service]{
		OnAdd: p.OnServiceAdd, OnUpdate: p.OnServiceUpdate, OnDelete: p.OnServiceDelete,
	})
	f.Endpoints().AddEventHandler(informer.Handler[*corev1.Endpoints]{
		OnAdd: p.OnEndpointsAdd, OnUpdate: p.OnEndpointsUpdate, OnDelete: p.OnEndpointsDelete,
	})

	g, ctx := errgroup.WithContext(ctx)
	var hzAddr, mAddr net.Addr
	listening := make(chan struct{}, 2)
	serve := func(addr string, out *net.Addr) {
		if addr == "" {
			listening <- struct{}{}
			return
		}
		g.Go(func() error {
			return hz.Serve(ctx, addr, func(a net.Addr) { *out = a; listening <- struct{}{} })
		})
	}
	serve(o.HealthzBindAddress, &hzAddr)
	serve(o.MetricsBindAddress, &mAddr)
	f.Start(ctx)
	g.Go(func() error {
		defer f.Shutdown()
		for range 2 {
			select {
			case <-listening:
			case <-ctx.Done():
				return nil
			}
		}
		if cfg.Ready != nil {
			cfg.Ready(hzAddr, mAddr)
		}
		if !f.WaitForCacheSync(ctx) {
			return nil
		}
		logger.Info("caches synced; syncing rules", zap.String("node", cfg.Hostname))
		daemon.NotifyReady()
		runner.Run(ctx)
		return nil
	})
	err = g.Wait()
	daemon.NotifyStopping()
	return err
}
