package lb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DialTimeout bounds one attempt to reach a backend.
const DialTimeout = 2 * time.Second

// Forwarder serves a Config. Apply may be called at any time, from any
// goroutine.
type Forwarder struct {
	// ListenHost is the address listeners bind ("" for all).
	ListenHost string
	Log        *slog.Logger

	mu        sync.Mutex
	listeners map[int32]*listener
	wg        sync.WaitGroup
}

type listener struct {
	port     int32
	ln       net.Listener
	backends atomic.Pointer[[]string]
	next     atomic.Uint64
}

// NewForwarder returns a forwarder with no listeners.
func NewForwarder(log *slog.Logger) *Forwarder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Forwarder{Log: log, listeners: map[int32]*listener{}}
}

// Apply makes the listeners match cfg: new ports are opened, gone ones
// closed, backends replaced. It returns the errors of ports it could not
// open (the others are applied).
func (f *Forwarder) Apply(cfg *Config) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	want := map[int32]Listener{}
	for _, l := range cfg.Listeners {
		want[l.Port] = l
	}
	for port, l := range f.listeners {
		if _, ok := want[port]; !ok {
			f.Log.Info("closing listener", "port", port)
			_ = l.ln.Close()
			delete(f.listeners, port)
		}
	}
	var errs []error
	for port, wl := range want {
		backends := append([]string(nil), wl.Backends...)
		l, ok := f.listeners[port]
		if !ok {
			ln, err := net.Listen("tcp", net.JoinHostPort(f.ListenHost, strconv.Itoa(int(port))))
			if err != nil {
				errs = append(errs, fmt.Errorf("listen on port %d: %w", port, err))
				continue
			}
			l = &listener{port: port, ln: ln}
			f.listeners[port] = l
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				f.serve(l)
			}()
			f.Log.Info("listening", "port", port)
		}
		l.backends.Store(&backends)
		f.Log.Info("backends", "port", port, "backends", backends)
	}
	return errors.Join(errs...)
}

// Addr returns the address of the listener of port, or nil.
func (f *Forwarder) Addr(port int32) net.Addr {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l, ok := f.listeners[port]; ok {
		return l.ln.Addr()
	}
	return nil
}

// Close closes every listener and waits for the accept loops (not for the
// connections in flight).
func (f *Forwarder) Close() {
	f.mu.Lock()
	for port, l := range f.listeners {
		_ = l.ln.Close()
		delete(f.listeners, port)
	}
	f.mu.Unlock()
	f.wg.Wait()
}

func (f *Forwarder) serve(l *listener) {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			f.Log.Warn("accept failed", "port", l.port, "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		go f.forward(l, c)
	}
}

// forward connects c to a backend, trying each once starting at the next in
// turn, and copies both ways until both sides are done.
func (f *Forwarder) forward(l *listener, c net.Conn) {
	defer c.Close()
	backends := *l.backends.Load()
	if len(backends) == 0 {
		f.Log.Warn("no backends; connection dropped", "port", l.port, "client", c.RemoteAddr().String())
		return
	}
	start := l.next.Add(1) - 1
	var up net.Conn
	for i := range backends {
		b := backends[(start+uint64(i))%uint64(len(backends))]
		ctx, cancel := context.WithTimeout(context.Background(), DialTimeout)
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", b)
		cancel()
		if err == nil {
			up = conn
			break
		}
		f.Log.Warn("backend unreachable", "port", l.port, "backend", b, "err", err)
	}
	if up == nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}
