package route

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/controller"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/nodeutil"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Config configures the controller.
type Config struct {
	Client    *client.Clientset
	Informers *informer.Factory
	Routes    provider.Routes
	Recorder  record.EventRecorder
	Logger    *zap.Logger
	// ClusterName is passed to the provider.
	ClusterName string
	// ReconcilePeriod is how often routes are reconciled even when no node
	// changed (default 10 seconds).
	ReconcilePeriod time.Duration
}

// Controller is the route controller.
type Controller struct {
	cfg   Config
	log   *zap.Logger
	nodes *informer.Informer[*corev1.Node]
	kick  chan struct{}
}

// New makes the controller and registers its informer handlers; call Run.
func New(cfg Config) *Controller {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.ReconcilePeriod == 0 {
		cfg.ReconcilePeriod = 10 * time.Second
	}
	if cfg.Recorder == nil {
		cfg.Recorder = controller.NopRecorder{}
	}
	c := &Controller{cfg: cfg, log: cfg.Logger.Named(controller.Route), nodes: cfg.Informers.Nodes(), kick: make(chan struct{}, 1)}
	c.nodes.AddEventHandler(informer.Handler[*corev1.Node]{
		OnAdd: func(*corev1.Node) { c.trigger() },
		OnUpdate: func(o, n *corev1.Node) {
			if !slices.Equal(podCIDRs(o), podCIDRs(n)) {
				c.trigger()
			}
		},
		OnDelete: func(*corev1.Node) { c.trigger() },
	})
	return c
}

func (c *Controller) trigger() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Run reconciles routes until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	if !informer.WaitForCacheSync(ctx, c.nodes.HasSynced) {
		return ctx.Err()
	}
	c.log.Info("started", zap.Duration("period", c.cfg.ReconcilePeriod))
	t := time.NewTicker(c.cfg.ReconcilePeriod)
	defer t.Stop()
	for {
		if err := c.Reconcile(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("route reconcile failed", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-c.kick:
		}
	}
}

func podCIDRs(n *corev1.Node) []string {
	if cidrs := n.GetSpec().GetPodCidrs(); len(cidrs) > 0 {
		return cidrs
	}
	if c := n.GetSpec().GetPodCidr(); c != "" {
		return []string{c}
	}
	return nil
}

// Reconcile makes the provider's routes match the nodes' pod CIDRs once.
func (c *Controller) Reconcile(ctx context.Context) error {
	routes, err := c.cfg.Routes.ListRoutes(ctx, c.cfg.ClusterName)
	if err != nil {
		return fmt.Errorf("list routes: %w", err)
	}
	nodes := c.nodes.Indexer().List()
	want := map[string]*corev1.Node{} // "node cidr" -> node
	for _, n := range nodes {
		for _, cidr := range podCIDRs(n) {
			want[n.GetMetadata().GetName()+" "+cidr] = n
		}
	}
	have := map[string]bool{}
	var errs []error
	for _, r := range routes {
		k := r.TargetNode + " " + r.DestinationCIDR
		if _, ok := want[k]; ok && !r.Blackhole {
			have[k] = true
			continue
		}
		c.log.Info("deleting route", zap.String("route", r.Name), zap.String("node", r.TargetNode), zap.String("cidr", r.DestinationCIDR))
		if err := c.cfg.Routes.DeleteRoute(ctx, c.cfg.ClusterName, r); err != nil {
			errs = append(errs, fmt.Errorf("delete route %s: %w", r.Name, err))
		}
	}
	failed := map[string]bool{}
	for k, n := range want {
		if have[k] {
			continue
		}
		name := n.GetMetadata().GetName()
		r := &provider.Route{TargetNode: name, DestinationCIDR: k[len(name)+1:]}
		c.log.Info("creating route", zap.String("node", name), zap.String("cidr", r.DestinationCIDR))
		if err := c.cfg.Routes.CreateRoute(ctx, c.cfg.ClusterName, n.GetMetadata().GetUid(), r); err != nil {
			failed[name] = true
			c.cfg.Recorder.Eventf(n, record.Warning, "FailedToCreateRoute", "Could not create route %s for node %s: %v", r.DestinationCIDR, name, err)
			errs = append(errs, fmt.Errorf("create route %s for node %s: %w", r.DestinationCIDR, name, err))
		}
	}
	for _, n := range nodes {
		if len(podCIDRs(n)) == 0 || failed[n.GetMetadata().GetName()] {
			continue
		}
		if err := c.markNetworkAvailable(ctx, n); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// markNetworkAvailable sets the node's NetworkUnavailable condition to False
// unless it is already.
func (c *Controller) markNetworkAvailable(ctx context.Context, n *corev1.Node) error {
	if nodeutil.Condition(n, nodeutil.ConditionNetworkUnavailable).GetStatus() == "False" {
		return nil
	}
	next := proto.Clone(n).(*corev1.Node)
	if next.Status == nil {
		next.Status = &corev1.NodeStatus{}
	}
	now := timestamppb.Now()
	cond := &corev1.NodeCondition{Type: nodeutil.ConditionNetworkUnavailable, Status: "False", Reason: "RouteCreated",
		Message: "The route controller created a route", LastTransitionTime: now, LastHeartbeatTime: now}
	next.Status.Conditions = slices.DeleteFunc(next.Status.Conditions, func(c *corev1.NodeCondition) bool {
		return c.GetType() == nodeutil.ConditionNetworkUnavailable
	})
	next.Status.Conditions = append(next.Status.Conditions, cond)
	if _, err := c.cfg.Client.Nodes().UpdateStatus(ctx, next); err != nil {
		return fmt.Errorf("set NetworkUnavailable=False on node %s: %w", n.GetMetadata().GetName(), err)
	}
	return nil
}
