package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"go.uber.org/zap"

	"github.com/gantryhq/gantry/kubelet/internal/runtime"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// presentTTL is how long an image seen present is believed present.
const presentTTL = 30 * time.Second

// APIVersion is the Docker engine API version the runtime speaks.
const APIVersion = "1.41"

// Options configure the runtime.
type Options struct {
	// Host is the engine's address (default: DOCKER_HOST or the local
	// socket).
	Host string
	// Network is the Docker network pods join; created (bridge) when
	// missing.
	Network string
	// PauseImage is the sandbox image.
	PauseImage string
	// RootDir holds the pods' emptyDir volumes (<root>/pods/<uid>/...).
	RootDir string
	// NodeName labels every container, so that kubelets sharing an engine
	// keep to their own.
	NodeName string
	Logger   *zap.Logger
}

// Runtime is the Docker runtime.
type Runtime struct {
	cli    *client.Client
	opts   Options
	log    *zap.Logger
	events chan string

	// pausePresent caches that the pause image exists.
	pausePresent atomic.Bool
	// ipMu guards the pod IP allocation from the node's podCIDR; pending
	// holds addresses handed out whose sandboxes may not run yet.
	ipMu    sync.Mutex
	pending map[netip.Addr]time.Time
	subnets []netip.Prefix       // of the pod network, read once
	present map[string]time.Time // images seen present, and when
	// netMu keeps endpoint removals on the pod network (stopping and
	// removing sandboxes) apart from each other and from sandbox starts,
	// which share it (read-locked) so that a burst of pods starts at once:
	// Docker 20.10 can lose count of a network's endpoints when removals
	// race with other endpoint changes and then refuses to remove the
	// network ("has active endpoints", moby#42119); concurrent starts alone
	// were seen to keep the count right.
	netMu sync.RWMutex
}

var _ runtime.Runtime = (*Runtime)(nil)

// New connects to the engine, makes sure the pod network exists and starts
// following the engine's events until ctx ends.
func New(ctx context.Context, opts Options) (*Runtime, error) {
	if opts.Network == "" || opts.PauseImage == "" || opts.NodeName == "" || opts.RootDir == "" {
		return nil, errors.New("docker runtime: network, pause image, node name and root dir are required")
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	copts := []client.Opt{client.FromEnv, client.WithAPIVersion(APIVersion)}
	if opts.Host != "" {
		copts = append(copts, client.WithHost(opts.Host))
	}
	cli, err := client.New(copts...)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	r := &Runtime{cli: cli, opts: opts, log: opts.Logger, events: make(chan string, 256)}
	if _, err := r.Version(ctx); err != nil {
		cli.Close()
		return nil, fmt.Errorf("docker engine: %w", err)
	}
	if err := r.ensureNetwork(ctx); err != nil {
		cli.Close()
		return nil, err
	}
	go r.watchEvents(ctx)
	go func() { <-ctx.Done(); cli.Close() }()
	return r, nil
}

// Client is the engine client (for tests and tools).
func (r *Runtime) Client() *client.Client { return r.cli }

func (r *Runtime) ensureNetwork(ctx context.Context) error {
	_, err := r.cli.NetworkInspect(ctx, r.opts.Network, client.NetworkInspectOptions{})
	if err == nil {
		return nil
	}
	if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("inspect network %s: %w", r.opts.Network, err)
	}
	_, err = r.cli.NetworkCreate(ctx, r.opts.Network, client.NetworkCreateOptions{
		Driver: "bridge",
		Labels: map[string]string{runtime.LabelManaged: "true"},
	})
	if err != nil && !cerrdefs.IsConflict(err) {
		return fmt.Errorf("create network %s: %w", r.opts.Network, err)
	}
	r.log.Info("created pod network", zap.String("network", r.opts.Network))
	return nil
}

// Type implements runtime.Runtime.
func (r *Runtime) Type() string { return "docker" }

// Version implements runtime.Runtime.
func (r *Runtime) Version(ctx context.Context) (string, error) {
	v, err := r.cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return "", err
	}
	return v.Version, nil
}

// Events implements runtime.Runtime.
func (r *Runtime) Events() <-chan string { return r.events }

func (r *Runtime) watchEvents(ctx context.Context) {
	defer close(r.events)
	since := ""
	for ctx.Err() == nil {
		f := client.Filters{}
		f.Add("type", "container")
		f.Add("label", runtime.LabelNode+"="+r.opts.NodeName)
		for _, e := range []string{"start", "die", "destroy", "oom"} {
			f.Add("event", e)
		}
		res := r.cli.Events(ctx, client.EventsListOptions{Filters: f, Since: since})
	loop:
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-res.Messages:
				since = strconv.FormatInt(m.Time, 10)
				uid := m.Actor.Attributes[runtime.LabelPodUID]
				if uid == "" || m.Type != events.ContainerEventType {
					continue
				}
				select {
				case r.events <- uid:
				case <-ctx.Done():
					return
				}
			case err := <-res.Err:
				if ctx.Err() == nil {
					r.log.Warn("docker events stream ended; reconnecting", zap.Error(err))
				}
				break loop
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func containerName(pod *corev1.Pod, name string, attempt int) string {
	m := pod.GetMetadata()
	return fmt.Sprintf("gantry_%s_%s_%s_%s_%d", name, m.GetName(), m.GetNamespace(), m.GetUid(), attempt)
}

func (r *Runtime) labels(pod *corev1.Pod, name string, attempt int) map[string]string {
	m := pod.GetMetadata()
	return map[string]string{
		runtime.LabelManaged:       "true",
		runtime.LabelNode:          r.opts.NodeName,
		runtime.LabelPodUID:        m.GetUid(),
		runtime.LabelPodName:       m.GetName(),
		runtime.LabelPodNamespace:  m.GetNamespace(),
		runtime.LabelContainerName: name,
		runtime.LabelAttempt:       strconv.Itoa(attempt),
	}
}

func (r *Runtime) podDir(uid string) string { return filepath.Join(r.opts.RootDir, "pods", uid) }

// SyncPod implements runtime.Runtime.
func (r *Runtime) SyncPod(ctx context.Context, pod *corev1.Pod, a *runtime.Actions) runtime.SyncResult {
	uid := pod.GetMetadata().GetUid()
	res := runtime.SyncResult{}
	st := a.Status
	if st == nil {
		var err error
		if st, err = r.PodStatus(ctx, uid); err != nil {
			res.SandboxErr = err
			return res
		}
	}
	var err error
	sandboxID := ""
	if st.Sandbox != nil && st.Sandbox.Running {
		sandboxID = st.Sandbox.ID
	}
	if a.CreateSandbox {
		if st.Running() {
			if err := r.KillPod(ctx, uid, gracePeriod(pod)); err != nil {
				res.SandboxErr = err
				return res
			}
		}
		if st.Sandbox != nil {
			r.netMu.Lock()
			_, _ = r.cli.ContainerRemove(ctx, st.Sandbox.ID, client.ContainerRemoveOptions{Force: true})
			r.netMu.Unlock()
		}
		if sandboxID, err = r.createSandbox(ctx, pod, a.SandboxAttempt, a.PodCIDR); err != nil {
			res.SandboxErr = err
			return res
		}
		// The app containers are created while the sandbox starts (they
		// only need its id), then started once it runs.
		ids := make([]string, len(a.Start))
		errs := make([]*runtime.StartError, len(a.Start))
		created := make(chan struct{})
		go func() {
			defer close(created)
			for i, sc := range a.Start {
				ids[i], errs[i] = r.createContainer(ctx, pod, sandboxID, sc, st)
			}
		}()
		startErr := r.startSandbox(ctx, sandboxID)
		<-created
		if startErr != nil {
			for _, id := range ids {
				if id != "" {
					_, _ = r.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true})
				}
			}
			res.SandboxErr = startErr
			return res
		}
		for i, sc := range a.Start {
			if errs[i] == nil {
				errs[i] = r.startContainer(ctx, ids[i], sc, st)
			}
			if errs[i] != nil {
				if res.StartErrors == nil {
					res.StartErrors = map[string]*runtime.StartError{}
				}
				res.StartErrors[sc.Container.GetName()] = errs[i]
			}
		}
		return res
	}
	if len(a.Kill) > 0 {
		var wg sync.WaitGroup
		for _, k := range a.Kill {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := r.stop(ctx, k.ID, k.Grace); err != nil {
					r.log.Warn("stop container", zap.String("container", k.Name), zap.Error(err))
				}
			}()
		}
		wg.Wait()
	}
	if len(a.Start) > 0 && sandboxID == "" {
		res.SandboxErr = errors.New("pod sandbox is not running")
		return res
	}
	for _, s := range a.Start {
		id, err := r.createContainer(ctx, pod, sandboxID, s, st)
		if err == nil {
			err = r.startContainer(ctx, id, s, st)
		}
		if err != nil {
			if res.StartErrors == nil {
				res.StartErrors = map[string]*runtime.StartError{}
			}
			res.StartErrors[s.Container.GetName()] = err
		}
	}
	return res
}

func gracePeriod(pod *corev1.Pod) time.Duration {
	if g := pod.GetSpec().TerminationGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	return 30 * time.Second
}

func (r *Runtime) ensureImage(ctx context.Context, image string) error {
	ok, err := r.ImagePresent(ctx, image)
	if err != nil || ok {
		return err
	}
	return r.PullImage(ctx, image)
}

func (r *Runtime) createSandbox(ctx context.Context, pod *corev1.Pod, attempt int, podCIDR string) (string, error) {
	if !r.pausePresent.Load() {
		if err := r.ensureImage(ctx, r.opts.PauseImage); err != nil {
			return "", fmt.Errorf("pause image: %w", err)
		}
		r.pausePresent.Store(true)
	}
	spec := pod.GetSpec()
	hostname := spec.GetHostname()
	if hostname == "" {
		hostname = pod.GetMetadata().GetName()
	}
	if len(hostname) > 63 {
		hostname = hostname[:63]
	}
	cfg := &container.Config{
		Image:        r.opts.PauseImage,
		Hostname:     hostname,
		Labels:       r.labels(pod, runtime.SandboxName, attempt),
		ExposedPorts: network.PortSet{},
	}
	hc := &container.HostConfig{
		NetworkMode:  container.NetworkMode(r.opts.Network),
		IpcMode:      container.IPCModeShareable,
		PortBindings: network.PortMap{},
	}
	if spec.GetHostNetwork() {
		hc.NetworkMode = "host"
		cfg.Hostname = ""
	}
	for _, c := range spec.GetContainers() {
		for _, p := range c.GetPorts() {
			if p.GetHostPort() == 0 || spec.GetHostNetwork() {
				continue
			}
			proto := strings.ToLower(p.GetProtocol())
			if proto == "" {
				proto = "tcp"
			}
			port, err := network.ParsePort(fmt.Sprintf("%d/%s", p.GetContainerPort(), proto))
			if err != nil {
				return "", err
			}
			cfg.ExposedPorts[port] = struct{}{}
			hc.PortBindings[port] = append(hc.PortBindings[port], network.PortBinding{HostPort: strconv.Itoa(int(p.GetHostPort()))})
		}
	}
	for _, h := range spec.GetHostAliases() {
		for _, n := range h.GetHostnames() {
			hc.ExtraHosts = append(hc.ExtraHosts, n+":"+h.GetIp())
		}
	}
	var nc *network.NetworkingConfig
	if podCIDR != "" && !spec.GetHostNetwork() {
		ip, err := r.sandboxIP(ctx, podCIDR)
		if err != nil {
			return "", err
		}
		if ip.IsValid() {
			nc = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
				r.opts.Network: {IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: ip}},
			}}
		}
	}
	id, err := r.create(ctx, containerName(pod, runtime.SandboxName, attempt), cfg, hc, nc)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			r.pausePresent.Store(false) // the image was removed under us
		}
		return "", err
	}
	return id, nil
}

// startSandbox starts the created sandbox id, removing it if it fails.
func (r *Runtime) startSandbox(ctx context.Context, id string) error {
	r.netMu.RLock()
	_, err := r.cli.ContainerStart(ctx, id, client.ContainerStartOptions{})
	r.netMu.RUnlock()
	if err != nil {
		r.netMu.Lock()
		_, _ = r.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true})
		r.netMu.Unlock()
		return fmt.Errorf("start sandbox: %w", err)
	}
	return nil
}

// create creates a container, removing a leftover of the same name (a
// kubelet that died between create and start) first.
func (r *Runtime) create(ctx context.Context, name string, cfg *container.Config, hc *container.HostConfig, nc *network.NetworkingConfig) (string, error) {
	for try := 0; ; try++ {
		out, err := r.cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: cfg, HostConfig: hc, NetworkingConfig: nc})
		if err == nil {
			return out.ID, nil
		}
		if try == 0 && cerrdefs.IsConflict(err) {
			_, _ = r.cli.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true})
			continue
		}
		return "", err
	}
}

// createContainer creates (does not start) an app container in the sandbox.
func (r *Runtime) createContainer(ctx context.Context, pod *corev1.Pod, sandboxID string, s runtime.StartContainer, st *runtime.PodStatus) (string, *runtime.StartError) {
	c := s.Container
	cfg, hc, err := r.containerConfig(pod, c, sandboxID, s.Attempt, st)
	if err != nil {
		return "", &runtime.StartError{Reason: "CreateContainerConfigError", Err: err}
	}
	id, err := r.create(ctx, containerName(pod, c.GetName(), s.Attempt), cfg, hc, nil)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			r.ipMu.Lock()
			delete(r.present, c.GetImage()) // removed under us
			r.ipMu.Unlock()
		}
		return "", &runtime.StartError{Reason: "CreateContainerError", Err: err}
	}
	return id, nil
}

// startContainer starts the created app container id and removes its
// instances older than the one before.
func (r *Runtime) startContainer(ctx context.Context, id string, s runtime.StartContainer, st *runtime.PodStatus) *runtime.StartError {
	c := s.Container
	if _, err := r.cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		_, _ = r.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true})
		return &runtime.StartError{Reason: "RunContainerError", Err: err}
	}
	// Keep the new instance and the one before it (for logs --previous).
	n := 0
	for _, old := range st.Containers {
		if old.Name != c.GetName() {
			continue
		}
		n++
		if n >= 2 && old.State == runtime.StateExited {
			_, _ = r.cli.ContainerRemove(ctx, old.ID, client.ContainerRemoveOptions{Force: true})
		}
	}
	return nil
}

// stop sends SIGTERM (the image's stop signal) and SIGKILL after grace.
func (r *Runtime) stop(ctx context.Context, id string, grace time.Duration) error {
	secs := int((grace + time.Second - 1) / time.Second)
	_, err := r.cli.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &secs})
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	return err
}

// KillPod implements runtime.Runtime.
func (r *Runtime) KillPod(ctx context.Context, uid string, grace time.Duration) error {
	list, err := r.list(ctx, uid, false)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(list))
	var sandboxes []string
	for _, c := range list {
		if c.Labels[runtime.LabelContainerName] == runtime.SandboxName {
			sandboxes = append(sandboxes, c.ID)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.stop(ctx, c.ID, grace); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	r.netMu.Lock()
	for _, id := range sandboxes {
		if err := r.stop(ctx, id, 0); err != nil {
			errs <- err
		}
	}
	r.netMu.Unlock()
	close(errs)
	return <-errs
}

// RemovePod implements runtime.Runtime.
func (r *Runtime) RemovePod(ctx context.Context, uid string) error {
	list, err := r.list(ctx, uid, true)
	if err != nil {
		return err
	}
	// App containers first, then the sandboxes, whose endpoints go with
	// them.
	sort.SliceStable(list, func(i, j int) bool {
		return list[i].Labels[runtime.LabelContainerName] != runtime.SandboxName && list[j].Labels[runtime.LabelContainerName] == runtime.SandboxName
	})
	for _, c := range list {
		sandbox := c.Labels[runtime.LabelContainerName] == runtime.SandboxName
		if sandbox {
			r.netMu.Lock()
		}
		_, err := r.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		if sandbox {
			r.netMu.Unlock()
		}
		if err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("remove container %s: %w", c.ID, err)
		}
	}
	if err := os.RemoveAll(r.podDir(uid)); err != nil {
		return fmt.Errorf("remove pod volumes: %w", err)
	}
	return nil
}

// list lists the containers of the pod uid (every pod's with uid "*"),
// narrowed by the extra label filters.
func (r *Runtime) list(ctx context.Context, uid string, all bool, extra ...string) ([]container.Summary, error) {
	f := client.Filters{}
	for _, l := range extra {
		f.Add("label", l)
	}
	f.Add("label", runtime.LabelNode+"="+r.opts.NodeName)
	switch uid {
	case "":
		return nil, errors.New("list containers: no pod uid")
	case "*":
		f.Add("label", runtime.LabelPodUID)
	default:
		f.Add("label", runtime.LabelPodUID+"="+uid)
	}
	out, err := r.cli.ContainerList(ctx, client.ContainerListOptions{All: all, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	return out.Items, nil
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 2000 {
		return time.Time{}
	}
	return t
}

func stateOf(s container.ContainerState) runtime.State {
	switch s {
	case container.StateRunning, container.StatePaused, container.StateRestarting:
		return runtime.StateRunning
	case container.StateCreated:
		return runtime.StateCreated
	case container.StateExited, container.StateDead, container.StateRemoving:
		return runtime.StateExited
	}
	return runtime.StateUnknown
}

// PodStatus implements runtime.Runtime.
func (r *Runtime) PodStatus(ctx context.Context, uid string) (*runtime.PodStatus, error) {
	list, err := r.list(ctx, uid, true)
	if err != nil {
		return nil, err
	}
	st := &runtime.PodStatus{UID: uid}
	var sandbox *container.Summary
	for i, c := range list {
		st.Namespace, st.Name = c.Labels[runtime.LabelPodNamespace], c.Labels[runtime.LabelPodName]
		attempt, _ := strconv.Atoi(c.Labels[runtime.LabelAttempt])
		if c.Labels[runtime.LabelContainerName] == runtime.SandboxName {
			if sandbox == nil || attempt > mustAtoi(sandbox.Labels[runtime.LabelAttempt]) ||
				(attempt == mustAtoi(sandbox.Labels[runtime.LabelAttempt]) && c.Created > sandbox.Created) {
				sandbox = &list[i]
			}
			continue
		}
		in, err := r.cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if cerrdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("inspect container: %w", err)
		}
		cs := &runtime.ContainerStatus{
			ID:        c.ID,
			Name:      c.Labels[runtime.LabelContainerName],
			Image:     c.Image,
			ImageID:   "docker-pullable://" + c.ImageID,
			State:     stateOf(in.Container.State.Status),
			Attempt:   attempt,
			Hash:      c.Labels[runtime.LabelHash],
			CreatedAt: time.Unix(c.Created, 0),
			StartedAt: parseTime(in.Container.State.StartedAt),
		}
		if cs.State == runtime.StateExited {
			cs.ExitCode = in.Container.State.ExitCode
			cs.FinishedAt = parseTime(in.Container.State.FinishedAt)
			cs.Message = in.Container.State.Error
			if msg := r.terminationMessage(ctx, uid, c.ID, cs, c.Labels[labelTerminationPolicy]); msg != "" {
				cs.Message = msg
			}
			switch {
			case in.Container.State.OOMKilled:
				cs.Reason = "OOMKilled"
			case cs.ExitCode == 0:
				cs.Reason = "Completed"
			default:
				cs.Reason = "Error"
			}
		}
		st.Containers = append(st.Containers, cs)
	}
	if sandbox != nil {
		sb := &runtime.SandboxStatus{
			ID:        sandbox.ID,
			Running:   sandbox.State == container.StateRunning,
			Attempt:   mustAtoi(sandbox.Labels[runtime.LabelAttempt]),
			CreatedAt: time.Unix(sandbox.Created, 0),
		}
		if sb.Running {
			if ns := sandbox.NetworkSettings; ns != nil {
				if ep := ns.Networks[r.opts.Network]; ep != nil && ep.IPAddress.IsValid() {
					sb.IP = ep.IPAddress.String()
				}
			}
			if sb.IP == "" && sandbox.HostConfig.NetworkMode == "host" {
				sb.IP = "" // hostNetwork pods take the node's IP (the kubelet's hostIP)
			}
		}
		st.Sandbox = sb
	}
	st.SortContainers()
	return st, nil
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// ListPods implements runtime.Runtime.
func (r *Runtime) ListPods(ctx context.Context) ([]*runtime.PodStatus, error) {
	list, err := r.list(ctx, "*", true)
	if err != nil {
		return nil, err
	}
	pods := map[string]*runtime.PodStatus{}
	var out []*runtime.PodStatus
	for _, c := range list {
		uid := c.Labels[runtime.LabelPodUID]
		if uid == "" {
			continue // not a pod's
		}
		p := pods[uid]
		if p == nil {
			p = &runtime.PodStatus{UID: uid, Namespace: c.Labels[runtime.LabelPodNamespace], Name: c.Labels[runtime.LabelPodName]}
			pods[uid] = p
			out = append(out, p)
		}
		attempt := mustAtoi(c.Labels[runtime.LabelAttempt])
		if c.Labels[runtime.LabelContainerName] == runtime.SandboxName {
			p.Sandbox = &runtime.SandboxStatus{ID: c.ID, Running: c.State == container.StateRunning, Attempt: attempt}
			continue
		}
		p.Containers = append(p.Containers, &runtime.ContainerStatus{ID: c.ID, Name: c.Labels[runtime.LabelContainerName], State: stateOf(c.State), Attempt: attempt})
	}
	return out, nil
}

// ImagePresent implements runtime.Runtime. A present image is remembered
// for presentTTL, sparing the engine a call per pod start.
func (r *Runtime) ImagePresent(ctx context.Context, image string) (bool, error) {
	r.ipMu.Lock()
	at, ok := r.present[image]
	r.ipMu.Unlock()
	if ok && time.Since(at) < presentTTL {
		return true, nil
	}
	_, err := r.cli.ImageInspect(ctx, image)
	if err == nil {
		r.ipMu.Lock()
		if r.present == nil {
			r.present = map[string]time.Time{}
		}
		r.present[image] = time.Now()
		r.ipMu.Unlock()
		return true, nil
	}
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	return false, err
}

// ListImages implements runtime.Runtime.
func (r *Runtime) ListImages(ctx context.Context) ([]runtime.Image, error) {
	res, err := r.cli.ImageList(ctx, client.ImageListOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]runtime.Image, 0, len(res.Items))
	for _, im := range res.Items {
		var names []string
		for _, n := range append(append([]string{}, im.RepoDigests...), im.RepoTags...) {
			if n != "<none>:<none>" && n != "<none>@<none>" {
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			out = append(out, runtime.Image{Names: names, SizeBytes: im.Size})
		}
	}
	return out, nil
}

// PullImage implements runtime.Runtime.
func (r *Runtime) PullImage(ctx context.Context, image string) error {
	resp, err := r.cli.ImagePull(ctx, image, client.ImagePullOptions{})
	if err != nil {
		return fmt.Errorf("pull %s: %w", image, err)
	}
	defer resp.Close()
	if err := resp.Wait(ctx); err != nil {
		return fmt.Errorf("pull %s: %w", image, err)
	}
	return nil
}

// sandboxIP picks a free address of podCIDR for a new sandbox: not the
// range's first two (network, gateway by convention) or last (broadcast),
// not a gateway of the pod network, not held by a running sandbox of this
// node, not handed out in the last minute. It returns the zero address
// (Docker picks) when podCIDR is not inside the pod network's subnets, and
// an error when podCIDR is full.
func (r *Runtime) sandboxIP(ctx context.Context, podCIDR string) (netip.Addr, error) {
	prefix, err := netip.ParsePrefix(podCIDR)
	if err != nil || !prefix.Addr().Is4() {
		return netip.Addr{}, nil // IPv6 or malformed: let Docker pick
	}
	prefix = prefix.Masked()
	subnets, err := r.podSubnets(ctx)
	if err != nil {
		return netip.Addr{}, err
	}
	inside := false
	for _, s := range subnets {
		if s.Bits() <= prefix.Bits() && s.Contains(prefix.Addr()) {
			inside = true
		}
	}
	if !inside {
		return netip.Addr{}, nil
	}
	used := map[netip.Addr]bool{}
	for _, s := range subnets {
		used[s.Addr().Next()] = true // Docker's default gateway
	}
	// The engine is asked outside the lock, so that a burst of sandboxes
	// does not queue behind one another's listings: an address handed out
	// since is in pending, which is read under the lock.
	list, err := r.list(ctx, "*", false, runtime.LabelContainerName+"="+runtime.SandboxName)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, c := range list {
		if ns := c.NetworkSettings; ns != nil {
			if ep := ns.Networks[r.opts.Network]; ep != nil && ep.IPAddress.IsValid() {
				used[ep.IPAddress] = true
			}
		}
	}
	r.ipMu.Lock()
	defer r.ipMu.Unlock()
	if r.pending == nil {
		r.pending = map[netip.Addr]time.Time{}
	}
	now := time.Now()
	for a, t := range r.pending {
		if now.Sub(t) > time.Minute {
			delete(r.pending, a)
		} else {
			used[a] = true
		}
	}
	ip, ok := freeAddr(prefix, used)
	if !ok {
		return netip.Addr{}, fmt.Errorf("no free address in the node's podCIDR %s", podCIDR)
	}
	r.pending[ip] = now
	return ip, nil
}

// podSubnets are the pod network's subnets, read from the engine once.
func (r *Runtime) podSubnets(ctx context.Context) ([]netip.Prefix, error) {
	r.ipMu.Lock()
	subnets := r.subnets
	r.ipMu.Unlock()
	if subnets != nil {
		return subnets, nil
	}
	nw, err := r.cli.NetworkInspect(ctx, r.opts.Network, client.NetworkInspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("inspect network %s: %w", r.opts.Network, err)
	}
	subnets = []netip.Prefix{}
	for _, c := range nw.Network.IPAM.Config {
		if c.Subnet.IsValid() {
			subnets = append(subnets, c.Subnet.Masked())
		}
	}
	r.ipMu.Lock()
	r.subnets = subnets
	r.ipMu.Unlock()
	return subnets, nil
}

// freeAddr is the first address of prefix, after the first two and before
// the last, that is not used.
func freeAddr(prefix netip.Prefix, used map[netip.Addr]bool) (netip.Addr, bool) {
	a := prefix.Addr().Next().Next()
	for ; prefix.Contains(a); a = a.Next() {
		if !prefix.Contains(a.Next()) {
			break // the broadcast address
		}
		if !used[a] {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// terminationMessage is what an exited container left in its termination
// message file (at most 4 KiB), or with FallbackToLogsOnError and nothing
// there after a failure, the tail of its logs (at most 80 lines, 2 KiB).
func (r *Runtime) terminationMessage(ctx context.Context, uid, id string, cs *runtime.ContainerStatus, policy string) string {
	if b, err := os.ReadFile(r.terminationLog(uid, cs.Name, cs.Attempt)); err == nil && len(b) > 0 {
		if len(b) > 4096 {
			b = b[:4096]
		}
		return string(b)
	}
	if policy != "FallbackToLogsOnError" || cs.ExitCode == 0 {
		return ""
	}
	var buf bytes.Buffer
	if err := r.Logs(ctx, id, runtime.LogOptions{TailLines: 80}, &buf, &buf); err != nil {
		return ""
	}
	b := buf.Bytes()
	if len(b) > 2048 {
		b = b[len(b)-2048:]
	}
	return string(b)
}
