package service

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
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

// Finalizer keeps a LoadBalancer service until its load balancer is gone.
const Finalizer = "service.kubernetes.io/load-balancer-cleanup"

// TypeLoadBalancer is the service type this controller serves.
const TypeLoadBalancer = "LoadBalancer"

// Config configures the controller.
type Config struct {
	Client       *client.Clientset
	Informers    *informer.Factory
	LoadBalancer provider.LoadBalancer
	Recorder     record.EventRecorder
	Logger       *zap.Logger
	// ClusterName is passed to the provider.
	ClusterName string
	// Workers is the number of services synced at once (default 1).
	Workers int
	// ResyncPeriod is how often every load balancer is ensured again even
	// when nothing changed (default 5 minutes).
	ResyncPeriod time.Duration
}

// Controller is the service controller.
type Controller struct {
	cfg      Config
	log      *zap.Logger
	services *informer.Informer[*corev1.Service]
	nodes    *informer.Informer[*corev1.Node]
	queue    workqueue.Interface

	mu      sync.Mutex
	applied map[string]applied // by service key
}

// applied is what the provider was last given for one service.
type applied struct {
	spec   []byte
	nodes  string
	status *corev1.LoadBalancerStatus
	at     time.Time
}

// New makes the controller and registers its informer handlers; call Run.
func New(cfg Config) *Controller {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.ResyncPeriod == 0 {
		cfg.ResyncPeriod = 5 * time.Minute
	}
	if cfg.Recorder == nil {
		cfg.Recorder = controller.NopRecorder{}
	}
	c := &Controller{
		cfg:      cfg,
		log:      cfg.Logger.Named(controller.Service),
		services: cfg.Informers.Services(),
		nodes:    cfg.Informers.Nodes(),
		queue:    workqueue.New(controller.Service),
		applied:  map[string]applied{},
	}
	enqueue := func(s *corev1.Service) { c.queue.Add(workqueue.KeyOf(s)) }
	c.services.AddEventHandler(informer.Handler[*corev1.Service]{
		OnAdd:    enqueue,
		OnUpdate: func(_, s *corev1.Service) { enqueue(s) },
		OnDelete: enqueue,
	})
	c.nodes.AddEventHandler(informer.Handler[*corev1.Node]{
		OnAdd: func(*corev1.Node) { c.enqueueLoadBalancers() },
		OnUpdate: func(o, n *corev1.Node) {
			if nodeKey(o) != nodeKey(n) {
				c.enqueueLoadBalancers()
			}
		},
		OnDelete: func(*corev1.Node) { c.enqueueLoadBalancers() },
	})
	return c
}

// enqueueLoadBalancers enqueues every service that has or wants a load
// balancer, after a change of the node set.
func (c *Controller) enqueueLoadBalancers() {
	for _, s := range c.services.Indexer().List() {
		if wantsLoadBalancer(s) || hasFinalizer(s) {
			c.queue.Add(workqueue.KeyOf(s))
		}
	}
}

// Run syncs services until ctx ends. Informers must be started by the caller.
func (c *Controller) Run(ctx context.Context) error {
	if !informer.WaitForCacheSync(ctx, c.services.HasSynced, c.nodes.HasSynced) {
		return ctx.Err()
	}
	c.log.Info("started")
	go func() {
		t := time.NewTicker(c.cfg.ResyncPeriod)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.enqueueLoadBalancers()
			}
		}
	}()
	controller.RunWorkers(ctx, c.queue, c.cfg.Workers, c.sync, c.log)
	return nil
}

func wantsLoadBalancer(s *corev1.Service) bool {
	return s.GetSpec().GetType() == TypeLoadBalancer && s.GetMetadata().GetDeletionTimestamp() == nil
}

func hasFinalizer(s *corev1.Service) bool {
	return slices.Contains(s.GetMetadata().GetFinalizers(), Finalizer)
}

func (c *Controller) sync(ctx context.Context, key string) error {
	svc, ok := c.services.Indexer().Get(key)
	if !ok {
		c.forget(key)
		return nil
	}
	switch {
	case wantsLoadBalancer(svc):
		return c.ensure(ctx, key, svc)
	case hasFinalizer(svc):
		return c.cleanup(ctx, key, svc)
	}
	return nil
}

func (c *Controller) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.applied, key)
}

// ensure makes the provider's load balancer match svc and the ready nodes.
func (c *Controller) ensure(ctx context.Context, key string, svc *corev1.Service) error {
	if !hasFinalizer(svc) {
		next := proto.Clone(svc).(*corev1.Service)
		next.Metadata.Finalizers = append(next.Metadata.Finalizers, Finalizer)
		updated, err := c.cfg.Client.Services(next.GetMetadata().GetNamespace()).Update(ctx, next)
		if err != nil {
			return fmt.Errorf("add finalizer to service %s: %w", key, err)
		}
		svc = updated
	}
	nodes := c.loadBalancerNodes()
	spec, err := specKey(svc)
	if err != nil {
		return err
	}
	want := applied{spec: spec, nodes: nodesKey(nodes)}

	c.mu.Lock()
	prev, had := c.applied[key]
	c.mu.Unlock()
	fresh := had && time.Since(prev.at) < c.cfg.ResyncPeriod && bytes.Equal(prev.spec, want.spec)
	lb := c.cfg.LoadBalancer
	var status *corev1.LoadBalancerStatus
	switch {
	case fresh && prev.nodes == want.nodes:
		status, want.at = prev.status, prev.at
	case fresh:
		c.log.Info("updating load balancer nodes", zap.String("service", key), zap.Int("nodes", len(nodes)))
		if err := lb.UpdateLoadBalancer(ctx, c.cfg.ClusterName, svc, nodes); err != nil {
			c.forget(key) // ensure in full next time
			c.cfg.Recorder.Eventf(svc, record.Warning, "UpdateLoadBalancerFailed", "Error updating load balancer with new hosts: %v", err)
			return fmt.Errorf("update load balancer of service %s: %w", key, err)
		}
		c.cfg.Recorder.Eventf(svc, record.Normal, "UpdatedLoadBalancer", "Updated load balancer with new hosts")
		status, want.at = prev.status, prev.at
	default:
		c.log.Info("ensuring load balancer", zap.String("service", key), zap.Int("nodes", len(nodes)))
		c.cfg.Recorder.Event(svc, record.Normal, "EnsuringLoadBalancer", "Ensuring load balancer")
		status, err = lb.EnsureLoadBalancer(ctx, c.cfg.ClusterName, svc, nodes)
		if err != nil {
			c.forget(key)
			c.cfg.Recorder.Eventf(svc, record.Warning, "SyncLoadBalancerFailed", "Error syncing load balancer: %v", err)
			return fmt.Errorf("ensure load balancer of service %s: %w", key, err)
		}
		c.cfg.Recorder.Event(svc, record.Normal, "EnsuredLoadBalancer", "Ensured load balancer")
		want.at = time.Now()
	}
	want.status = status
	c.mu.Lock()
	c.applied[key] = want
	c.mu.Unlock()
	return c.writeStatus(ctx, key, svc, status)
}

// cleanup deletes the load balancer of a service that no longer wants one,
// then clears its status and removes the finalizer.
func (c *Controller) cleanup(ctx context.Context, key string, svc *corev1.Service) error {
	c.log.Info("deleting load balancer", zap.String("service", key))
	c.cfg.Recorder.Event(svc, record.Normal, "DeletingLoadBalancer", "Deleting load balancer")
	if err := c.cfg.LoadBalancer.EnsureLoadBalancerDeleted(ctx, c.cfg.ClusterName, svc); err != nil {
		c.cfg.Recorder.Eventf(svc, record.Warning, "DeleteLoadBalancerFailed", "Error deleting load balancer: %v", err)
		return fmt.Errorf("delete load balancer of service %s: %w", key, err)
	}
	c.forget(key)
	c.cfg.Recorder.Event(svc, record.Normal, "DeletedLoadBalancer", "Deleted load balancer")
	if svc.GetMetadata().GetDeletionTimestamp() == nil {
		if err := c.writeStatus(ctx, key, svc, nil); err != nil {
			return err
		}
		// writeStatus may have moved the resourceVersion; read it again.
		fresh, err := c.cfg.Client.Services(svc.GetMetadata().GetNamespace()).Get(ctx, svc.GetMetadata().GetName())
		if err != nil {
			return fmt.Errorf("read service %s: %w", key, err)
		}
		svc = fresh
	}
	next := proto.Clone(svc).(*corev1.Service)
	next.Metadata.Finalizers = slices.DeleteFunc(next.Metadata.Finalizers, func(f string) bool { return f == Finalizer })
	if _, err := c.cfg.Client.Services(next.GetMetadata().GetNamespace()).Update(ctx, next); err != nil && !client.IsNotFound(err) {
		return fmt.Errorf("remove finalizer from service %s: %w", key, err)
	}
	return nil
}

// writeStatus sets status.loadBalancer to status (nil clears it) unless it
// is that already.
func (c *Controller) writeStatus(ctx context.Context, key string, svc *corev1.Service, status *corev1.LoadBalancerStatus) error {
	if len(status.GetIngress()) == 0 {
		status = nil
	}
	cur := svc.GetStatus().GetLoadBalancer()
	if len(cur.GetIngress()) == 0 {
		cur = nil
	}
	if proto.Equal(cur, status) {
		return nil
	}
	next := proto.Clone(svc).(*corev1.Service)
	if next.Status == nil {
		next.Status = &corev1.ServiceStatus{}
	}
	next.Status.LoadBalancer = proto.Clone(status).(*corev1.LoadBalancerStatus)
	if status == nil {
		next.Status.LoadBalancer = nil
	}
	if _, err := c.cfg.Client.Services(next.GetMetadata().GetNamespace()).UpdateStatus(ctx, next); err != nil {
		return fmt.Errorf("write load balancer status of service %s: %w", key, err)
	}
	c.log.Info("wrote load balancer status", zap.String("service", key), zap.Stringers("ingress", ingressStrings(status)))
	return nil
}

type ingressString struct{ *corev1.LoadBalancerIngress }

func (i ingressString) String() string {
	if i.GetIp() != "" {
		return i.GetIp()
	}
	return i.GetHostname()
}

func ingressStrings(s *corev1.LoadBalancerStatus) []fmt.Stringer {
	var out []fmt.Stringer
	for _, i := range s.GetIngress() {
		out = append(out, ingressString{i})
	}
	return out
}

// loadBalancerNodes are the nodes load balancers forward to: Ready, not
// being deleted, and not labelled
// node.kubernetes.io/exclude-from-external-load-balancers; sorted by name.
func (c *Controller) loadBalancerNodes() []*corev1.Node {
	var out []*corev1.Node
	for _, n := range c.nodes.Indexer().List() {
		if eligible(n) {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetMetadata().GetName() < out[j].GetMetadata().GetName() })
	return out
}

func eligible(n *corev1.Node) bool {
	if n.GetMetadata().GetDeletionTimestamp() != nil || !nodeutil.IsReady(n) {
		return false
	}
	_, excluded := n.GetMetadata().GetLabels()[nodeutil.LabelExcludeFromLB]
	return !excluded
}

// nodeKey is what of a node matters to load balancers: "" when it is not
// eligible, else its name and addresses.
func nodeKey(n *corev1.Node) string {
	if !eligible(n) {
		return ""
	}
	var b strings.Builder
	b.WriteString(n.GetMetadata().GetName())
	for _, a := range n.GetStatus().GetAddresses() {
		b.WriteString(" " + a.GetType() + "=" + a.GetAddress())
	}
	return b.String()
}

func nodesKey(nodes []*corev1.Node) string {
	keys := make([]string, len(nodes))
	for i, n := range nodes {
		keys[i] = nodeKey(n)
	}
	return strings.Join(keys, ";")
}

// specKey is what of a service matters to its load balancer.
func specKey(svc *corev1.Service) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(svc.GetSpec())
	if err != nil {
		return nil, fmt.Errorf("marshal service spec: %w", err)
	}
	return append([]byte(svc.GetMetadata().GetUid()+"\x00"), b...), nil
}
