package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/config"
	"github.com/gantryhq/gantry/client/daemon"
	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/kubelet/internal/kubelet"
	"github.com/gantryhq/gantry/kubelet/internal/runtime"
	"github.com/gantryhq/gantry/kubelet/internal/runtime/docker"
	"github.com/gantryhq/gantry/kubelet/internal/runtime/fake"
	"github.com/gantryhq/gantry/kubelet/internal/server"
	kubeletv1 "github.com/gantryhq/gantry/proto/gantry/kubelet/v1"
)

// NewKubeletCommand returns the kubelet's cobra command.
func NewKubeletCommand() *cobra.Command {
	opts := NewOptions()
	cmd := &cobra.Command{
		Use:           "kubelet",
		Short:         "Run the pods bound to this node, as Docker containers",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: daemon.RunE("kubelet", opts.Validate, func(ctx context.Context) error {
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

// Config is the kubelet's configuration, built from validated Options.
type Config struct {
	Options *Options
	Logger  *zap.Logger
	Client  *client.Clientset
}

// CompletedConfig is a Config ready to run.
type CompletedConfig struct{ *Config }

// Config turns validated options into a Config.
func (o *Options) Config() (*Config, error) {
	logger, err := daemon.NewLogger("kubelet", o.LogLevel)
	if err != nil {
		return nil, err
	}
	cc, err := config.Open(o.Kubeconfig, o.Context)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig: %w", err)
	}
	cs, err := client.New(cc, client.WithLogger(logger.Named("client")), client.WithUserAgent("kubelet/"+Version))
	if err != nil {
		return nil, err
	}
	return &Config{Options: o, Logger: logger, Client: cs}, nil
}

// Complete fills in what the options leave open.
func (c *Config) Complete() CompletedConfig { return CompletedConfig{c} }

// Run runs the kubelet until ctx ends.
func Run(ctx context.Context, cfg CompletedConfig) error {
	o, log := cfg.Options, cfg.Logger
	defer cfg.Client.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var rt runtime.Runtime
	switch o.Runtime {
	case "fake":
		rt = fake.New(false)
	default:
		if err := os.MkdirAll(o.RootDir, 0o755); err != nil {
			return fmt.Errorf("--root-dir: %w", err)
		}
		d, err := docker.New(ctx, docker.Options{
			Host: o.DockerHost, Network: o.PodNetwork, PauseImage: o.PauseImage,
			RootDir: o.RootDir, NodeName: o.NodeName, Logger: log.Named("docker"),
		})
		if err != nil {
			return err
		}
		rt = d
	}
	taints, _ := parseTaints(o.RegisterWithTaints)

	errCh := make(chan error, 3)
	hz := daemon.NewHealth()
	if o.HealthzPort > 0 {
		go func() {
			errCh <- hz.Serve(ctx, net.JoinHostPort(o.HealthzBindAddress, strconv.Itoa(o.HealthzPort)), nil)
		}()
	}

	// The gRPC API listens first, so that the node status reports its port.
	var grpcSrv *grpc.Server
	var lis net.Listener
	port := 0
	if o.Port >= 0 && o.ClientCAFile != "" {
		nodeIP := o.NodeIP
		tlsCfg, err := server.TLSConfig(server.TLSOptions{
			CertFile: o.TLSCertFile, KeyFile: o.TLSPrivateKeyFile, Hosts: []string{nodeIP, o.NodeName},
			ClientCAFile: o.ClientCAFile, AllowedGroups: o.AuthorizedGroups, AllowedUsers: o.AuthorizedUsers,
		})
		if err != nil {
			return err
		}
		unary, stream := server.Authorizer(o.AuthorizedGroups, o.AuthorizedUsers)
		grpcSrv = grpc.NewServer(grpc.Creds(credentials.NewTLS(tlsCfg)), grpc.UnaryInterceptor(unary), grpc.StreamInterceptor(stream))
		lis, err = net.Listen("tcp", net.JoinHostPort(o.Address, strconv.Itoa(o.Port)))
		if err != nil {
			return fmt.Errorf("listen on %s:%d: %w", o.Address, o.Port, err)
		}
		port = lis.Addr().(*net.TCPAddr).Port
	} else if o.Port >= 0 {
		log.Warn("no --client-ca-file: the kubelet's gRPC API (logs, exec) is off")
	}

	rec := record.New(cfg.Client, record.Options{Component: "kubelet", Host: o.NodeName, Logger: log.Named("events")})
	go rec.Run(ctx)

	readyCh := make(chan struct{})
	k, err := kubelet.New(kubelet.Config{
		NodeName:                  o.NodeName,
		Client:                    cfg.Client,
		Runtime:                   rt,
		Logger:                    log,
		NodeLabels:                o.NodeLabels,
		RegisterWithTaints:        taints,
		Capacity:                  o.Capacity,
		NodeIP:                    o.NodeIP,
		Port:                      int32(port),
		Version:                   Version,
		RootDir:                   o.RootDir,
		LeaseDuration:             secondsToDuration(o.NodeLeaseDurationSeconds),
		LeaseRenewInterval:        o.NodeLeaseRenewInterval,
		NodeStatusUpdateFrequency: o.NodeStatusUpdateFrequency,
		NodeStatusReportFrequency: o.NodeStatusReportFrequency,
		CrashLoopBackOffInitial:   o.CrashLoopBackOffInitial,
		CrashLoopBackOffMax:       o.CrashLoopBackOffMax,
		ImagePullBackOffInitial:   o.ImagePullBackOffInitial,
		ImagePullBackOffMax:       o.ImagePullBackOffMax,
		ResyncInterval:            o.ResyncInterval,
		ImagePullFallbackLocal:    o.ImagePullFallbackLocal,
		Ready:                     func() { close(readyCh) },
		Recorder:                  rec,
		Metrics:                   kubelet.NewMetrics(hz.Registry),
	})
	if err != nil {
		return err
	}
	hz.AddReadyCheck("pods-synced", func(context.Context) error {
		select {
		case <-readyCh:
			return nil
		default:
			return errors.New("pod cache not synced")
		}
	})
	hz.AddLiveCheck("runtime", func(ctx context.Context) error {
		_, err := rt.Version(ctx)
		return err
	})
	if grpcSrv != nil {
		kubeletv1.RegisterKubeletServiceServer(grpcSrv, server.New(k, rt, log.Named("server")))
		hs := health.NewServer()
		healthpb.RegisterHealthServer(grpcSrv, hs)
		reflection.Register(grpcSrv)
		go func() { errCh <- grpcSrv.Serve(lis) }()
		defer grpcSrv.Stop()
		log.Info("serving the kubelet API", zap.Stringer("addr", lis.Addr()))
	}
	go func() {
		select {
		case <-readyCh:
			daemon.NotifyReady()
			log.Info("kubelet ready", zap.String("node", o.NodeName), zap.String("runtime", rt.Type()))
		case <-ctx.Done():
		}
	}()
	go func() { errCh <- k.Run(ctx) }()
	select {
	case <-ctx.Done():
	case err = <-errCh:
		if err != nil {
			log.Error("kubelet failed", zap.Error(err))
		}
	}
	daemon.NotifyStopping()
	cancel()
	return err
}

func secondsToDuration(s int) (d time.Duration) { return time.Duration(s) * time.Second }
