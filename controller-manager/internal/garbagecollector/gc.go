package garbagecollector

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/client/workqueue"
	"github.com/gantryhq/gantry/controller-manager/internal/controller"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// Name is the controller's name in --controllers.
const Name = "garbagecollector"

// The finalizers the apiserver sets for Orphan and Foreground deletion.
const (
	FinalizerOrphan     = "orphan"
	FinalizerForeground = "foregroundDeletion"
)

const ownerIndex = "ownerUID"

// access reads one resource's cache.
type access struct {
	res     *scheme.Resource
	get     func(ns, name string) (scheme.Object, bool)
	byOwner func(uid string) []scheme.Object
}

// Controller is the garbage collector.
type Controller struct {
	cc     *controller.Context
	log    *zap.Logger
	queue  workqueue.Interface
	access map[string]*access // by resource name
	byKind map[string]*access // by apiVersion/kind
	synced []func() bool
}

// New makes the garbage collector over the shared informers of every kind
// but events.
func New(cc *controller.Context) *Controller {
	c := &Controller{cc: cc, log: cc.Logger.Named(Name), queue: workqueue.New(Name),
		access: map[string]*access{}, byKind: map[string]*access{}}
	f := cc.Informers
	register(c, f.Pods())
	register(c, f.ReplicaSets())
	register(c, f.Deployments())
	register(c, f.Jobs())
	register(c, f.CronJobs())
	register(c, f.Services())
	register(c, f.Endpoints())
	register(c, f.Nodes())
	register(c, f.Namespaces())
	register(c, informer.For[*coordinationv1.Lease](f))
	return c
}

func register[T scheme.Object](c *Controller, inf *informer.Informer[T]) {
	var zero T
	res, _ := scheme.ForMessage(zero)
	_ = inf.AddIndexers(informer.Indexers[T]{ownerIndex: func(o T) []string {
		var uids []string
		for _, r := range o.GetMetadata().GetOwnerReferences() {
			uids = append(uids, r.GetUid())
		}
		return uids
	}})
	ls := inf.Lister()
	a := &access{
		res: res,
		get: func(ns, name string) (scheme.Object, bool) {
			o, err := ls.Get(ns, name)
			if err != nil {
				return nil, false
			}
			return o, true
		},
		byOwner: func(uid string) []scheme.Object {
			objs, _ := ls.ByIndex(ownerIndex, uid)
			out := make([]scheme.Object, len(objs))
			for i, o := range objs {
				out[i] = o
			}
			return out
		},
	}
	c.access[res.Name] = a
	c.byKind[res.APIVersion()+"/"+res.Kind] = a
	c.synced = append(c.synced, inf.HasSynced)
	inf.AddEventHandler(informer.Handler[T]{
		OnAdd:    func(o T) { c.changed(res, o) },
		OnUpdate: func(_, o T) { c.changed(res, o) },
		OnDelete: func(o T) { c.deleted(o) },
	})
}

// item is a queue key: "resource|namespace|name|uid".
func item(res *scheme.Resource, o scheme.Object) string {
	m := o.GetMetadata()
	return strings.Join([]string{res.Name, m.GetNamespace(), m.GetName(), m.GetUid()}, "|")
}

func (c *Controller) changed(res *scheme.Resource, o scheme.Object) {
	m := o.GetMetadata()
	if len(m.GetOwnerReferences()) > 0 {
		c.queue.Add(item(res, o))
		return
	}
	if m.GetDeletionTimestamp() != nil && (controller.HasFinalizer(m, FinalizerOrphan) || controller.HasFinalizer(m, FinalizerForeground)) {
		c.queue.Add(item(res, o))
	}
}

// deleted enqueues the dependents of a deleted object (their owner may be
// gone) and its owners (one may be waiting for its dependents).
func (c *Controller) deleted(o scheme.Object) {
	uid := o.GetMetadata().GetUid()
	for _, a := range c.access {
		for _, d := range a.byOwner(uid) {
			c.queue.Add(item(a.res, d))
		}
	}
	ns := o.GetMetadata().GetNamespace()
	for _, r := range o.GetMetadata().GetOwnerReferences() {
		a, ok := c.byKind[r.GetApiVersion()+"/"+r.GetKind()]
		if !ok {
			continue
		}
		ons := ns
		if !a.res.Namespaced {
			ons = ""
		}
		if owner, ok := a.get(ons, r.GetName()); ok {
			c.queue.Add(item(a.res, owner))
		}
	}
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

// Sync processes one object: its own deletion's propagation, then its
// owners.
func (c *Controller) Sync(ctx context.Context, key string) error {
	parts := strings.Split(key, "|")
	if len(parts) != 4 {
		return nil
	}
	a, ok := c.access[parts[0]]
	if !ok {
		return nil
	}
	o, ok := a.get(parts[1], parts[2])
	if !ok || o.GetMetadata().GetUid() != parts[3] {
		return nil
	}
	m := o.GetMetadata()
	if m.GetDeletionTimestamp() != nil {
		switch {
		case controller.HasFinalizer(m, FinalizerOrphan):
			return c.orphanDependents(ctx, a, o)
		case controller.HasFinalizer(m, FinalizerForeground):
			return c.deleteDependents(ctx, a, o)
		}
		return nil
	}
	if len(m.GetOwnerReferences()) == 0 {
		return nil
	}
	return c.checkOwners(ctx, a, o)
}

type ownerState int

const (
	ownerPresent ownerState = iota
	ownerAbsent
)

// ownerState looks the owner up in the cache and, when it is not there,
// in the apiserver.
func (c *Controller) ownerState(ctx context.Context, dependentNS string, r *metav1.OwnerReference) (ownerState, error) {
	a, ok := c.byKind[r.GetApiVersion()+"/"+r.GetKind()]
	if !ok {
		res, known := scheme.ByKind(r.GetApiVersion(), r.GetKind())
		if !known {
			return ownerPresent, nil // a kind we cannot look up: leave it be
		}
		a = &access{res: res, get: func(string, string) (scheme.Object, bool) { return nil, false }}
	}
	ns := dependentNS
	if !a.res.Namespaced {
		ns = ""
	}
	if o, ok := a.get(ns, r.GetName()); ok && o.GetMetadata().GetUid() == r.GetUid() {
		return ownerPresent, nil
	}
	live, err := c.cc.Client.Resource(a.res, ns).Get(ctx, r.GetName())
	if client.IsNotFound(err) {
		return ownerAbsent, nil
	}
	if err != nil {
		return ownerPresent, fmt.Errorf("get owner %s %s: %w", a.res.Kind, r.GetName(), err)
	}
	if live.GetMetadata().GetUid() != r.GetUid() {
		return ownerAbsent, nil
	}
	return ownerPresent, nil
}

func (c *Controller) checkOwners(ctx context.Context, a *access, o scheme.Object) error {
	m := o.GetMetadata()
	var absent []string
	for _, r := range m.GetOwnerReferences() {
		st, err := c.ownerState(ctx, m.GetNamespace(), r)
		if err != nil {
			return err
		}
		if st == ownerAbsent {
			absent = append(absent, r.GetUid())
		}
	}
	switch {
	case len(absent) == 0:
		return nil
	case len(absent) == len(m.GetOwnerReferences()):
		policy := client.DeletePropagationBackground
		if len(c.dependents(m.GetUid())) > 0 {
			policy = client.DeletePropagationForeground
		}
		c.log.Debug("deleting object whose owners are gone", zap.String("resource", a.res.Name),
			zap.String("namespace", m.GetNamespace()), zap.String("name", m.GetName()))
		err := c.cc.Client.Resource(a.res, m.GetNamespace()).Delete(ctx, m.GetName(), client.DeleteOptions{
			Preconditions: &client.Preconditions{UID: m.GetUid()}, PropagationPolicy: policy})
		if err != nil && !client.IsNotFound(err) {
			return fmt.Errorf("delete %s %s/%s: %w", a.res.Name, m.GetNamespace(), m.GetName(), err)
		}
		return nil
	default:
		return c.removeOwnerRefs(ctx, a, o, absent...)
	}
}

func (c *Controller) dependents(uid string) []struct {
	a *access
	o scheme.Object
} {
	var out []struct {
		a *access
		o scheme.Object
	}
	for _, a := range c.access {
		for _, d := range a.byOwner(uid) {
			out = append(out, struct {
				a *access
				o scheme.Object
			}{a, d})
		}
	}
	return out
}

// removeOwnerRefs removes the references to uids from o with an Update.
func (c *Controller) removeOwnerRefs(ctx context.Context, a *access, o scheme.Object, uids ...string) error {
	up := proto.Clone(o).(scheme.Object)
	um := scheme.Meta(up)
	var keep []*metav1.OwnerReference
	for _, r := range um.OwnerReferences {
		drop := false
		for _, u := range uids {
			drop = drop || r.GetUid() == u
		}
		if !drop {
			keep = append(keep, r)
		}
	}
	um.OwnerReferences = keep
	_, err := c.cc.Client.Resource(a.res, um.GetNamespace()).Update(ctx, up)
	if err != nil && !client.IsNotFound(err) {
		return fmt.Errorf("remove owner references from %s %s/%s: %w", a.res.Name, um.GetNamespace(), um.GetName(), err)
	}
	return nil
}

// orphanDependents removes the owner's references from its dependents,
// then the owner's orphan finalizer.
func (c *Controller) orphanDependents(ctx context.Context, a *access, owner scheme.Object) error {
	uid := owner.GetMetadata().GetUid()
	var errs []error
	for _, d := range c.dependents(uid) {
		if err := c.removeOwnerRefs(ctx, d.a, d.o, uid); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return c.removeFinalizer(ctx, a, owner, FinalizerOrphan)
}

// deleteDependents deletes the owner's dependents and, once none is
// left, removes its foregroundDeletion finalizer.
func (c *Controller) deleteDependents(ctx context.Context, a *access, owner scheme.Object) error {
	deps := c.dependents(owner.GetMetadata().GetUid())
	if len(deps) == 0 {
		return c.removeFinalizer(ctx, a, owner, FinalizerForeground)
	}
	var errs []error
	for _, d := range deps {
		m := d.o.GetMetadata()
		if m.GetDeletionTimestamp() != nil {
			continue
		}
		policy := client.DeletePropagationBackground
		if len(c.dependents(m.GetUid())) > 0 {
			policy = client.DeletePropagationForeground
		}
		err := c.cc.Client.Resource(d.a.res, m.GetNamespace()).Delete(ctx, m.GetName(), client.DeleteOptions{
			Preconditions: &client.Preconditions{UID: m.GetUid()}, PropagationPolicy: policy})
		if err != nil && !client.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete dependent %s %s/%s: %w", d.a.res.Name, m.GetNamespace(), m.GetName(), err))
		}
	}
	// The dependents' deletions requeue the owner.
	return errors.Join(errs...)
}

func (c *Controller) removeFinalizer(ctx context.Context, a *access, o scheme.Object, f string) error {
	up := proto.Clone(o).(scheme.Object)
	um := scheme.Meta(up)
	um.Finalizers = controller.RemoveFinalizer(um.Finalizers, f)
	_, err := c.cc.Client.Resource(a.res, um.GetNamespace()).Update(ctx, up)
	if err != nil && !client.IsNotFound(err) {
		return fmt.Errorf("remove finalizer %s from %s %s/%s: %w", f, a.res.Name, um.GetNamespace(), um.GetName(), err)
	}
	return nil
}
