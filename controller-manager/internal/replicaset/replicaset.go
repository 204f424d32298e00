package replicaset

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/workqueue"
	"github.com/gantryhq/gantry/controller-manager/internal/controller"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Name is the controller's name in --controllers.
const Name = "replicaset"

// BurstReplicas is the most pods created or deleted in one sync
// (Kubernetes' 500).
const BurstReplicas = 500

// Controller is the ReplicaSet controller.
type Controller struct {
	cc      *controller.Context
	log     *zap.Logger
	queue   workqueue.Interface
	rsInf   *informer.Informer[*appsv1.ReplicaSet]
	rsLs    informer.Lister[*appsv1.ReplicaSet]
	podLs   informer.Lister[*corev1.Pod]
	podInf  *informer.Informer[*corev1.Pod]
	exp     *controller.Expectations
	pods    controller.PodControl
	synced  []func() bool
	burst   int
	batchSz int
}

// New makes the controller and registers its informers' handlers.
func New(cc *controller.Context) *Controller {
	c := &Controller{
		cc:      cc,
		log:     cc.Logger.Named(Name),
		queue:   workqueue.New(Name),
		rsInf:   cc.Informers.ReplicaSets(),
		podInf:  cc.Informers.Pods(),
		exp:     controller.NewExpectations(),
		pods:    controller.PodControl{Client: cc.Client, Recorder: cc.Recorder},
		burst:   BurstReplicas,
		batchSz: 1,
	}
	c.rsLs = c.rsInf.Lister()
	c.podLs = c.podInf.Lister()
	c.synced = []func() bool{c.rsInf.HasSynced, c.podInf.HasSynced}
	c.rsInf.AddEventHandler(informer.Handler[*appsv1.ReplicaSet]{
		OnAdd:    func(rs *appsv1.ReplicaSet) { controller.Enqueue(c.queue, rs) },
		OnUpdate: func(_, rs *appsv1.ReplicaSet) { controller.Enqueue(c.queue, rs) },
		OnDelete: func(rs *appsv1.ReplicaSet) {
			c.exp.Delete(workqueue.KeyOf(rs))
			controller.Enqueue(c.queue, rs)
		},
	})
	c.podInf.AddEventHandler(informer.Handler[*corev1.Pod]{
		OnAdd:    c.addPod,
		OnUpdate: c.updatePod,
		OnDelete: c.deletePod,
	})
	return c
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) {
	if !informer.WaitForCacheSync(ctx, c.synced...) {
		return
	}
	c.cc.RunWorkers(ctx, Name, c.log, c.queue, workers, c.Sync)
}

func (c *Controller) ownerKey(pod *corev1.Pod) (string, bool) {
	ref := controller.ControllerOf(pod.GetMetadata())
	if ref == nil || ref.GetKind() != "ReplicaSet" {
		return "", false
	}
	rs, err := c.rsLs.Get(pod.GetMetadata().GetNamespace(), ref.GetName())
	if err != nil || rs.GetMetadata().GetUid() != ref.GetUid() {
		return "", false
	}
	return workqueue.KeyOf(rs), true
}

// matching enqueues every ReplicaSet whose selector matches an orphan pod.
func (c *Controller) enqueueMatching(pod *corev1.Pod) {
	for _, rs := range c.rsLs.ListNamespace(pod.GetMetadata().GetNamespace(), nil) {
		sel, err := controller.Selector(rs.GetSpec().GetSelector())
		if err == nil && sel.Matches(labels.Set(pod.GetMetadata().GetLabels())) {
			controller.Enqueue(c.queue, rs)
		}
	}
}

func (c *Controller) addPod(pod *corev1.Pod) {
	if pod.GetMetadata().GetDeletionTimestamp() != nil {
		c.deletePod(pod)
		return
	}
	if key, ok := c.ownerKey(pod); ok {
		c.exp.CreationObserved(key)
		c.queue.Add(key)
		return
	}
	if controller.ControllerOf(pod.GetMetadata()) == nil {
		c.enqueueMatching(pod)
	}
}

func (c *Controller) updatePod(old, pod *corev1.Pod) {
	if old.GetMetadata().GetResourceVersion() == pod.GetMetadata().GetResourceVersion() {
		return
	}
	if pod.GetMetadata().GetDeletionTimestamp() != nil && old.GetMetadata().GetDeletionTimestamp() == nil {
		// A pod being deleted counts as gone for expectations, as in
		// Kubernetes.
		if key, ok := c.ownerKey(pod); ok {
			c.exp.DeletionObserved(key, workqueue.KeyOf(pod))
		}
	}
	oldRef, newRef := controller.ControllerOf(old.GetMetadata()), controller.ControllerOf(pod.GetMetadata())
	if oldRef != nil && (newRef == nil || oldRef.GetUid() != newRef.GetUid()) {
		if key, ok := c.ownerKey(old); ok {
			c.queue.Add(key)
		}
	}
	if key, ok := c.ownerKey(pod); ok {
		c.queue.Add(key)
		// A pod that became ready needs a requeue after minReadySeconds
		// to count as available.
		if !controller.IsPodReady(old) && controller.IsPodReady(pod) {
			if rs, err := c.rsLs.Get(pod.GetMetadata().GetNamespace(), controller.ControllerOf(pod.GetMetadata()).GetName()); err == nil {
				if mrs := rs.GetSpec().GetMinReadySeconds(); mrs > 0 {
					c.queue.AddAfter(key, time.Duration(mrs)*time.Second+time.Second)
				}
			}
		}
		return
	}
	if newRef == nil {
		c.enqueueMatching(pod)
	}
}

func (c *Controller) deletePod(pod *corev1.Pod) {
	if key, ok := c.ownerKey(pod); ok {
		c.exp.DeletionObserved(key, workqueue.KeyOf(pod))
		c.queue.Add(key)
	}
}

// Sync reconciles the ReplicaSet key names.
func (c *Controller) Sync(ctx context.Context, key string) error {
	ns, name, err := workqueue.SplitKey(key)
	if err != nil {
		return nil
	}
	rs, err := c.rsLs.Get(ns, name)
	if client.IsNotFound(err) {
		c.exp.Delete(key)
		return nil
	}
	if err != nil {
		return err
	}
	sel, err := controller.Selector(rs.GetSpec().GetSelector())
	if err != nil {
		return nil // invalid selector: nothing to do until the spec changes
	}
	satisfied := c.exp.Satisfied(key)

	var candidates []*corev1.Pod
	for _, p := range c.podLs.ListNamespace(ns, nil) {
		if controller.IsPodActive(p) {
			candidates = append(candidates, p)
		}
	}
	pods, claimErr := controller.Claim(ctx, c.cc.Client.Pods, rs, sel, candidates)

	var manageErr error
	if satisfied && rs.GetMetadata().GetDeletionTimestamp() == nil {
		manageErr = c.manageReplicas(ctx, key, pods, rs)
	}
	statusErr := c.updateStatus(ctx, rs, pods, sel, manageErr)
	return errors.Join(claimErr, manageErr, statusErr)
}

func (c *Controller) manageReplicas(ctx context.Context, key string, pods []*corev1.Pod, rs *appsv1.ReplicaSet) error {
	diff := len(pods) - int(rs.GetSpec().GetReplicas())
	switch {
	case diff < 0:
		n := min(-diff, c.burst)
		c.exp.ExpectCreations(key, n)
		ref := controller.NewControllerRef(rs)
		tmpl := rs.GetSpec().GetTemplate()
		m := rs.GetMetadata()
		ok, err := controller.SlowStartBatch(n, c.batchSz, func() error {
			pod := controller.PodFromTemplate(tmpl, m.GetNamespace(), m.GetName()+"-", ref)
			_, err := c.pods.CreatePod(ctx, pod, rs)
			return err
		})
		// Creates never made will never be observed.
		for range n - ok {
			c.exp.CreationObserved(key)
		}
		return err
	case diff > 0:
		n := min(diff, c.burst)
		victims := append([]*corev1.Pod(nil), pods...)
		controller.SortPodsForDeletion(victims)
		victims = victims[:n]
		keys := make([]string, len(victims))
		for i, p := range victims {
			keys[i] = workqueue.KeyOf(p)
		}
		c.exp.ExpectDeletions(key, keys)
		var wg sync.WaitGroup
		errCh := make(chan error, n)
		for _, p := range victims {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.pods.DeletePod(ctx, p, rs); err != nil {
					c.exp.DeletionObserved(key, workqueue.KeyOf(p))
					errCh <- err
				}
			}()
		}
		wg.Wait()
		close(errCh)
		return <-errCh
	}
	return nil
}

// Status computes a ReplicaSet's status from its pods at now.
func Status(rs *appsv1.ReplicaSet, pods []*corev1.Pod, sel labels.Selector, now time.Time) *appsv1.ReplicaSetStatus {
	st := proto.Clone(rs.GetStatus()).(*appsv1.ReplicaSetStatus)
	if st == nil {
		st = &appsv1.ReplicaSetStatus{}
	}
	templateLabels := labels.Set(rs.GetSpec().GetTemplate().GetMetadata().GetLabels())
	var fully, ready, available int32
	for _, p := range pods {
		if labels.SelectorFromSet(templateLabels).Matches(labels.Set(p.GetMetadata().GetLabels())) {
			fully++
		}
		if controller.IsPodReady(p) {
			ready++
			if controller.IsPodAvailable(p, rs.GetSpec().GetMinReadySeconds(), now) {
				available++
			}
		}
	}
	st.Replicas = int32(len(pods))
	st.FullyLabeledReplicas = fully
	st.ReadyReplicas = ready
	st.AvailableReplicas = available
	st.ObservedGeneration = rs.GetMetadata().GetGeneration()
	return st
}

func (c *Controller) updateStatus(ctx context.Context, rs *appsv1.ReplicaSet, pods []*corev1.Pod, sel labels.Selector, manageErr error) error {
	now := c.cc.Now()
	st := Status(rs, pods, sel, now)
	st.Conditions = replicaFailure(rs.GetStatus().GetConditions(), manageErr, now)
	if proto.Equal(st, rs.GetStatus()) {
		return c.requeueForAvailability(rs, st)
	}
	up := proto.Clone(rs).(*appsv1.ReplicaSet)
	up.Status = st
	if _, err := c.cc.Client.ReplicaSets(rs.GetMetadata().GetNamespace()).UpdateStatus(ctx, up); err != nil {
		if client.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("update status of replicaset %s: %w", rs.GetMetadata().GetName(), err)
	}
	return c.requeueForAvailability(rs, st)
}

func (c *Controller) requeueForAvailability(rs *appsv1.ReplicaSet, st *appsv1.ReplicaSetStatus) error {
	if mrs := rs.GetSpec().GetMinReadySeconds(); mrs > 0 && st.ReadyReplicas != st.AvailableReplicas {
		c.queue.AddAfter(workqueue.KeyOf(rs), time.Duration(mrs)*time.Second)
	}
	return nil
}

// replicaFailure sets or clears the ReplicaFailure condition after a
// failed create or delete.
func replicaFailure(conds []*appsv1.ReplicaSetCondition, err error, now time.Time) []*appsv1.ReplicaSetCondition {
	var out []*appsv1.ReplicaSetCondition
	var existing *appsv1.ReplicaSetCondition
	for _, c := range conds {
		if c.GetType() == "ReplicaFailure" {
			existing = c
			continue
		}
		out = append(out, c)
	}
	if err == nil || client.IsConflict(err) || client.IsNotFound(err) {
		return out
	}
	if existing != nil {
		return append(out, existing)
	}
	return append(out, &appsv1.ReplicaSetCondition{
		Type: "ReplicaFailure", Status: "True", Reason: "FailedCreate", Message: err.Error(),
		LastTransitionTime: timestamp(now),
	})
}
