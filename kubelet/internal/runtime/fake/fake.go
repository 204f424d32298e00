package fake

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/gantryhq/gantry/kubelet/internal/runtime"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Behavior is how containers of one image behave once started.
type Behavior struct {
	// ExitAfter, when > 0, makes the container exit that long after it
	// starts, with ExitCode.
	ExitAfter time.Duration
	ExitCode  int
	// FailStart makes SyncPod fail to start it (RunContainerError).
	FailStart bool
}

// Call is one recorded call of the fake.
type Call struct {
	Method string // "SyncPod", "KillPod", "RemovePod", "PullImage", "Exec"
	UID    string
	// Detail: for SyncPod the started containers' names ("+web"), killed
	// ("-web") and "sandbox"; for PullImage the image; for Exec the command.
	Detail []string
	Time   time.Time
}

type pod struct {
	status *runtime.PodStatus
	spec   *corev1.Pod
}

// Runtime is the fake runtime. The zero value is not usable; call New.
type Runtime struct {
	mu        sync.Mutex
	pods      map[string]*pod
	behaviors map[string]Behavior
	missing   map[string]bool // images neither present nor pullable
	present   map[string]bool // images pulled (when not all present)
	calls     []Call
	record    bool
	nextIP    uint32
	nextID    uint64
	events    chan string
	// ExecFunc answers Exec (and so exec probes); nil answers 0.
	execFunc func(containerID string, cmd []string) int
	now      func() time.Time
}

var _ runtime.Runtime = (*Runtime)(nil)

// New returns an empty fake. With record, calls are kept for Calls (tests);
// hollow nodes pass false to save memory.
func New(record bool) *Runtime {
	return &Runtime{
		pods:      map[string]*pod{},
		behaviors: map[string]Behavior{},
		missing:   map[string]bool{},
		present:   map[string]bool{},
		record:    record,
		nextIP:    10<<24 | 200<<16 | 2,
		events:    make(chan string, 1024),
		now:       time.Now,
	}
}

// SetBehavior sets how containers of image behave from their next start.
func (r *Runtime) SetBehavior(image string, b Behavior) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.behaviors[image] = b
}

// SetImageMissing makes image absent and not pullable (or, with false,
// present again).
func (r *Runtime) SetImageMissing(image string, missing bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.missing[image] = missing
}

// SetExecFunc sets the answer of Exec: the exit code of cmd.
func (r *Runtime) SetExecFunc(f func(containerID string, cmd []string) int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.execFunc = f
}

// Calls returns the recorded calls.
func (r *Runtime) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// ExitContainer makes the running instance of container name in pod uid
// exit with code now. It reports whether one was running.
func (r *Runtime) ExitContainer(uid, name string, code int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pods[uid]
	if p == nil {
		return false
	}
	c := p.status.Latest(name)
	if c == nil || c.State != runtime.StateRunning {
		return false
	}
	r.exitLocked(uid, c, code)
	return true
}

// Pods returns a copy of what the fake holds of every pod.
func (r *Runtime) Pods() []*runtime.PodStatus {
	l, _ := r.ListPods(context.Background())
	return l
}

func (r *Runtime) recordLocked(c Call) {
	if r.record {
		c.Time = time.Now()
		r.calls = append(r.calls, c)
	}
}

func (r *Runtime) notify(uid string) {
	select {
	case r.events <- uid:
	default: // the kubelet resyncs periodically; dropping is safe
	}
}

func (r *Runtime) exitLocked(uid string, c *runtime.ContainerStatus, code int) {
	c.State = runtime.StateExited
	c.ExitCode = code
	c.FinishedAt = r.now()
	c.Reason = "Completed"
	if code != 0 {
		c.Reason = "Error"
	}
	go r.notify(uid)
}

// Type implements runtime.Runtime.
func (r *Runtime) Type() string { return "fake" }

// Version implements runtime.Runtime.
func (r *Runtime) Version(context.Context) (string, error) { return "0.0.0", nil }

// SyncPod implements runtime.Runtime.
func (r *Runtime) SyncPod(_ context.Context, spec *corev1.Pod, a *runtime.Actions) runtime.SyncResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := spec.GetMetadata()
	uid := m.GetUid()
	p := r.pods[uid]
	if p == nil {
		p = &pod{status: &runtime.PodStatus{UID: uid, Namespace: m.GetNamespace(), Name: m.GetName()}}
		r.pods[uid] = p
	}
	p.spec = spec
	call := Call{Method: "SyncPod", UID: uid}
	now := r.now()
	res := runtime.SyncResult{}
	if a.CreateSandbox {
		for _, c := range p.status.Containers {
			if c.State == runtime.StateRunning {
				r.exitLocked(uid, c, 137)
			}
		}
		r.nextIP++
		ip := r.nextIP
		r.nextID++
		p.status.Sandbox = &runtime.SandboxStatus{
			ID:        fmt.Sprintf("fake-sandbox-%d", r.nextID),
			Running:   true,
			IP:        fmt.Sprintf("%d.%d.%d.%d", ip>>24, ip>>16&0xff, ip>>8&0xff, ip&0xff),
			Attempt:   a.SandboxAttempt,
			CreatedAt: now,
		}
		call.Detail = append(call.Detail, "sandbox")
	}
	for _, k := range a.Kill {
		for _, c := range p.status.Containers {
			if c.ID == k.ID && c.State == runtime.StateRunning {
				r.exitLocked(uid, c, 137)
			}
		}
		call.Detail = append(call.Detail, "-"+k.Name)
	}
	for _, s := range a.Start {
		call.Detail = append(call.Detail, "+"+s.Container.GetName())
		b := r.behaviors[s.Container.GetImage()]
		if b.FailStart {
			if res.StartErrors == nil {
				res.StartErrors = map[string]*runtime.StartError{}
			}
			res.StartErrors[s.Container.GetName()] = &runtime.StartError{Reason: "RunContainerError", Err: fmt.Errorf("fake: start %s failed", s.Container.GetName())}
			continue
		}
		r.nextID++
		c := &runtime.ContainerStatus{
			ID:        fmt.Sprintf("fake-%d", r.nextID),
			Name:      s.Container.GetName(),
			Image:     s.Container.GetImage(),
			ImageID:   "fake://" + s.Container.GetImage(),
			State:     runtime.StateRunning,
			Attempt:   s.Attempt,
			Hash:      runtime.ContainerHash(s.Container),
			CreatedAt: now,
			StartedAt: now,
		}
		// Keep the newest and the previous instance of each container.
		var kept []*runtime.ContainerStatus
		n := 0
		for _, o := range p.status.Containers {
			if o.Name == c.Name {
				n++
				if n > 1 {
					continue
				}
			}
			kept = append(kept, o)
		}
		p.status.Containers = append([]*runtime.ContainerStatus{c}, kept...)
		if b.ExitAfter > 0 {
			code := b.ExitCode
			time.AfterFunc(b.ExitAfter, func() {
				r.mu.Lock()
				defer r.mu.Unlock()
				if c.State == runtime.StateRunning {
					r.exitLocked(uid, c, code)
				}
			})
		}
	}
	p.status.SortContainers()
	r.recordLocked(call)
	return res
}

// KillPod implements runtime.Runtime.
func (r *Runtime) KillPod(_ context.Context, uid string, _ time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recordLocked(Call{Method: "KillPod", UID: uid})
	p := r.pods[uid]
	if p == nil {
		return nil
	}
	for _, c := range p.status.Containers {
		if c.State == runtime.StateRunning {
			r.exitLocked(uid, c, 137)
		}
	}
	if p.status.Sandbox != nil {
		p.status.Sandbox.Running = false
	}
	return nil
}

// RemovePod implements runtime.Runtime.
func (r *Runtime) RemovePod(_ context.Context, uid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recordLocked(Call{Method: "RemovePod", UID: uid})
	delete(r.pods, uid)
	return nil
}

func copyStatus(s *runtime.PodStatus) *runtime.PodStatus {
	out := &runtime.PodStatus{UID: s.UID, Namespace: s.Namespace, Name: s.Name}
	if s.Sandbox != nil {
		sb := *s.Sandbox
		out.Sandbox = &sb
	}
	for _, c := range s.Containers {
		cc := *c
		out.Containers = append(out.Containers, &cc)
	}
	return out
}

// PodStatus implements runtime.Runtime.
func (r *Runtime) PodStatus(_ context.Context, uid string) (*runtime.PodStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pods[uid]
	if p == nil {
		return &runtime.PodStatus{UID: uid}, nil
	}
	return copyStatus(p.status), nil
}

// ListPods implements runtime.Runtime.
func (r *Runtime) ListPods(context.Context) ([]*runtime.PodStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*runtime.PodStatus, 0, len(r.pods))
	for _, p := range r.pods {
		out = append(out, copyStatus(p.status))
	}
	return out, nil
}

// Events implements runtime.Runtime.
func (r *Runtime) Events() <-chan string { return r.events }

// ImagePresent implements runtime.Runtime.
func (r *Runtime) ImagePresent(_ context.Context, image string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.missing[image], nil
}

// ListImages implements runtime.Runtime: none.
func (r *Runtime) ListImages(context.Context) ([]runtime.Image, error) { return nil, nil }

// PullImage implements runtime.Runtime.
func (r *Runtime) PullImage(_ context.Context, image string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recordLocked(Call{Method: "PullImage", Detail: []string{image}})
	if r.missing[image] {
		return fmt.Errorf("pull %s: %w", image, runtime.ErrImageNotFound)
	}
	return nil
}

// Exec implements runtime.Runtime.
func (r *Runtime) Exec(_ context.Context, containerID string, opts runtime.ExecOptions) (int, error) {
	r.mu.Lock()
	f := r.execFunc
	r.recordLocked(Call{Method: "Exec", Detail: []string{containerID, strings.Join(opts.Command, " ")}})
	r.mu.Unlock()
	if opts.Stdout != nil {
		_, _ = io.WriteString(opts.Stdout, strings.Join(opts.Command, " ")+"\n")
	}
	if f == nil {
		return 0, nil
	}
	return f(containerID, opts.Command), nil
}

// Logs implements runtime.Runtime: one line naming the container.
func (r *Runtime) Logs(_ context.Context, containerID string, _ runtime.LogOptions, stdout, _ io.Writer) error {
	_, err := fmt.Fprintf(stdout, "fake log of %s\n", containerID)
	return err
}
