package namespace

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/client/workqueue"
	"github.com/gantryhq/gantry/controller-manager/internal/controller"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Name is the controller's name in --controllers.
const Name = "namespace"

// FinalizerKubernetes is the spec finalizer this controller owns.
const FinalizerKubernetes = "kubernetes"

// Controller is the namespace controller.
type Controller struct {
	cc     *controller.Context
	log    *zap.Logger
	queue  workqueue.Interface
	nsLs   informer.Lister[*corev1.Namespace]
	synced []func() bool
	// Retry is the wait before looking again at a namespace whose content
	// is still going.
	Retry time.Duration
}

// New makes the controller.
func New(cc *controller.Context, retry time.Duration) *Controller {
	inf := cc.Informers.Namespaces()
	c := &Controller{cc: cc, log: cc.Logger.Named(Name), queue: workqueue.New(Name), nsLs: inf.Lister(),
		synced: []func() bool{inf.HasSynced}, Retry: retry}
	enqueue := func(ns *corev1.Namespace) {
		if ns.GetMetadata().GetDeletionTimestamp() != nil {
			controller.Enqueue(c.queue, ns)
		}
	}
	inf.AddEventHandler(informer.Handler[*corev1.Namespace]{
		OnAdd:    enqueue,
		OnUpdate: func(_, ns *corev1.Namespace) { enqueue(ns) },
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

// Sync deletes the content of the terminating namespace key names, and
// finalizes it once empty.
func (c *Controller) Sync(ctx context.Context, key string) error {
	ns, err := c.nsLs.Get("", key)
	if client.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns.GetMetadata().GetDeletionTimestamp() == nil {
		return nil
	}
	name := ns.GetMetadata().GetName()
	remaining, err := c.deleteContent(ctx, name)
	if err != nil {
		return err
	}
	if remaining > 0 {
		c.log.Debug("namespace content still terminating", zap.String("namespace", name), zap.Int("remaining", remaining))
		c.queue.AddAfter(key, c.Retry)
		return nil
	}
	if !contains(ns.GetSpec().GetFinalizers(), FinalizerKubernetes) {
		return nil
	}
	up := proto.Clone(ns).(*corev1.Namespace)
	up.Spec.Finalizers = controller.RemoveFinalizer(up.Spec.Finalizers, FinalizerKubernetes)
	if _, err := c.cc.Client.Namespaces().Update(ctx, up); err != nil && !client.IsNotFound(err) {
		return fmt.Errorf("finalize namespace %s: %w", name, err)
	}
	return nil
}

// deleteContent deletes every object of every namespaced resource in ns,
// listing live (not from a cache), and returns how many were still there.
func (c *Controller) deleteContent(ctx context.Context, ns string) (int, error) {
	remaining := 0
	var errs []error
	for _, res := range scheme.All() {
		if !res.Namespaced {
			continue
		}
		rc := c.cc.Client.Resource(res, ns)
		list, err := rc.List(ctx, client.ListOptions{})
		if err != nil {
			errs = append(errs, fmt.Errorf("list %s in %s: %w", res.Name, ns, err))
			continue
		}
		remaining += len(list.Items)
		for _, o := range list.Items {
			m := o.GetMetadata()
			if m.GetDeletionTimestamp() != nil {
				continue
			}
			err := rc.Delete(ctx, m.GetName(), client.DeleteOptions{Preconditions: &client.Preconditions{UID: m.GetUid()}})
			if err != nil && !client.IsNotFound(err) && !client.IsConflict(err) {
				errs = append(errs, fmt.Errorf("delete %s %s/%s: %w", res.Name, ns, m.GetName(), err))
			}
		}
	}
	return remaining, errors.Join(errs...)
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
