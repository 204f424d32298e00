package kubelet

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/kubelet/internal/runtime"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

type probeKind int

const (
	liveness probeKind = iota
	readiness
	startup
)

func (k probeKind) String() string {
	return [...]string{"liveness", "readiness", "startup"}[k]
}

type probeKey struct {
	uid, containerID string
	kind             probeKind
}

// prober runs the probes of running containers, one goroutine per
// container and probe, and keeps their latest results. A result that
// changes wakes the pod's worker (onChange).
type prober struct {
	rt       runtime.Runtime
	onChange func(uid string)
	log      *zap.Logger
	ctx      context.Context

	rec record.EventRecorder

	mu      sync.Mutex
	workers map[probeKey]*probeWorker
	results map[probeKey]bool
}

type probeWorker struct {
	cancel context.CancelFunc
	name   string
}

func newProber(ctx context.Context, rt runtime.Runtime, onChange func(string), log *zap.Logger) *prober {
	return &prober{ctx: ctx, rt: rt, onChange: onChange, log: log, workers: map[probeKey]*probeWorker{}, results: map[probeKey]bool{}}
}

func probeOf(c *corev1.Container, k probeKind) *corev1.Probe {
	switch k {
	case liveness:
		return c.GetLivenessProbe()
	case readiness:
		return c.GetReadinessProbe()
	default:
		return c.GetStartupProbe()
	}
}

// result is the latest result of a probe of a container; a container
// without that probe passes it.
func (p *prober) result(uid, containerID string, c *corev1.Container, k probeKind) bool {
	if probeOf(c, k) == nil {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.results[probeKey{uid, containerID, k}]
	if !ok {
		return k == liveness // liveness passes until it fails; the others fail until they pass
	}
	return r
}

// sync starts the probe workers of the pod's running containers and stops
// those of containers that no longer run.
func (p *prober) sync(pod *corev1.Pod, st *runtime.PodStatus) {
	uid := pod.GetMetadata().GetUid()
	want := map[probeKey]*corev1.Container{}
	podIP := ""
	if st.Sandbox != nil && st.Sandbox.Running {
		podIP = st.Sandbox.IP
	}
	for _, c := range pod.GetSpec().GetContainers() {
		latest := st.Latest(c.GetName())
		if latest == nil || latest.State != runtime.StateRunning {
			continue
		}
		for _, k := range []probeKind{liveness, readiness, startup} {
			if probeOf(c, k) != nil {
				want[probeKey{uid, latest.ID, k}] = c
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for key, w := range p.workers {
		if key.uid != uid {
			continue
		}
		if _, ok := want[key]; !ok {
			w.cancel()
			delete(p.workers, key)
			delete(p.results, key)
		}
	}
	for key, c := range want {
		if _, ok := p.workers[key]; ok {
			continue
		}
		latest := st.Latest(c.GetName())
		ctx, cancel := context.WithCancel(p.ctx)
		p.workers[key] = &probeWorker{cancel: cancel, name: c.GetName()}
		go p.run(ctx, key, pod, c, podIP, latest.StartedAt)
	}
}

// removePod stops every probe of the pod uid and forgets its results.
func (p *prober) removePod(uid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for key, w := range p.workers {
		if key.uid == uid {
			w.cancel()
			delete(p.workers, key)
		}
	}
	for key := range p.results {
		if key.uid == uid {
			delete(p.results, key)
		}
	}
}

// set records a probe's result; it reports whether the result changed.
func (p *prober) set(key probeKey, ok bool) bool {
	p.mu.Lock()
	old, known := p.results[key]
	if _, live := p.workers[key]; !live {
		p.mu.Unlock()
		return false
	}
	p.results[key] = ok
	p.mu.Unlock()
	if !known || old != ok {
		p.onChange(key.uid)
		return true
	}
	return false
}

func (p *prober) run(ctx context.Context, key probeKey, pod *corev1.Pod, c *corev1.Container, podIP string, startedAt time.Time) {
	pr := probeOf(c, key.kind)
	period := time.Duration(max(pr.GetPeriodSeconds(), 1)) * time.Second
	timeout := time.Duration(max(pr.GetTimeoutSeconds(), 1)) * time.Second
	successThreshold := int(max(pr.GetSuccessThreshold(), 1))
	failureThreshold := int(max(pr.GetFailureThreshold(), 1))
	if key.kind != readiness {
		successThreshold = 1
	}
	delay := time.Until(startedAt.Add(time.Duration(pr.GetInitialDelaySeconds()) * time.Second))
	if delay > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
	hasStartup := c.GetStartupProbe() != nil
	successes, failures := 0, 0
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		skip := false
		if key.kind != startup && hasStartup && !p.result(key.uid, key.containerID, c, startup) {
			skip = true // liveness and readiness wait for the startup probe
		}
		if key.kind == startup && p.isSet(key, true) {
			return // a passed startup probe is not run again
		}
		if !skip {
			err := p.probe(ctx, pr, c, key.containerID, podIP, timeout)
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				successes, failures = successes+1, 0
				if successes >= successThreshold {
					p.set(key, true)
				}
			} else {
				failures, successes = failures+1, 0
				p.log.Debug("probe failed", zap.String("pod", pod.GetMetadata().GetNamespace()+"/"+pod.GetMetadata().GetName()),
					zap.String("container", c.GetName()), zap.Stringer("probe", key.kind), zap.Error(err))
				if failures >= failureThreshold {
					if p.set(key, false) && p.rec != nil {
						p.rec.Eventf(pod, record.Warning, "Unhealthy", "%s probe failed: %v",
							strings.ToUpper(key.kind.String()[:1])+key.kind.String()[1:], err)
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (p *prober) isSet(key probeKey, v bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.results[key]
	return ok && r == v
}

// probe runs one probe; nil is success.
func (p *prober) probe(ctx context.Context, pr *corev1.Probe, c *corev1.Container, containerID, podIP string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case pr.GetExec() != nil:
		code, err := p.rt.Exec(ctx, containerID, runtime.ExecOptions{Command: pr.GetExec().GetCommand()})
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("exit code %d", code)
		}
		return nil
	case pr.GetHttpGet() != nil:
		h := pr.GetHttpGet()
		port, err := resolvePort(h.GetPort(), c)
		if err != nil {
			return err
		}
		host := h.GetHost()
		if host == "" {
			host = podIP
		}
		scheme := "http"
		if h.GetScheme() == "HTTPS" {
			scheme = "https"
		}
		path := h.GetPath()
		if path == "" || path[0] != '/' {
			path = "/" + path
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+net.JoinHostPort(host, strconv.Itoa(port))+path, nil)
		if err != nil {
			return err
		}
		req.Header.Set("User-Agent", "gantry-probe/1.0")
		for _, hh := range h.GetHttpHeaders() {
			req.Header.Set(hh.GetName(), hh.GetValue())
		}
		resp, err := probeHTTPClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("HTTP probe failed with statuscode: %d", resp.StatusCode)
		}
		return nil
	case pr.GetTcpSocket() != nil:
		t := pr.GetTcpSocket()
		port, err := resolvePort(t.GetPort(), c)
		if err != nil {
			return err
		}
		host := t.GetHost()
		if host == "" {
			host = podIP
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return conn.Close()
	case pr.GetGrpc() != nil:
		g := pr.GetGrpc()
		conn, err := grpc.NewClient(net.JoinHostPort(podIP, strconv.Itoa(int(g.GetPort()))), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		defer conn.Close()
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: g.GetService()})
		if err != nil {
			return err
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("grpc probe: %s", resp.GetStatus())
		}
		return nil
	}
	return fmt.Errorf("probe has no handler")
}

var probeHTTPClient = &http.Client{
	Transport:     &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // probes do not verify, as Kubernetes'
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// resolvePort turns a probe's port (a number or a container port's name)
// into a number.
func resolvePort(p interface {
	GetIntVal() int32
	GetStrVal() string
}, c *corev1.Container) (int, error) {
	if name := p.GetStrVal(); name != "" {
		for _, cp := range c.GetPorts() {
			if cp.GetName() == name {
				return int(cp.GetContainerPort()), nil
			}
		}
		if n, err := strconv.Atoi(name); err == nil {
			return n, nil
		}
		return 0, fmt.Errorf("no container port named %q", name)
	}
	if n := p.GetIntVal(); n > 0 {
		return int(n), nil
	}
	return 0, fmt.Errorf("probe has no port")
}
