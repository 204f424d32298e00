// Package apiservertest starts a real apiserver, with its embedded etcd, in
// the test's process, for integration tests of any module (as Kubernetes'
// cmd/kube-apiserver/app/testing does). Each server lives in its own temp
// directory, listens on free loopback ports and is stopped by t.Cleanup.
package apiservertest

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/gantryhq/gantry/apiserver/app"
)

// Server is a running test apiserver.
type Server struct {
	// DataDir holds etcd's data, the certificates and admin.conf.
	DataDir string
	// Addr is the gRPC address ("127.0.0.1:port"); it stays the same across
	// Restart.
	Addr string
	// HTTPAddr serves /livez, /readyz and /metrics.
	HTTPAddr string
	// ConfigPath is the admin client config (admin.conf).
	ConfigPath string

	t       testing.TB
	opts    Options
	mu      sync.Mutex
	etcd    *clientv3.Client
	cancel  context.CancelFunc
	done    chan error
	running bool
}

// Options tune a test server.
type Options struct {
	// TokenAuthFile is passed as --token-auth-file.
	TokenAuthFile string
	// CompactionInterval is --etcd-compaction-interval (0: off).
	CompactionInterval time.Duration
	// EventTTL is --event-ttl (0: its default, an hour).
	EventTTL time.Duration
	// Logger; nil logs warnings and errors through t.
	Logger *zap.Logger
}

// Start starts a server and registers its stop with t.Cleanup.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{DataDir: t.TempDir(), t: t, opts: opts}
	s.ConfigPath = filepath.Join(s.DataDir, "admin.conf")
	s.start(0)
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start(port int) {
	s.t.Helper()
	o := app.NewOptions()
	o.DataDir = s.DataDir
	o.BindAddress = "127.0.0.1"
	o.SecurePort = port
	o.HTTPPort = 0
	o.TokenAuthFile = s.opts.TokenAuthFile
	o.EtcdCompactionInterval = s.opts.CompactionInterval
	if s.opts.EventTTL != 0 {
		o.EventTTL = s.opts.EventTTL
	}
	if errs := o.Validate(); len(errs) > 0 {
		s.t.Fatalf("apiservertest: options: %v", errs)
	}
	logger := s.opts.Logger
	if logger == nil {
		logger = zaptest.NewLogger(s.t, zaptest.Level(zap.WarnLevel))
	}
	cfg := &app.Config{Options: o, Logger: logger}
	ready := make(chan struct{})
	cfg.Ready = func(grpcAddr, httpAddr net.Addr) {
		s.Addr = grpcAddr.String()
		if httpAddr != nil {
			s.HTTPAddr = httpAddr.String()
		}
		close(ready)
	}
	cfg.OnStorage = func(c *clientv3.Client) {
		s.mu.Lock()
		s.etcd = c
		s.mu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, cfg.Complete()) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		s.t.Fatalf("apiservertest: apiserver exited during start: %v", err)
	case <-time.After(90 * time.Second):
		cancel()
		s.t.Fatalf("apiservertest: apiserver not ready after 90s")
	}
	s.mu.Lock()
	s.cancel, s.done, s.running = cancel, done, true
	s.mu.Unlock()
}

// Stop stops the server; it may be called more than once.
func (s *Server) Stop() {
	s.mu.Lock()
	running, cancel, done := s.running, s.cancel, s.done
	s.running = false
	s.mu.Unlock()
	if !running {
		return
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			s.t.Errorf("apiservertest: apiserver stopped with: %v", err)
		}
	case <-time.After(30 * time.Second):
		s.t.Errorf("apiservertest: apiserver did not stop within 30s")
	}
}

// Restart stops the server and starts it again on the same data and port.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	_, port, _ := net.SplitHostPort(s.Addr)
	p, _ := strconv.Atoi(port)
	s.start(p)
}

// Compact compacts etcd up to its current revision, so that watches and
// lists from older resourceVersions fail with OUT_OF_RANGE. It returns the
// revision compacted to.
func (s *Server) Compact(ctx context.Context) int64 {
	s.t.Helper()
	s.mu.Lock()
	cli := s.etcd
	s.mu.Unlock()
	resp, err := cli.Get(ctx, "/registry/", clientv3.WithCountOnly())
	if err != nil {
		s.t.Fatalf("apiservertest: read revision: %v", err)
	}
	rev := resp.Header.Revision
	if _, err := cli.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		s.t.Fatalf("apiservertest: compact to %d: %v", rev, err)
	}
	return rev
}
