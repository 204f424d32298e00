package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// SignalContext returns a context cancelled by the first SIGTERM or SIGINT;
// a second one exits the process with status 1.
func SignalContext() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-ch
		cancel()
		<-ch
		os.Exit(1)
	}()
	return ctx
}

// NewLogger returns a JSON zap logger at level ("debug", "info", "warn",
// "error") named after the daemon.
func NewLogger(name, level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	cfg := zap.NewProductionConfig()
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.EncoderConfig.TimeKey = "ts"
	cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	cfg.Sampling = nil
	l, err := cfg.Build()
	if err != nil {
		return nil, err
	}
	return l.Named(name), nil
}

// NotifyReady tells systemd (Type=notify units) the daemon is ready. Outside
// systemd it does nothing.
func NotifyReady() { _, _ = daemon.SdNotify(false, daemon.SdNotifyReady) }

// NotifyStopping tells systemd the daemon is stopping.
func NotifyStopping() { _, _ = daemon.SdNotify(false, daemon.SdNotifyStopping) }

// Check is one readiness or liveness check; nil means healthy.
type Check func(ctx context.Context) error

// Health serves /livez, /readyz, /healthz, /metrics and /debug/pprof.
type Health struct {
	// Registry holds the daemon's metrics; Go and process collectors are
	// registered on it.
	Registry *prometheus.Registry

	mu    sync.Mutex
	ready map[string]Check
	live  map[string]Check
}

// NewHealth returns a Health with a fresh metrics registry.
func NewHealth() *Health {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Health{Registry: reg, ready: map[string]Check{}, live: map[string]Check{}}
}

// AddReadyCheck adds a check to /readyz.
func (h *Health) AddReadyCheck(name string, c Check) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ready[name] = c
}

// AddLiveCheck adds a check to /livez (and /readyz).
func (h *Health) AddLiveCheck(name string, c Check) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.live[name] = c
}

func (h *Health) run(w http.ResponseWriter, r *http.Request, sets ...map[string]Check) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	h.mu.Lock()
	var names []string
	var checks []Check
	for _, set := range sets {
		for n, c := range set {
			names = append(names, n)
			checks = append(checks, c)
		}
	}
	h.mu.Unlock()
	failed := false
	body := ""
	for i, c := range checks {
		if err := c(ctx); err != nil {
			failed = true
			body += fmt.Sprintf("[-]%s failed: %v\n", names[i], err)
		} else {
			body += fmt.Sprintf("[+]%s ok\n", names[i])
		}
	}
	if failed {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, body+"check failed\n")
		return
	}
	if r.URL.Query().Has("verbose") {
		fmt.Fprint(w, body)
	}
	fmt.Fprint(w, "ok\n")
}

// Handler returns the HTTP handler.
func (h *Health) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/livez", func(w http.ResponseWriter, r *http.Request) { h.run(w, r, h.live) })
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { h.run(w, r, h.live) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) { h.run(w, r, h.live, h.ready) })
	mux.Handle("/metrics", promhttp.HandlerFor(h.Registry, promhttp.HandlerOpts{Registry: h.Registry}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// Serve listens on addr and serves until ctx ends. It returns the listener's
// address once listening, through ready, so callers that asked for port 0
// learn the port.
func (h *Health) Serve(ctx context.Context, addr string, ready func(net.Addr)) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen for health and metrics on %s: %w", addr, err)
	}
	if ready != nil {
		ready(l.Addr())
	}
	srv := &http.Server{Handler: h.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
