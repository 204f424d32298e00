package controllers

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/workqueue"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// ResultAnnotation on a pod makes the hollow kubelet finish it: "Failed"
// or "Succeeded", once it has been running.
const ResultAnnotation = "hollow.gantry.dev/result"

// NotReadyAnnotation "true" on a pod keeps it Running but never Ready
// (a failing readiness probe).
const NotReadyAnnotation = "hollow.gantry.dev/not-ready"

// HollowOptions tune the hollow nodes.
type HollowOptions struct {
	// Nodes is how many nodes to register (default 3).
	Nodes int
	// ReadyDelay is how long a bound pod waits before it is Running and
	// Ready.
	ReadyDelay time.Duration
	// LeaseRenew is how often node leases are renewed (default 1s).
	LeaseRenew time.Duration
	// Workers bind and update pods concurrently (default 16).
	Workers int
}

// Hollow is a set of fake nodes: the scheduler and kubelets of a test.
type Hollow struct {
	cs    *client.Clientset
	opts  HollowOptions
	queue workqueue.Interface
	pods  informer.Lister[*corev1.Pod]
	names []string
	next  atomic.Uint64
	ipSeq atomic.Uint32

	mu      sync.Mutex
	stopped map[string]bool // nodes whose kubelet is down

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// StartHollow registers the nodes and runs them until Stop.
func StartHollow(ctx context.Context, cs *client.Clientset, opts HollowOptions) (*Hollow, error) {
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	if opts.LeaseRenew == 0 {
		opts.LeaseRenew = time.Second
	}
	if opts.Workers == 0 {
		opts.Workers = 16
	}
	ctx, cancel := context.WithCancel(ctx)
	h := &Hollow{cs: cs, opts: opts, queue: workqueue.New("hollow"), stopped: map[string]bool{}, cancel: cancel}
	for i := range opts.Nodes {
		name := fmt.Sprintf("hollow-%d", i)
		h.names = append(h.names, name)
		now := timestamppb.Now()
		node := &corev1.Node{
			Metadata: &metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
			Spec:     &corev1.NodeSpec{},
		}
		created, err := cs.Nodes().Create(ctx, node)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("create node %s: %w", name, err)
		}
		created.Status = &corev1.NodeStatus{
			Phase: "Running",
			Conditions: []*corev1.NodeCondition{{Type: "Ready", Status: "True", Reason: "KubeletReady",
				Message: "hollow kubelet is ready", LastHeartbeatTime: now, LastTransitionTime: now}},
			Addresses: []*corev1.NodeAddress{{Type: "InternalIP", Address: fmt.Sprintf("127.0.1.%d", i+1)}},
		}
		if _, err := cs.Nodes().UpdateStatus(ctx, created); err != nil {
			cancel()
			return nil, fmt.Errorf("node %s status: %w", name, err)
		}
		if err := h.renew(ctx, name); err != nil {
			cancel()
			return nil, err
		}
	}
	f := informer.NewFactory(cs)
	inf := f.Pods()
	h.pods = inf.Lister()
	inf.AddEventHandler(informer.Handler[*corev1.Pod]{
		OnAdd:    func(p *corev1.Pod) { h.queue.Add(workqueue.KeyOf(p)) },
		OnUpdate: func(_, p *corev1.Pod) { h.queue.Add(workqueue.KeyOf(p)) },
	})
	f.Start(ctx)
	if !f.WaitForCacheSync(ctx) {
		cancel()
		return nil, ctx.Err()
	}
	for range opts.Workers {
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			for h.work(ctx) {
			}
		}()
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(opts.LeaseRenew)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			for _, n := range h.names {
				if !h.isStopped(n) {
					_ = h.renew(ctx, n)
				}
			}
		}
	}()
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		<-ctx.Done()
		h.queue.ShutDown()
		f.Shutdown()
	}()
	return h, nil
}

// Nodes are the nodes' names.
func (h *Hollow) Nodes() []string { return append([]string(nil), h.names...) }

// StopNode stops a node's kubelet: its Lease is no longer renewed and its
// pods are left as they are.
func (h *Hollow) StopNode(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped[name] = true
}

func (h *Hollow) isStopped(name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stopped[name]
}

// Stop stops every node's goroutines.
func (h *Hollow) Stop() {
	h.cancel()
	h.wg.Wait()
}

func (h *Hollow) renew(ctx context.Context, node string) error {
	leases := h.cs.Leases("kube-node-lease")
	now := timestamppb.New(time.Now())
	l, err := leases.Get(ctx, node)
	if client.IsNotFound(err) {
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			Metadata: &metav1.ObjectMeta{Name: node, Namespace: "kube-node-lease"},
			Spec:     &coordinationv1.LeaseSpec{HolderIdentity: ptr.To(node), LeaseDurationSeconds: ptr.To(int32(40)), RenewTime: now},
		})
		return err
	}
	if err != nil {
		return err
	}
	l.Spec.RenewTime = now
	_, err = leases.Update(ctx, l)
	return err
}

func (h *Hollow) work(ctx context.Context) bool {
	key, quit := h.queue.Get()
	if quit {
		return false
	}
	defer h.queue.Done(key)
	if err := h.sync(ctx, key); err != nil && ctx.Err() == nil {
		h.queue.AddRateLimited(key)
		return true
	}
	h.queue.Forget(key)
	return true
}

func (h *Hollow) sync(ctx context.Context, key string) error {
	ns, name, _ := workqueue.SplitKey(key)
	p, err := h.pods.Get(ns, name)
	if err != nil {
		return nil
	}
	node := p.GetSpec().GetNodeName()
	if node != "" && h.isStopped(node) {
		return nil
	}
	pods := h.cs.Pods(ns)
	m := p.GetMetadata()
	if m.GetDeletionTimestamp() != nil {
		// The kubelet has stopped the containers: finish the deletion.
		err := pods.Delete(ctx, name, client.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0)),
			Preconditions: &client.Preconditions{UID: m.GetUid()}})
		if client.IsNotFound(err) || client.IsConflict(err) {
			return nil
		}
		return err
	}
	if node == "" {
		var n string
		for range len(h.names) {
			n = h.names[h.next.Add(1)%uint64(len(h.names))]
			if !h.isStopped(n) {
				break
			}
		}
		bound, err := h.cs.BindPod(ctx, p, n)
		if err != nil {
			if client.IsNotFound(err) || client.IsFailedPrecondition(err) || client.IsConflict(err) || client.IsForbidden(err) {
				return nil
			}
			return err
		}
		p = bound
		node = n
	}
	ph := p.GetStatus().GetPhase()
	if ph == "Succeeded" || ph == "Failed" {
		return nil
	}
	result := m.GetAnnotations()[ResultAnnotation]
	wantReady := m.GetAnnotations()[NotReadyAnnotation] != "true"
	if ph == "Running" && result == "" {
		if wantReady && !podReady(p) {
			// Someone (the node lifecycle controller, while this node
			// looked unreachable) marked the pod not ready: report it
			// ready again, as a kubelet's probes would.
			return h.setReady(ctx, p)
		}
		return nil
	}
	if ph != "Running" && h.opts.ReadyDelay > 0 {
		if age := time.Since(m.GetCreationTimestamp().AsTime()); age < h.opts.ReadyDelay {
			h.queue.AddAfter(key, h.opts.ReadyDelay-age)
			return nil
		}
	}
	up := proto.Clone(p).(*corev1.Pod)
	now := timestamppb.New(time.Now())
	st := up.Status
	if st == nil {
		st = &corev1.PodStatus{}
		up.Status = st
	}
	if ph != "Running" {
		ip := h.ipSeq.Add(1)
		st.Phase = "Running"
		st.PodIp = fmt.Sprintf("10.%d.%d.%d", 64+(ip>>16)&63, (ip>>8)&255, ip&255)
		st.PodIps = []*corev1.PodIP{{Ip: st.PodIp}}
		st.HostIp = "127.0.1." + strconv.Itoa(indexOf(h.names, node)+1)
		st.HostIps = []*corev1.HostIP{{Ip: st.HostIp}}
		st.StartTime = now
		ready := "True"
		if m.GetAnnotations()[NotReadyAnnotation] == "true" {
			ready = "False"
		}
		st.Conditions = []*corev1.PodCondition{
			{Type: "PodScheduled", Status: "True", LastTransitionTime: now},
			{Type: "Initialized", Status: "True", LastTransitionTime: now},
			{Type: "ContainersReady", Status: ready, LastTransitionTime: now},
			{Type: "Ready", Status: ready, LastTransitionTime: now},
		}
		for _, c := range up.GetSpec().GetContainers() {
			st.ContainerStatuses = append(st.ContainerStatuses, &corev1.ContainerStatus{Name: c.GetName(), Image: c.GetImage(), Ready: ready == "True",
				Started: ptr.To(true), State: &corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}})
		}
	} else {
		// Finish as the annotation asks.
		exit := int32(0)
		if result == "Failed" {
			exit = 1
		}
		st.Phase = result
		for _, c := range st.Conditions {
			if c.Type == "Ready" || c.Type == "ContainersReady" {
				c.Status, c.LastTransitionTime = "False", now
			}
		}
		for _, cs := range st.ContainerStatuses {
			cs.Ready = false
			cs.State = &corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: exit, FinishedAt: now,
				StartedAt: cs.GetState().GetRunning().GetStartedAt(), Reason: map[int32]string{0: "Completed", 1: "Error"}[exit]}}
		}
	}
	_, err = pods.UpdateStatus(ctx, up)
	if client.IsNotFound(err) {
		return nil
	}
	if err == nil && result != "" && ph != "Running" {
		// Running now; finish on the next pass.
		h.queue.AddAfter(key, 20*time.Millisecond)
	}
	return err
}

func indexOf(s []string, x string) int {
	for i, v := range s {
		if v == x {
			return i
		}
	}
	return -1
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus() == "True"
		}
	}
	return false
}

func (h *Hollow) setReady(ctx context.Context, p *corev1.Pod) error {
	up := proto.Clone(p).(*corev1.Pod)
	now := timestamppb.New(time.Now())
	for _, c := range up.Status.Conditions {
		if c.Type == "Ready" || c.Type == "ContainersReady" {
			c.Status, c.LastTransitionTime = "True", now
		}
	}
	_, err := h.cs.Pods(p.GetMetadata().GetNamespace()).UpdateStatus(ctx, up)
	if client.IsNotFound(err) || client.IsConflict(err) {
		return nil // a newer version is on its way through the informer
	}
	return err
}
