package nodelifecycle

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
	// MonitorPeriod is how often nodes are checked (default 5 seconds).
	MonitorPeriod time.Duration
}

// Controller is the cloud node lifecycle controller.
type Controller struct {
	cfg   Config
	log   *zap.Logger
	nodes *informer.Informer[*corev1.Node]
}

// New makes the controller; call Run.
func New(cfg Config) *Controller {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.MonitorPeriod == 0 {
		cfg.MonitorPeriod = 5 * time.Second
	}
	return &Controller{cfg: cfg, log: cfg.Logger.Named(controller.CloudNodeLifecycle), nodes: cfg.Informers.Nodes()}
}

// Run checks the nodes every MonitorPeriod until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	if !informer.WaitForCacheSync(ctx, c.nodes.HasSynced) {
		return ctx.Err()
	}
	c.log.Info("started", zap.Duration("period", c.cfg.MonitorPeriod))
	controller.Every(ctx, c.cfg.MonitorPeriod, c.MonitorNodes)
	return nil
}

// MonitorNodes checks every node once.
func (c *Controller) MonitorNodes(ctx context.Context) {
	for _, n := range c.nodes.Indexer().List() {
		if ctx.Err() != nil {
			return
		}
		if err := c.check(ctx, n); err != nil {
			c.log.Warn("node check failed", zap.String("node", workqueue.KeyOf(n)), zap.Error(err))
		}
	}
}

func (c *Controller) check(ctx context.Context, n *corev1.Node) error {
	name := n.GetMetadata().GetName()
	if n.GetMetadata().GetDeletionTimestamp() != nil {
		return nil
	}
	if nodeutil.IsReady(n) {
		if nodeutil.HasTaint(n, nodeutil.TaintShutdown) {
			return c.changeTaints(ctx, name, func(n *corev1.Node) bool { return nodeutil.RemoveTaint(n, nodeutil.TaintShutdown) })
		}
		return nil
	}
	shutdown, err := c.cfg.Instances.InstanceShutdown(ctx, n)
	switch {
	case errors.Is(err, provider.ErrInstanceNotFound):
	case err != nil:
		return fmt.Errorf("is instance of node %s shut down: %w", name, err)
	case shutdown:
		if !nodeutil.HasTaint(n, nodeutil.TaintShutdown) {
			c.log.Info("instance shut down; tainting node", zap.String("node", name))
		}
		return c.changeTaints(ctx, name, func(n *corev1.Node) bool {
			return nodeutil.AddTaint(n, &corev1.Taint{Key: nodeutil.TaintShutdown, Effect: "NoSchedule"})
		})
	}
	exists, err := c.cfg.Instances.InstanceExists(ctx, n)
	if err != nil {
		return fmt.Errorf("does instance of node %s exist: %w", name, err)
	}
	if exists {
		return nil
	}
	c.log.Info("instance gone; deleting node", zap.String("node", name))
	if c.cfg.Recorder != nil {
		c.cfg.Recorder.Eventf(n, record.Normal, "DeletingNode", "Deleting node %s because its instance does not exist any more", name)
	}
	err = c.cfg.Client.Nodes().Delete(ctx, name, client.DeleteOptions{Preconditions: &client.Preconditions{UID: n.GetMetadata().GetUid()}})
	if err != nil && !client.IsNotFound(err) {
		return fmt.Errorf("delete node %s: %w", name, err)
	}
	return nil
}

// changeTaints reads the node, applies change and writes it if change says
// it changed anything, retrying on conflict.
func (c *Controller) changeTaints(ctx context.Context, name string, change func(*corev1.Node) bool) error {
	return client.RetryOnConflict(ctx, func() error {
		n, err := c.cfg.Client.Nodes().Get(ctx, name)
		if err != nil {
			return err
		}
		next := proto.Clone(n).(*corev1.Node)
		if !change(next) {
			return nil
		}
		_, err = c.cfg.Client.Nodes().Update(ctx, next)
		return err
	})
}
