package nodelifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/client/workqueue"
	"github.com/gantryhq/gantry/controller-manager/internal/controller"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Name is the controller's name in --controllers.
const Name = "nodelifecycle"

// The taints this controller manages.
const (
	TaintUnreachable   = "node.kubernetes.io/unreachable"
	TaintNotReady      = "node.kubernetes.io/not-ready"
	TaintUnschedulable = "node.kubernetes.io/unschedulable"
	NoExecute          = "NoExecute"
	NoSchedule         = "NoSchedule"
	LeaseNamespace     = "kube-node-lease"
)

// Options tune the controller.
type Options struct {
	// MonitorPeriod is how often nodes are checked (default 5s).
	MonitorPeriod time.Duration
	// GracePeriod is how long a node may go unheard before it is marked
	// unreachable (default 40s).
	GracePeriod time.Duration
	// EvictionRate is how many nodes per second may be tainted NoExecute
	// (default 0.1), with bursts of one.
	EvictionRate float64
}

// Controller is the node lifecycle controller.
type Controller struct {
	cc      *controller.Context
	opts    Options
	log     *zap.Logger
	queue   workqueue.Interface // nodes whose NoSchedule taints to check
	nodeLs  informer.Lister[*corev1.Node]
	leaseLs informer.Lister[*coordinationv1.Lease]
	podLs   informer.Lister[*corev1.Pod]
	synced  []func() bool
	limiter *rate.Limiter

	mu     sync.Mutex
	health map[string]*nodeHealth
}

// nodeHealth is what the controller last saw of a node, timed by its own
// clock (never the node's, which may be skewed).
type nodeHealth struct {
	probe     time.Time // when a heartbeat last changed
	renew     string    // the lease's renewTime last seen
	heartbeat string    // the Ready condition's lastHeartbeatTime last seen
}

// New makes the controller.
func New(cc *controller.Context, opts Options) *Controller {
	if opts.MonitorPeriod <= 0 {
		opts.MonitorPeriod = 5 * time.Second
	}
	if opts.GracePeriod <= 0 {
		opts.GracePeriod = 40 * time.Second
	}
	if opts.EvictionRate <= 0 {
		opts.EvictionRate = 0.1
	}
	nodeInf, leaseInf, podInf := cc.Informers.Nodes(), cc.Informers.Leases(), cc.Informers.Pods()
	c := &Controller{cc: cc, opts: opts, log: cc.Logger.Named(Name), queue: workqueue.New(Name),
		nodeLs: nodeInf.Lister(), leaseLs: leaseInf.Lister(), podLs: podInf.Lister(),
		synced:  []func() bool{nodeInf.HasSynced, leaseInf.HasSynced, podInf.HasSynced},
		limiter: rate.NewLimiter(rate.Limit(opts.EvictionRate), 1),
		health:  map[string]*nodeHealth{}}
	// The NoSchedule taints follow a node's conditions as they change, as
	// Kubernetes' taint-by-condition pass does: a node that turns Ready is
	// schedulable at once, not at the next monitor pass.
	nodeInf.AddEventHandler(informer.Handler[*corev1.Node]{
		OnAdd:    func(n *corev1.Node) { controller.Enqueue(c.queue, n) },
		OnUpdate: func(_, n *corev1.Node) { controller.Enqueue(c.queue, n) },
	})
	return c
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run checks the nodes every monitor period, and the NoSchedule taints of
// each node as it changes, until ctx ends. It has one worker of each kind
// whatever workers says.
func (c *Controller) Run(ctx context.Context, _ int) {
	if !informer.WaitForCacheSync(ctx, c.synced...) {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.cc.RunWorkers(ctx, Name, c.log, c.queue, 1, c.Sync)
	}()
	defer func() { <-done }()
	t := time.NewTicker(c.opts.MonitorPeriod)
	defer t.Stop()
	for {
		if err := c.Monitor(ctx); err != nil && ctx.Err() == nil {
			c.log.Info("node monitor pass failed", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Monitor runs one pass: node health, taints, evictions.
func (c *Controller) Monitor(ctx context.Context) error {
	now := c.cc.Now()
	nodes := c.nodeLs.List(nil)
	var errs []error
	ready := map[string]string{} // node -> Ready status after this pass
	current := map[string]*corev1.Node{}
	for _, n := range nodes {
		st, node, err := c.checkHealth(ctx, n, now)
		if err != nil {
			errs = append(errs, err)
		}
		ready[n.GetMetadata().GetName()] = st
		current[n.GetMetadata().GetName()] = node
	}
	c.forget(nodes)
	healthy := 0
	for _, st := range ready {
		if st == "True" {
			healthy++
		}
	}
	fullDisruption := len(nodes) > 0 && healthy == 0
	for name, node := range current {
		if err := c.syncTaints(ctx, node, ready[name], fullDisruption, true, now); err != nil {
			errs = append(errs, err)
		}
	}
	evicted, err := c.evict(ctx, now)
	if err != nil {
		errs = append(errs, err)
	}
	if err := c.markPodsNotReady(ctx, ready, evicted, now); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Sync makes the NoSchedule taints of the node key names match its Ready
// condition and spec.unschedulable. The NoExecute taints are left to the
// monitor pass, which rate-limits them.
func (c *Controller) Sync(ctx context.Context, key string) error {
	n, err := c.nodeLs.Get("", key)
	if client.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	ready := ""
	if rc := readyCondition(n); rc != nil {
		ready = rc.GetStatus()
	}
	return c.syncTaints(ctx, n, ready, false, false, c.cc.Now())
}

// markPodsNotReady sets the Ready condition of the pods on unreachable
// nodes to False, as Kubernetes does: their kubelet cannot, and services
// should stop sending them traffic long before they are evicted.
func (c *Controller) markPodsNotReady(ctx context.Context, ready map[string]string, evicted map[string]bool, now time.Time) error {
	var errs []error
	for _, p := range c.podLs.List(nil) {
		if ready[p.GetSpec().GetNodeName()] != "Unknown" || !controller.IsPodReady(p) || evicted[p.GetMetadata().GetUid()] ||
			p.GetMetadata().GetDeletionTimestamp() != nil {
			continue
		}
		up := proto.Clone(p).(*corev1.Pod)
		for _, cd := range up.Status.Conditions {
			if cd.Type == "Ready" {
				cd.Status, cd.LastTransitionTime = "False", timestamppb.New(now)
			}
		}
		if _, err := c.cc.Client.Pods(p.GetMetadata().GetNamespace()).UpdateStatus(ctx, up); err != nil &&
			!client.IsNotFound(err) && !client.IsConflict(err) {
			errs = append(errs, fmt.Errorf("mark pod %s/%s not ready: %w", p.GetMetadata().GetNamespace(), p.GetMetadata().GetName(), err))
			continue
		}
		c.cc.Recorder.Eventf(p, record.Warning, "NodeNotReady", "Node is not ready")
	}
	return errors.Join(errs...)
}

func (c *Controller) forget(nodes []*corev1.Node) {
	seen := map[string]bool{}
	for _, n := range nodes {
		seen[n.GetMetadata().GetName()] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for name := range c.health {
		if !seen[name] {
			delete(c.health, name)
		}
	}
}

func readyCondition(n *corev1.Node) *corev1.NodeCondition {
	for _, cd := range n.GetStatus().GetConditions() {
		if cd.GetType() == "Ready" {
			return cd
		}
	}
	return nil
}

// checkHealth updates what the controller knows of a node's heartbeats
// and marks the node's conditions Unknown once it has been silent for the
// grace period. It returns the node's Ready status and the node as it now
// is.
func (c *Controller) checkHealth(ctx context.Context, n *corev1.Node, now time.Time) (string, *corev1.Node, error) {
	name := n.GetMetadata().GetName()
	rc := readyCondition(n)
	renew := ""
	if l, err := c.leaseLs.Get(LeaseNamespace, name); err == nil && l.GetSpec().GetRenewTime() != nil {
		renew = l.GetSpec().GetRenewTime().AsTime().String()
	}
	hb := ""
	if rc != nil && rc.GetLastHeartbeatTime() != nil {
		hb = rc.GetLastHeartbeatTime().AsTime().String()
	}
	c.mu.Lock()
	h, ok := c.health[name]
	if !ok {
		// First sight: the node gets a full grace period from now.
		h = &nodeHealth{probe: now, renew: renew, heartbeat: hb}
		c.health[name] = h
	}
	if renew != h.renew || hb != h.heartbeat {
		h.probe, h.renew, h.heartbeat = now, renew, hb
	}
	silent := now.Sub(h.probe) > c.opts.GracePeriod
	c.mu.Unlock()

	// A node that has not posted a Ready condition yet has no status, and
	// so no status taints, until its grace period runs out.
	status := ""
	if rc != nil {
		status = rc.GetStatus()
	}
	if !silent || status == "Unknown" {
		return status, n, nil
	}
	// Silent for the grace period: every condition becomes Unknown.
	up := proto.Clone(n).(*corev1.Node)
	if up.Status == nil {
		up.Status = &corev1.NodeStatus{}
	}
	ts := timestamppb.New(now)
	conds := up.Status.Conditions
	found := false
	for _, cd := range conds {
		if cd.Type == "Ready" {
			found = true
		}
		if cd.Status != "Unknown" {
			cd.Status, cd.Reason, cd.Message, cd.LastTransitionTime = "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.", ts
		}
	}
	if !found {
		up.Status.Conditions = append(conds, &corev1.NodeCondition{Type: "Ready", Status: "Unknown", Reason: "NodeStatusNeverUpdated",
			Message: "Kubelet never posted node status.", LastHeartbeatTime: ts, LastTransitionTime: ts})
	}
	got, err := c.cc.Client.Nodes().UpdateStatus(ctx, up)
	if err != nil {
		return status, n, fmt.Errorf("mark node %s unknown: %w", name, err)
	}
	c.cc.Recorder.Eventf(got, record.Normal, "NodeNotReady", "Node %s status is now: NodeNotReady", name)
	c.log.Info("node stopped posting status", zap.String("node", name))
	return "Unknown", got, nil
}

// syncTaints makes a node's managed taints match its state: the NoSchedule
// taints of its Ready status and of spec.unschedulable (always, so that
// nothing new lands on a bad node), and, when noExecute is set, the
// NoExecute taint of its Ready status (rate-limited, and none in a full
// disruption). ready is the Ready condition's status, "" for none.
func (c *Controller) syncTaints(ctx context.Context, n *corev1.Node, ready string, fullDisruption, noExecute bool, now time.Time) error {
	statusKey := ""
	switch ready {
	case "False":
		statusKey = TaintNotReady
	case "Unknown":
		statusKey = TaintUnreachable
	}
	want := map[string]bool{} // "key:effect"
	if statusKey != "" {
		want[statusKey+":"+NoSchedule] = true
		if !fullDisruption {
			want[statusKey+":"+NoExecute] = true
		}
	}
	if n.GetSpec().GetUnschedulable() {
		want[TaintUnschedulable+":"+NoSchedule] = true
	}
	var keep []*corev1.Taint
	have := map[string]bool{}
	changed := false
	for _, t := range n.GetSpec().GetTaints() {
		k := t.GetKey() + ":" + t.GetEffect()
		switch {
		case !managed(t), t.GetEffect() == NoExecute && !noExecute:
			keep = append(keep, t)
		case want[k]:
			keep = append(keep, t)
			have[k] = true
		default:
			changed = true
		}
	}
	for _, k := range []string{
		TaintNotReady + ":" + NoSchedule, TaintUnreachable + ":" + NoSchedule, TaintUnschedulable + ":" + NoSchedule,
		TaintNotReady + ":" + NoExecute, TaintUnreachable + ":" + NoExecute,
	} {
		key, effect, _ := strings.Cut(k, ":")
		if !want[k] || have[k] || effect == NoExecute && !noExecute {
			continue
		}
		if effect == NoExecute && !c.limiter.Allow() {
			continue // rate-limited: a later pass
		}
		keep = append(keep, &corev1.Taint{Key: key, Effect: effect, TimeAdded: timestamppb.New(now)})
		changed = true
	}
	if !changed {
		return nil
	}
	up := proto.Clone(n).(*corev1.Node)
	if up.Spec == nil {
		up.Spec = &corev1.NodeSpec{}
	}
	up.Spec.Taints = keep
	if _, err := c.cc.Client.Nodes().Update(ctx, up); err != nil {
		return fmt.Errorf("update taints of node %s: %w", n.GetMetadata().GetName(), err)
	}
	if fullDisruption && statusKey != "" {
		c.log.Info("every node is unhealthy: not evicting", zap.String("node", n.GetMetadata().GetName()))
	}
	return nil
}

// managed reports whether this controller owns the taint.
func managed(t *corev1.Taint) bool {
	switch t.GetEffect() {
	case NoExecute:
		return t.GetKey() == TaintUnreachable || t.GetKey() == TaintNotReady
	case NoSchedule:
		return t.GetKey() == TaintUnreachable || t.GetKey() == TaintNotReady || t.GetKey() == TaintUnschedulable
	}
	return false
}

// evict deletes the pods whose NoExecute taints are not tolerated, or no
// longer (tolerationSeconds after the taint was added). It returns the
// uids of the pods it deleted.
func (c *Controller) evict(ctx context.Context, now time.Time) (map[string]bool, error) {
	evicted := map[string]bool{}
	tainted := map[string][]*corev1.Taint{}
	for _, n := range c.nodeLs.List(nil) {
		for _, t := range n.GetSpec().GetTaints() {
			if t.GetEffect() == NoExecute {
				tainted[n.GetMetadata().GetName()] = append(tainted[n.GetMetadata().GetName()], t)
			}
		}
	}
	if len(tainted) == 0 {
		return evicted, nil
	}
	var errs []error
	for _, p := range c.podLs.List(nil) {
		taints := tainted[p.GetSpec().GetNodeName()]
		if len(taints) == 0 || p.GetMetadata().GetDeletionTimestamp() != nil {
			continue
		}
		if ph := p.GetStatus().GetPhase(); ph == "Succeeded" || ph == "Failed" {
			continue
		}
		at, ok := EvictionTime(p.GetSpec().GetTolerations(), taints)
		if !ok || now.Before(at) {
			continue
		}
		m := p.GetMetadata()
		err := c.cc.Client.Pods(m.GetNamespace()).Delete(ctx, m.GetName(), client.DeleteOptions{Preconditions: &client.Preconditions{UID: m.GetUid()}})
		if err != nil && !client.IsNotFound(err) && !client.IsConflict(err) {
			errs = append(errs, fmt.Errorf("evict pod %s/%s: %w", m.GetNamespace(), m.GetName(), err))
			continue
		}
		evicted[m.GetUid()] = true
		c.cc.Recorder.Eventf(p, record.Normal, "TaintManagerEviction", "Marking for deletion Pod %s/%s", m.GetNamespace(), m.GetName())
	}
	return evicted, errors.Join(errs...)
}

// EvictionTime is when a pod with tolerations must leave a node with the
// NoExecute taints: at once (the zero time) if one is not tolerated,
// never (ok false) if all are tolerated forever, else the earliest taint
// time plus tolerationSeconds.
func EvictionTime(tolerations []*corev1.Toleration, taints []*corev1.Taint) (at time.Time, ok bool) {
	var earliest *time.Time
	for _, t := range taints {
		var best *corev1.Toleration
		for _, tol := range tolerations {
			if !Tolerates(tol, t) {
				continue
			}
			if tol.TolerationSeconds == nil {
				best = tol
				break
			}
			if best == nil || (best.TolerationSeconds != nil && *tol.TolerationSeconds > *best.TolerationSeconds) {
				best = tol
			}
		}
		if best == nil {
			return time.Time{}, true
		}
		if best.TolerationSeconds == nil {
			continue
		}
		added := t.GetTimeAdded().AsTime()
		secs := max(*best.TolerationSeconds, 0)
		e := added.Add(time.Duration(secs) * time.Second)
		if earliest == nil || e.Before(*earliest) {
			earliest = &e
		}
	}
	if earliest == nil {
		return time.Time{}, false
	}
	return *earliest, true
}

// Tolerates reports whether the toleration matches the taint.
func Tolerates(tol *corev1.Toleration, t *corev1.Taint) bool {
	if tol.GetEffect() != "" && tol.GetEffect() != t.GetEffect() {
		return false
	}
	if tol.GetKey() == "" {
		return tol.GetOperator() == "Exists"
	}
	if tol.GetKey() != t.GetKey() {
		return false
	}
	switch tol.GetOperator() {
	case "Exists":
		return true
	case "", "Equal":
		return tol.GetValue() == t.GetValue()
	}
	return false
}
