package cloudnode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/client/workqueue"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/controller"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/nodeutil"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Config configures the controller.
type Config struct {
	Client    *client.Clientset
	Informers *informer.Factory
	Instances provider.Instances
	Recorder  record.EventRecorder
	Logger    *zap.Logger
	// Workers is the number of nodes synced at once (default 1).
	Workers int
	// StatusUpdatePeriod is how often every node's addresses are checked
	// against the provider (default 5 minutes).
	StatusUpdatePeriod time.Duration
}

// Controller is the cloud node controller.
type Controller struct {
	cfg   Config
	log   *zap.Logger
	nodes *informer.Informer[*corev1.Node]
	store *informer.Indexer[*corev1.Node]
	queue workqueue.Interface
}

// New makes the controller and registers its informer handlers; call Run.
func New(cfg Config) *Controller {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.StatusUpdatePeriod == 0 {
		cfg.StatusUpdatePeriod = 5 * time.Minute
	}
	c := &Controller{
		cfg:   cfg,
		log:   cfg.Logger.Named(controller.CloudNode),
		nodes: cfg.Informers.Nodes(),
		queue: workqueue.New(controller.CloudNode),
	}
	c.store = c.nodes.Indexer()
	c.nodes.AddEventHandler(informer.Handler[*corev1.Node]{
		OnAdd: func(n *corev1.Node) { c.enqueueIfUninitialized(n) },
		OnUpdate: func(_, n *corev1.Node) {
			c.enqueueIfUninitialized(n)
		},
	})
	return c
}

func (c *Controller) enqueueIfUninitialized(n *corev1.Node) {
	if nodeutil.HasTaint(n, nodeutil.TaintUninitialized) {
		c.queue.Add(workqueue.KeyOf(n))
	}
}

// Run syncs nodes until ctx ends. Informers must be started by the caller.
func (c *Controller) Run(ctx context.Context) error {
	if !informer.WaitForCacheSync(ctx, c.nodes.HasSynced) {
		return ctx.Err()
	}
	c.log.Info("started")
	go controller.Every(ctx, c.cfg.StatusUpdatePeriod, func(context.Context) {
		for _, n := range c.store.List() {
			c.queue.Add(workqueue.KeyOf(n))
		}
	})
	controller.RunWorkers(ctx, c.queue, c.cfg.Workers, c.sync, c.log)
	return nil
}

func (c *Controller) sync(ctx context.Context, key string) error {
	cached, ok := c.store.Get(key)
	if !ok || cached.GetMetadata().GetDeletionTimestamp() != nil {
		return nil
	}
	md, err := c.cfg.Instances.InstanceMetadata(ctx, cached)
	if errors.Is(err, provider.ErrInstanceNotFound) && !nodeutil.HasTaint(cached, nodeutil.TaintUninitialized) {
		return nil // the lifecycle controller deals with vanished instances
	}
	if err != nil {
		return fmt.Errorf("instance metadata of node %s: %w", key, err)
	}
	node := cached
	if addrs, changed := mergeAddresses(node.GetStatus().GetAddresses(), md.Addresses); changed {
		next := proto.Clone(node).(*corev1.Node)
		if next.Status == nil {
			next.Status = &corev1.NodeStatus{}
		}
		next.Status.Addresses = addrs
		updated, err := c.cfg.Client.Nodes().UpdateStatus(ctx, next)
		if err != nil {
			return fmt.Errorf("update addresses of node %s: %w", key, err)
		}
		c.log.Info("updated node addresses", zap.String("node", key))
		node = updated
	}
	if !nodeutil.HasTaint(node, nodeutil.TaintUninitialized) {
		return nil
	}
	next := proto.Clone(node).(*corev1.Node)
	initialize(next, md)
	nodeutil.RemoveTaint(next, nodeutil.TaintUninitialized)
	if _, err := c.cfg.Client.Nodes().Update(ctx, next); err != nil {
		return fmt.Errorf("initialize node %s: %w", key, err)
	}
	c.log.Info("initialized node", zap.String("node", key), zap.String("providerID", next.GetSpec().GetProviderId()),
		zap.String("instanceType", md.InstanceType), zap.String("zone", md.Zone))
	if c.cfg.Recorder != nil {
		c.cfg.Recorder.Event(next, record.Normal, "Synced", "Node initialized by the cloud provider")
	}
	return nil
}

// initialize sets n's provider ID (when not yet set) and labels from md.
func initialize(n *corev1.Node, md *provider.InstanceMetadata) {
	if n.Spec == nil {
		n.Spec = &corev1.NodeSpec{}
	}
	if n.Spec.ProviderId == "" {
		n.Spec.ProviderId = md.ProviderID
	}
	set := func(k, v string) {
		if v == "" {
			return
		}
		if n.Metadata.Labels == nil {
			n.Metadata.Labels = map[string]string{}
		}
		n.Metadata.Labels[k] = v
	}
	set(nodeutil.LabelInstanceType, md.InstanceType)
	set(nodeutil.LabelZone, md.Zone)
	set(nodeutil.LabelRegion, md.Region)
}

// mergeAddresses returns the provider's addresses, keeping the node's
// Hostname address if the provider has none; with no provider addresses the
// node's stay. It says whether the result differs from current.
func mergeAddresses(current, fromProvider []*corev1.NodeAddress) ([]*corev1.NodeAddress, bool) {
	if len(fromProvider) == 0 {
		return current, false
	}
	out := make([]*corev1.NodeAddress, 0, len(fromProvider)+1)
	hasHostname := false
	for _, a := range fromProvider {
		out = append(out, proto.Clone(a).(*corev1.NodeAddress))
		hasHostname = hasHostname || a.GetType() == "Hostname"
	}
	if !hasHostname {
		for _, a := range current {
			if a.GetType() == "Hostname" {
				out = append(out, proto.Clone(a).(*corev1.NodeAddress))
			}
		}
	}
	if len(out) != len(current) {
		return out, true
	}
	for i := range out {
		if !proto.Equal(out[i], current[i]) {
			return out, true
		}
	}
	return out, false
}
