package storage

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Embedded is an etcd server running inside the apiserver process, the
// default when no --etcd-servers are given.
type Embedded struct {
	etcd   *embed.Etcd
	Client *clientv3.Client
}

// StartEmbedded starts etcd with its data in dir, listening for clients and
// peers on free loopback ports, and waits until it serves.
func StartEmbedded(ctx context.Context, dir string, logger *zap.Logger) (*Embedded, error) {
	cfg := embed.NewConfig()
	cfg.Dir = dir
	cfg.Name = "gantry"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(logger.Named("etcd").WithOptions(zap.IncreaseLevel(zap.WarnLevel)))
	cfg.LogLevel = "warn"
	clientURL, err := freeLoopbackURL()
	if err != nil {
		return nil, err
	}
	peerURL, err := freeLoopbackURL()
	if err != nil {
		return nil, err
	}
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	cfg.ListenPeerUrls = []url.URL{*peerURL}
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// The apiserver's own revision-based compaction runs instead.
	cfg.AutoCompactionRetention = "0"
	cfg.MaxRequestBytes = 4 * 1024 * 1024

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd in %s: %w", dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd: %w", err)
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s did not become ready in 60s", dir)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:          []string{clientURL.String()},
		DialTimeout:        10 * time.Second,
		Logger:             logger.Named("etcd-client").WithOptions(zap.IncreaseLevel(zap.WarnLevel)),
		MaxCallSendMsgSize: 4 * 1024 * 1024,
	})
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("connect to embedded etcd: %w", err)
	}
	return &Embedded{etcd: e, Client: cli}, nil
}

// Close stops the client and the server.
func (e *Embedded) Close() {
	e.Client.Close()
	e.etcd.Close()
}

func freeLoopbackURL() (*url.URL, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	l.Close()
	return &url.URL{Scheme: "http", Host: addr}, nil
}
