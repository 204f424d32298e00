// Package app builds the apiserver command: options (flags) → Validate →
// Config → Complete → Run, as kube-scheduler's app package does.
package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	"github.com/gantryhq/gantry/apiserver/internal/alloc"
	"github.com/gantryhq/gantry/apiserver/internal/pki"
	"github.com/gantryhq/gantry/apiserver/internal/registry"
	"github.com/gantryhq/gantry/apiserver/internal/server"
	"github.com/gantryhq/gantry/apiserver/internal/storage"
	"github.com/gantryhq/gantry/apiserver/internal/strategy"
	"github.com/gantryhq/gantry/client/daemon"
	"github.com/gantryhq/gantry/client/scheme"
	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
)

// MaxRequestBytes is the largest request the server accepts.
const MaxRequestBytes = 3 * 1024 * 1024

// BookmarkInterval is how often watches that allow bookmarks get one.
const BookmarkInterval = time.Minute

// NewAPIServerCommand returns the apiserver's cobra command.
func NewAPIServerCommand() *cobra.Command {
	opts := NewOptions()
	cmd := &cobra.Command{
		Use:           "apiserver",
		Short:         "Serve Gantry's API over gRPC, with all state in etcd",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: daemon.RunE("apiserver", opts.Validate, func(ctx context.Context) error {
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

// Config is the apiserver's configuration, built from validated Options.
type Config struct {
	Options *Options
	Logger  *zap.Logger
	// Ready, when set, is called with the bound gRPC and HTTP addresses once
	// the server serves (tests ask for port 0 and learn the ports here).
	Ready func(grpcAddr, httpAddr net.Addr)
	// OnStorage, when set, is handed the etcd client once it is open (tests
	// use it to compact).
	OnStorage func(*clientv3.Client)
}

// Config turns validated options into a Config.
func (o *Options) Config() (*Config, error) {
	logger, err := daemon.NewLogger("apiserver", o.LogLevel)
	if err != nil {
		return nil, err
	}
	return &Config{Options: o, Logger: logger}, nil
}

// CompletedConfig is a Config with every default filled in; only it can be
// run.
type CompletedConfig struct{ *Config }

// Complete fills in defaults.
func (c *Config) Complete() CompletedConfig {
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.Options.AdvertiseAddress == "" {
		c.Options.AdvertiseAddress = "127.0.0.1"
	}
	return CompletedConfig{c}
}

// Run serves until ctx ends.
func Run(ctx context.Context, cfg CompletedConfig) error {
	o, logger := cfg.Options, cfg.Logger
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}

	etcdCli, closeEtcd, err := openEtcd(ctx, o, logger)
	if err != nil {
		return err
	}
	defer closeEtcd()
	if cfg.OnStorage != nil {
		cfg.OnStorage(etcdCli)
	}

	events, _ := scheme.ByName("events")
	store := storage.New(etcdCli, storage.WithTTL(registry.Prefix(events, ""), o.EventTTL))
	strategies, allocator, err := withAllocation(strategy.All(), store, o)
	if err != nil {
		return err
	}
	reg, err := registry.New(store, strategies, logger.Named("registry"))
	if err != nil {
		return err
	}
	if err := bootstrap(ctx, reg); err != nil {
		return err
	}

	grpcAddr := net.JoinHostPort(o.BindAddress, strconv.Itoa(o.SecurePort))
	tlsCfg, paths, err := serving(o)
	if err != nil {
		return err
	}
	authn, err := authInterceptors(o, tlsCfg.ClientCAs, logger)
	if err != nil {
		return err
	}

	hz := daemon.NewHealth()
	metrics := server.NewMetrics(hz.Registry)
	recovery := server.Recovery{Logger: logger.Named("grpc")}
	grpcSrv := grpc.NewServer(
		grpc.Creds(credentials.NewTLS(tlsCfg)),
		grpc.MaxRecvMsgSize(MaxRequestBytes),
		grpc.ChainUnaryInterceptor(metrics.UnaryInterceptor, recovery.Unary, authn.Unary),
		grpc.ChainStreamInterceptor(metrics.StreamInterceptor, recovery.Stream, authn.Stream),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
	)
	apiv1.RegisterResourceServiceServer(grpcSrv, server.NewResourceServer(reg, logger.Named("grpc")))
	podSrv := server.NewPodServer(reg, kubeletClientTLS(o, paths, logger), logger.Named("pods"))
	defer podSrv.Close()
	apiv1.RegisterPodServiceServer(grpcSrv, podSrv)
	healthSrv := health.NewServer()
	healthpb.RegisterHealthServer(grpcSrv, healthSrv)
	reflection.Register(grpcSrv)

	lis, err := net.Listen("tcp", grpcAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", grpcAddr, err)
	}

	etcdCheck := func(ctx context.Context) error {
		_, err := store.Revision(ctx)
		return err
	}
	hz.AddLiveCheck("etcd", etcdCheck)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errCh := make(chan error, 3)
	var httpAddr net.Addr
	httpReady := make(chan struct{})
	if o.HTTPPort > 0 || cfg.Ready != nil {
		port := o.HTTPPort
		go func() {
			errCh <- hz.Serve(ctx, net.JoinHostPort(o.BindAddress, strconv.Itoa(port)), func(a net.Addr) {
				httpAddr = a
				close(httpReady)
			})
		}()
	} else {
		close(httpReady)
	}
	go func() { errCh <- grpcSrv.Serve(lis) }()
	go reg.RequestProgressEvery(ctx, BookmarkInterval)
	if o.EtcdCompactionInterval > 0 {
		go compactLoop(ctx, store, o.EtcdCompactionInterval, logger.Named("compactor"))
	}
	go allocator.RunRepair(ctx, AllocationRepairInterval, logger.Named("alloc-repair"))
	select {
	case <-httpReady:
	case err := <-errCh:
		grpcSrv.Stop()
		return err
	}
	if err := writeAdminConfig(o, paths, lis.Addr()); err != nil {
		grpcSrv.Stop()
		return err
	}
	healthSrv.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	logger.Info("serving", zap.Stringer("grpc", lis.Addr()), zap.Any("http", httpAddr), zap.String("dataDir", o.DataDir))
	daemon.NotifyReady()
	if cfg.Ready != nil {
		cfg.Ready(lis.Addr(), httpAddr)
	}

	select {
	case <-ctx.Done():
	case err = <-errCh:
		logger.Error("server failed", zap.Error(err))
	}
	daemon.NotifyStopping()
	healthSrv.Shutdown()
	stopped := make(chan struct{})
	go func() { grpcSrv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		grpcSrv.Stop()
	}
	cancel()
	return err
}

// openEtcd connects to --etcd-servers, or starts the embedded etcd.
func openEtcd(ctx context.Context, o *Options, logger *zap.Logger) (*clientv3.Client, func(), error) {
	if len(o.EtcdServers) == 0 {
		e, err := storage.StartEmbedded(ctx, filepath.Join(o.DataDir, "etcd"), logger)
		if err != nil {
			return nil, nil, err
		}
		return e.Client, e.Close, nil
	}
	var tlsCfg *tls.Config
	if o.EtcdCAFile != "" || o.EtcdCertFile != "" {
		var err error
		tlsCfg, err = etcdTLS(o)
		if err != nil {
			return nil, nil, err
		}
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:          o.EtcdServers,
		TLS:                tlsCfg,
		DialTimeout:        10 * time.Second,
		Logger:             logger.Named("etcd-client").WithOptions(zap.IncreaseLevel(zap.WarnLevel)),
		MaxCallSendMsgSize: 4 * 1024 * 1024,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("connect to etcd %v: %w", o.EtcdServers, err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := cli.Status(sctx, o.EtcdServers[0]); err != nil {
		cli.Close()
		return nil, nil, fmt.Errorf("etcd %s is not reachable: %w", o.EtcdServers[0], err)
	}
	return cli, func() { cli.Close() }, nil
}

// compactLoop compacts, every interval, the revisions older than the one
// seen at the previous tick, as the Kubernetes apiserver does, so watchers
// have at least one interval to catch up.
func compactLoop(ctx context.Context, store *storage.Store, interval time.Duration, logger *zap.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rev, err := store.Revision(ctx)
		if err != nil {
			logger.Warn("read revision", zap.Error(err))
			continue
		}
		if last > 0 {
			if err := store.Compact(ctx, last); err != nil {
				logger.Warn("compact", zap.Int64("revision", last), zap.Error(err))
			} else {
				logger.Debug("compacted", zap.Int64("revision", last))
			}
		}
		last = rev
	}
}

// AllocationRepairInterval is how often cluster IPs and node ports held by
// no Service are freed (Kubernetes' repair loops run every 3 minutes).
const AllocationRepairInterval = 3 * time.Minute

// withAllocation gives the Service strategy its cluster IP and node port
// allocator.
func withAllocation(strategies map[string]registry.Strategy, store *storage.Store, o *Options) (map[string]registry.Strategy, *alloc.Allocator, error) {
	ips, err := alloc.ParseIPRange(o.ServiceClusterIPRange)
	if err != nil {
		return nil, nil, err
	}
	ports, err := alloc.ParsePortRange(o.ServiceNodePortRange)
	if err != nil {
		return nil, nil, err
	}
	svc, ok := strategies["services"].(strategy.Service)
	if !ok {
		return nil, nil, fmt.Errorf("services strategy is %T, not strategy.Service", strategies["services"])
	}
	a := alloc.New(store, ips, ports)
	strategies["services"] = alloc.ServiceStrategy{Service: svc, Allocator: a}
	return strategies, a, nil
}

// kubeletClientTLS is how the apiserver dials kubelets (logs, exec): with
// --kubelet-client-certificate/--kubelet-client-key, or else the generated
// admin certificate. Without either, logs and exec are unavailable.
func kubeletClientTLS(o *Options, paths pki.Paths, logger *zap.Logger) *tls.Config {
	cert, key := o.KubeletClientCertificate, o.KubeletClientKey
	if cert == "" && o.TLSCertFile == "" {
		cert, key = paths.AdminCert, paths.AdminKey
	}
	if cert == "" {
		logger.Warn("no kubelet client certificate: logs and exec are unavailable")
		return nil
	}
	cfg, err := server.KubeletClientTLS(cert, key, o.KubeletCertificateAuthority)
	if err != nil {
		logger.Warn("kubelet client certificate: logs and exec are unavailable", zap.Error(err))
		return nil
	}
	return cfg
}
