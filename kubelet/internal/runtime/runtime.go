package runtime

import (
	"context"
	"errors"
	"hash/fnv"
	"io"
	"sort"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Labels every container the kubelet makes carries, so that a restarted
// kubelet finds (adopts) its pods' containers and removes those of pods that
// no longer exist.
const (
	LabelManaged       = "io.gantry.managed"
	LabelPodUID        = "io.gantry.pod.uid"
	LabelPodName       = "io.gantry.pod.name"
	LabelPodNamespace  = "io.gantry.pod.namespace"
	LabelContainerName = "io.gantry.container.name"
	LabelAttempt       = "io.gantry.container.attempt"
	// LabelHash is the hash of the container's spec (ContainerHash) it was
	// started from; a changed spec restarts the container.
	LabelHash = "io.gantry.container.hash"
	LabelNode = "io.gantry.node"
	// SandboxName is the container name label of a pod's sandbox (pause)
	// container.
	SandboxName = "POD"
)

// State is the state of one container instance.
type State string

// The container states.
const (
	StateCreated State = "created"
	StateRunning State = "running"
	StateExited  State = "exited"
	StateUnknown State = "unknown"
)

// ContainerStatus is one instance (one run) of a container of a pod.
type ContainerStatus struct {
	// ID is the runtime's id of the instance.
	ID string
	// Name is the container's name in the pod spec.
	Name    string
	Image   string
	ImageID string
	State   State
	// Attempt counts the runs of this container in the pod: 0 for the
	// first, so it is the container's restartCount.
	Attempt int
	// Hash is the ContainerHash of the spec it was started from ("" when
	// unknown).
	Hash       string
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	ExitCode   int
	// Reason of an exited container: "Completed", "Error", "OOMKilled".
	Reason  string
	Message string
}

// SandboxStatus is a pod's sandbox: the container holding its network.
type SandboxStatus struct {
	ID      string
	Running bool
	// IP is the pod's IP while the sandbox runs.
	IP        string
	Attempt   int
	CreatedAt time.Time
}

// PodStatus is what the runtime holds of one pod.
type PodStatus struct {
	UID, Namespace, Name string
	// Sandbox is the newest sandbox; nil when there is none.
	Sandbox *SandboxStatus
	// Containers are every instance of every container, newest first.
	Containers []*ContainerStatus
}

// SortContainers orders s.Containers newest first (highest attempt, then
// latest creation).
func (s *PodStatus) SortContainers() {
	sort.SliceStable(s.Containers, func(i, j int) bool {
		a, b := s.Containers[i], s.Containers[j]
		if a.Attempt != b.Attempt {
			return a.Attempt > b.Attempt
		}
		return a.CreatedAt.After(b.CreatedAt)
	})
}

// Latest is the newest instance of the container name, nil if none.
func (s *PodStatus) Latest(name string) *ContainerStatus {
	if s == nil {
		return nil
	}
	for _, c := range s.Containers {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Previous is the instance before the newest of the container name, nil if
// none.
func (s *PodStatus) Previous(name string) *ContainerStatus {
	if s == nil {
		return nil
	}
	seen := false
	for _, c := range s.Containers {
		if c.Name != name {
			continue
		}
		if seen {
			return c
		}
		seen = true
	}
	return nil
}

// Running reports whether any container (or the sandbox) still runs.
func (s *PodStatus) Running() bool {
	if s == nil {
		return false
	}
	if s.Sandbox != nil && s.Sandbox.Running {
		return true
	}
	for _, c := range s.Containers {
		if c.State == StateRunning || c.State == StateCreated {
			return true
		}
	}
	return false
}

// Empty reports whether the runtime holds nothing of the pod.
func (s *PodStatus) Empty() bool {
	return s == nil || (s.Sandbox == nil && len(s.Containers) == 0)
}

// ContainerHash is a hash of a container's spec: the instance of a
// container whose hash differs from its spec's is restarted.
func ContainerHash(c *corev1.Container) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	h := fnv.New64a()
	_, _ = h.Write(b)
	return strconv.FormatUint(h.Sum64(), 36)
}

// StartContainer asks SyncPod to run a container of the pod.
type StartContainer struct {
	Container *corev1.Container
	// Attempt is the new instance's attempt (its restartCount).
	Attempt int
}

// KillContainer asks SyncPod to stop a running container.
type KillContainer struct {
	ID, Name string
	// Grace is how long after SIGTERM the container gets SIGKILL.
	Grace time.Duration
	// Reason is why ("Unhealthy", "Removed"), for logs.
	Reason string
}

// Actions are what SyncPod must do to a pod, decided by the kubelet.
type Actions struct {
	// CreateSandbox kills whatever runs of the pod and creates a new sandbox
	// with SandboxAttempt before starting containers.
	CreateSandbox  bool
	SandboxAttempt int
	// Kill are containers to stop, before any start.
	Kill []KillContainer
	// Start are containers to create and start, in order.
	Start []StartContainer
	// Status is the pod's status as the kubelet read it to decide these
	// actions; nil makes SyncPod read it.
	Status *PodStatus
	// PodCIDR is the node's spec.podCIDR; when set (and inside the pod
	// network), a new sandbox takes its IP from it.
	PodCIDR string
}

// Empty reports whether a holds nothing to do.
func (a *Actions) Empty() bool {
	return !a.CreateSandbox && len(a.Kill) == 0 && len(a.Start) == 0
}

// StartError is why a container could not start: Reason is the waiting
// reason the pod status shows ("CreateContainerError",
// "RunContainerError", "CreateContainerConfigError").
type StartError struct {
	Reason string
	Err    error
}

func (e *StartError) Error() string { return e.Reason + ": " + e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// SyncResult is the outcome of SyncPod.
type SyncResult struct {
	// SandboxErr is set when the sandbox could not be made; nothing was
	// started then.
	SandboxErr error
	// StartErrors are the containers (by name) that failed to start.
	StartErrors map[string]*StartError
}

// Image is an image on the node.
type Image struct {
	// Names are its tags and digests.
	Names     []string
	SizeBytes int64
}

// LogOptions select a container's logs.
type LogOptions struct {
	Follow     bool
	Timestamps bool
	// TailLines, when >= 0, keeps only that many last lines; -1 is all.
	TailLines int64
	// Since, when not zero, keeps lines written at or after it.
	Since time.Time
}

// ExecOptions run a command in a running container.
type ExecOptions struct {
	Command []string
	Stdin   io.Reader // nil: no stdin
	Stdout  io.Writer // nil: discarded
	Stderr  io.Writer // nil: discarded
	TTY     bool
}

// ErrNotFound is returned for a container the runtime does not know.
var ErrNotFound = errors.New("runtime: not found")

// ErrImageNotFound is returned by PullImage when no registry has the image.
var ErrImageNotFound = errors.New("runtime: image not found")

// Runtime runs pods. Every method is safe for concurrent use, with one
// caller per pod uid at a time for SyncPod, KillPod and RemovePod.
type Runtime interface {
	// Type is the runtime's name ("docker", "fake").
	Type() string
	// Version is the engine's version.
	Version(ctx context.Context) (string, error)
	// SyncPod carries out actions on pod. It is not an error that a
	// container failed to start: that is in the result.
	SyncPod(ctx context.Context, pod *corev1.Pod, actions *Actions) SyncResult
	// KillPod stops every container of the pod uid and its sandbox: SIGTERM
	// at once, SIGKILL after grace. It returns when all have stopped.
	// Stopped containers are kept (for their status and logs). Idempotent.
	KillPod(ctx context.Context, uid string, grace time.Duration) error
	// RemovePod removes every container of the pod uid, running or not, and
	// the pod's volumes. Idempotent.
	RemovePod(ctx context.Context, uid string) error
	// PodStatus reads what the runtime holds of the pod uid (an empty
	// status when nothing).
	PodStatus(ctx context.Context, uid string) (*PodStatus, error)
	// ListPods lists every pod the runtime holds containers of.
	ListPods(ctx context.Context) ([]*PodStatus, error)
	// Events streams the uids of pods whose containers changed state
	// (started, died, removed), so that the kubelet syncs them at once
	// rather than on a poll. Closed when ctx (of Run) ends.
	Events() <-chan string
	// ImagePresent reports whether image is present on the node.
	ImagePresent(ctx context.Context, image string) (bool, error)
	// PullImage pulls image.
	PullImage(ctx context.Context, image string) error
	// ListImages lists the images on the node.
	ListImages(ctx context.Context) ([]Image, error)
	// Exec runs a command in a running container and returns its exit code.
	Exec(ctx context.Context, containerID string, opts ExecOptions) (int, error)
	// Logs writes a container's logs to stdout and stderr; with Follow it
	// returns when the container stops or ctx ends.
	Logs(ctx context.Context, containerID string, opts LogOptions, stdout, stderr io.Writer) error
}
