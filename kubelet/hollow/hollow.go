package hollow

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/kubelet/internal/kubelet"
	"github.com/gantryhq/gantry/kubelet/internal/runtime/fake"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Options tune a hollow node. The zero value is usable.
type Options struct {
	// Labels are added to the Node's labels.
	Labels map[string]string
	// Taints are the Node's taints when it is created.
	Taints []*corev1.Taint
	// Capacity overrides the reported capacity (default cpu=4,
	// memory=16Gi, pods=110).
	Capacity map[string]string
	// NodeIP is the node's InternalIP (default 10.255.0.1).
	NodeIP string
	// LeaseRenewInterval and NodeStatusUpdateFrequency default to 10s.
	LeaseRenewInterval        time.Duration
	NodeStatusUpdateFrequency time.Duration
	// Logger (default: none).
	Logger *zap.Logger
}

// Node is a running hollow node.
type Node struct {
	name   string
	rt     *fake.Runtime
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// Start registers the node nodeName through cs and runs its kubelet until
// ctx ends or Stop is called. It returns once the node is registered and its
// pod cache synced.
func Start(ctx context.Context, cs *client.Clientset, nodeName string, opts Options) (*Node, error) {
	capacity := map[string]string{"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"}
	for k, v := range opts.Capacity {
		capacity[k] = v
	}
	ip := opts.NodeIP
	if ip == "" {
		ip = "10.255.0.1"
	}
	rt := fake.New(false)
	ready := make(chan struct{})
	k, err := kubelet.New(kubelet.Config{
		NodeName:                  nodeName,
		Client:                    cs,
		Runtime:                   rt,
		Logger:                    opts.Logger,
		NodeLabels:                opts.Labels,
		RegisterWithTaints:        opts.Taints,
		Capacity:                  capacity,
		NodeIP:                    ip,
		Port:                      10250,
		Version:                   "v0.1.0-hollow",
		LeaseRenewInterval:        opts.LeaseRenewInterval,
		NodeStatusUpdateFrequency: opts.NodeStatusUpdateFrequency,
		Ready:                     func() { close(ready) },
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	n := &Node{name: nodeName, rt: rt, cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- k.Run(ctx) }()
	select {
	case <-ready:
		return n, nil
	case err := <-n.done:
		cancel()
		return nil, fmt.Errorf("hollow node %s: %w", nodeName, err)
	case <-ctx.Done():
		cancel()
		<-n.done
		return nil, ctx.Err()
	}
}

// Name is the node's name.
func (n *Node) Name() string { return n.name }

// Stop stops the node's kubelet and waits for it. The Node object and its
// pods stay (as when a real kubelet stops); it may be called more than once.
func (n *Node) Stop() {
	n.cancel()
	n.once.Do(func() { <-n.done })
}

// ExitContainer makes the running container name of the pod uid exit with
// code, as if its process ended; the kubelet then applies the pod's restart
// policy. It reports whether such a container was running.
func (n *Node) ExitContainer(uid, name string, code int) bool {
	return n.rt.ExitContainer(uid, name, code)
}
