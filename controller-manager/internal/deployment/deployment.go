package deployment

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/client/workqueue"
	"github.com/gantryhq/gantry/controller-manager/internal/controller"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// Name is the controller's name in --controllers.
const Name = "deployment"

// Controller is the Deployment controller.
type Controller struct {
	cc     *controller.Context
	log    *zap.Logger
	queue  workqueue.Interface
	dLs    informer.Lister[*appsv1.Deployment]
	rsLs   informer.Lister[*appsv1.ReplicaSet]
	podLs  informer.Lister[*corev1.Pod]
	synced []func() bool
}

// New makes the controller and registers its informers' handlers.
func New(cc *controller.Context) *Controller {
	dInf, rsInf, podInf := cc.Informers.Deployments(), cc.Informers.ReplicaSets(), cc.Informers.Pods()
	c := &Controller{
		cc: cc, log: cc.Logger.Named(Name), queue: workqueue.New(Name),
		dLs: dInf.Lister(), rsLs: rsInf.Lister(), podLs: podInf.Lister(),
		synced: []func() bool{dInf.HasSynced, rsInf.HasSynced, podInf.HasSynced},
	}
	dInf.AddEventHandler(informer.Handler[*appsv1.Deployment]{
		OnAdd:    func(d *appsv1.Deployment) { controller.Enqueue(c.queue, d) },
		OnUpdate: func(_, d *appsv1.Deployment) { controller.Enqueue(c.queue, d) },
		OnDelete: func(d *appsv1.Deployment) { controller.Enqueue(c.queue, d) },
	})
	rsInf.AddEventHandler(informer.Handler[*appsv1.ReplicaSet]{
		OnAdd:    c.enqueueForRS,
		OnUpdate: func(old, rs *appsv1.ReplicaSet) { c.enqueueForRS(old); c.enqueueForRS(rs) },
		OnDelete: c.enqueueForRS,
	})
	podInf.AddEventHandler(informer.Handler[*corev1.Pod]{
		// Recreate waits for the old pods to be gone.
		OnDelete: func(p *corev1.Pod) {
			ref := controller.ControllerOf(p.GetMetadata())
			if ref == nil || ref.GetKind() != "ReplicaSet" {
				return
			}
			if rs, err := c.rsLs.Get(p.GetMetadata().GetNamespace(), ref.GetName()); err == nil {
				c.enqueueForRS(rs)
			}
		},
	})
	return c
}

func (c *Controller) enqueueForRS(rs *appsv1.ReplicaSet) {
	m := rs.GetMetadata()
	if ref := controller.ControllerOf(m); ref != nil {
		if ref.GetKind() == "Deployment" {
			c.queue.Add(workqueue.Key(m.GetNamespace(), ref.GetName()))
		}
		return
	}
	for _, d := range c.dLs.ListNamespace(m.GetNamespace(), nil) {
		sel, err := controller.Selector(d.GetSpec().GetSelector())
		if err == nil && sel.Matches(labels.Set(m.GetLabels())) {
			controller.Enqueue(c.queue, d)
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

// Sync reconciles the Deployment key names.
func (c *Controller) Sync(ctx context.Context, key string) error {
	ns, name, err := workqueue.SplitKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.dLs.Get(ns, name)
	if client.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	d := proto.Clone(cached).(*appsv1.Deployment)
	if d.Spec == nil {
		d.Spec = &appsv1.DeploymentSpec{}
	}
	if d.Status == nil {
		d.Status = &appsv1.DeploymentStatus{}
	}
	sel, err := controller.Selector(d.Spec.Selector)
	if err != nil || sel.Empty() {
		c.cc.Recorder.Event(d, record.Warning, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.")
		return nil
	}
	rss, err := controller.Claim(ctx, c.cc.Client.ReplicaSets, d, sel, c.rsLs.ListNamespace(ns, nil))
	if err != nil {
		return err
	}
	s := &syncer{c: c, d: d, now: c.cc.Now(), rsClient: c.cc.Client.ReplicaSets(ns)}
	if d.Metadata.DeletionTimestamp != nil {
		return s.syncStatusOnly(ctx, rss)
	}
	if err := s.checkPausedConditions(ctx); err != nil {
		return err
	}
	if d.Spec.Paused {
		return s.sync(ctx, rss)
	}
	scaling, err := s.isScalingEvent(rss)
	if err != nil {
		return err
	}
	if scaling {
		return s.sync(ctx, rss)
	}
	switch d.Spec.GetStrategy().GetType() {
	case StrategyRecreate:
		return s.rolloutRecreate(ctx, rss)
	default:
		return s.rolloutRolling(ctx, rss)
	}
}

// syncer is one sync of one deployment. d is a private copy.
type syncer struct {
	c        *Controller
	d        *appsv1.Deployment
	now      time.Time
	rsClient *client.Typed[*appsv1.ReplicaSet]
}

func (s *syncer) checkPausedConditions(ctx context.Context) error {
	if !hasProgressDeadline(s.d) {
		return nil
	}
	cond := condition(s.d.Status, CondProgressing)
	if cond != nil && cond.Reason == ReasonTimedOut {
		return nil
	}
	paused := cond != nil && cond.Reason == ReasonPaused
	var nc *appsv1.DeploymentCondition
	switch {
	case s.d.Spec.Paused && !paused:
		nc = newCondition(CondProgressing, "Unknown", ReasonPaused, "Deployment is paused", s.now)
	case !s.d.Spec.Paused && paused:
		nc = newCondition(CondProgressing, "Unknown", ReasonResumed, "Deployment is resumed", s.now)
	default:
		return nil
	}
	setCondition(s.d.Status, nc)
	return s.writeStatus(ctx, s.d.Status)
}

func (s *syncer) writeStatus(ctx context.Context, st *appsv1.DeploymentStatus) error {
	up := proto.Clone(s.d).(*appsv1.Deployment)
	up.Status = st
	got, err := s.c.cc.Client.Deployments(s.d.Metadata.Namespace).UpdateStatus(ctx, up)
	if err != nil {
		return fmt.Errorf("update status of deployment %s: %w", s.d.Metadata.Name, err)
	}
	s.d = got
	if s.d.Status == nil {
		s.d.Status = &appsv1.DeploymentStatus{}
	}
	return nil
}

// split returns the new replica set (nil if none) and the old ones, and
// creates the new one when create is set. It keeps revisions in sync.
func (s *syncer) split(ctx context.Context, rss []*appsv1.ReplicaSet, create bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	sorted := append([]*appsv1.ReplicaSet(nil), rss...)
	sortByCreation(sorted)
	var newRS *appsv1.ReplicaSet
	var old []*appsv1.ReplicaSet
	for _, rs := range sorted {
		if newRS == nil && EqualIgnoreHash(rs.GetSpec().GetTemplate(), s.d.Spec.Template) {
			newRS = rs
			continue
		}
		old = append(old, rs)
	}
	var maxOld int64
	for _, rs := range old {
		maxOld = max(maxOld, Revision(rs.GetMetadata().GetAnnotations()))
	}
	newRevision := strconv.FormatInt(maxOld+1, 10)
	if newRS != nil {
		updated, err := s.syncNewRSRevision(ctx, newRS, newRevision)
		if err != nil {
			return nil, nil, err
		}
		newRS = updated
		if err := s.setDeploymentRevision(ctx, newRS.GetMetadata().GetAnnotations()[RevisionAnnotation]); err != nil {
			return nil, nil, err
		}
		if condition(s.d.Status, CondProgressing) == nil && hasProgressDeadline(s.d) {
			setCondition(s.d.Status, newCondition(CondProgressing, "True", ReasonFoundNewRS,
				fmt.Sprintf("Found new replica set %q", newRS.GetMetadata().GetName()), s.now))
			if err := s.writeStatus(ctx, s.d.Status); err != nil {
				return nil, nil, err
			}
		}
		return newRS, old, nil
	}
	if !create {
		return nil, old, nil
	}
	newRS, err := s.createNewRS(ctx, old, newRevision)
	if err != nil {
		return nil, nil, err
	}
	if err := s.setDeploymentRevision(ctx, newRevision); err != nil {
		return nil, nil, err
	}
	return newRS, old, nil
}

// syncNewRSRevision brings the new replica set's revision (and its
// history) and replica annotations up to date.
func (s *syncer) syncNewRSRevision(ctx context.Context, rs *appsv1.ReplicaSet, newRevision string) (*appsv1.ReplicaSet, error) {
	ann := maps.Clone(rs.GetMetadata().GetAnnotations())
	if ann == nil {
		ann = map[string]string{}
	}
	changed := false
	oldRevision := ann[RevisionAnnotation]
	oldN, _ := strconv.ParseInt(oldRevision, 10, 64)
	newN, _ := strconv.ParseInt(newRevision, 10, 64)
	if oldRevision == "" || oldN < newN {
		ann[RevisionAnnotation] = newRevision
		if oldRevision != "" {
			hist := ann[RevisionHistoryAnnotation]
			if hist == "" {
				hist = oldRevision
			} else {
				hist += "," + oldRevision
			}
			ann[RevisionHistoryAnnotation] = hist
		}
		changed = true
	}
	if v, ok := s.d.Metadata.GetAnnotations()[ChangeCauseAnnotation]; ok && ann[ChangeCauseAnnotation] != v {
		ann[ChangeCauseAnnotation] = v
		changed = true
	}
	if setReplicaAnnotations(ann, s.d) {
		changed = true
	}
	minReady := rs.GetSpec().GetMinReadySeconds() != s.d.Spec.GetMinReadySeconds()
	if !changed && !minReady {
		return rs, nil
	}
	up := proto.Clone(rs).(*appsv1.ReplicaSet)
	up.Metadata.Annotations = ann
	up.Spec.MinReadySeconds = s.d.Spec.GetMinReadySeconds()
	got, err := s.rsClient.Update(ctx, up)
	if err != nil {
		return nil, fmt.Errorf("update revision of replicaset %s: %w", rs.GetMetadata().GetName(), err)
	}
	return got, nil
}

func setReplicaAnnotations(ann map[string]string, d *appsv1.Deployment) bool {
	desired := strconv.Itoa(int(d.GetSpec().GetReplicas()))
	maxR := strconv.Itoa(int(d.GetSpec().GetReplicas() + MaxSurge(d)))
	changed := ann[DesiredReplicasAnnotation] != desired || ann[MaxReplicasAnnotation] != maxR
	ann[DesiredReplicasAnnotation] = desired
	ann[MaxReplicasAnnotation] = maxR
	return changed
}

func (s *syncer) setDeploymentRevision(ctx context.Context, rev string) error {
	if rev == "" || s.d.Metadata.GetAnnotations()[RevisionAnnotation] == rev {
		return nil
	}
	up := proto.Clone(s.d).(*appsv1.Deployment)
	if up.Metadata.Annotations == nil {
		up.Metadata.Annotations = map[string]string{}
	}
	up.Metadata.Annotations[RevisionAnnotation] = rev
	got, err := s.c.cc.Client.Deployments(s.d.Metadata.Namespace).Update(ctx, up)
	if err != nil {
		return fmt.Errorf("update revision of deployment %s: %w", s.d.Metadata.Name, err)
	}
	s.d = got
	if s.d.Status == nil {
		s.d.Status = &appsv1.DeploymentStatus{}
	}
	return nil
}

func (s *syncer) createNewRS(ctx context.Context, old []*appsv1.ReplicaSet, revision string) (*appsv1.ReplicaSet, error) {
	d := s.d
	hash := ComputeHash(d.Spec.Template, d.Status.CollisionCount)
	tmpl := proto.Clone(d.Spec.Template).(*corev1.PodTemplateSpec)
	if tmpl.Metadata == nil {
		tmpl.Metadata = &metav1.ObjectMeta{}
	}
	if tmpl.Metadata.Labels == nil {
		tmpl.Metadata.Labels = map[string]string{}
	}
	tmpl.Metadata.Labels[PodTemplateHashLabel] = hash
	sel := proto.Clone(d.Spec.Selector).(*metav1.LabelSelector)
	if sel.MatchLabels == nil {
		sel.MatchLabels = map[string]string{}
	}
	sel.MatchLabels[PodTemplateHashLabel] = hash
	lbls := maps.Clone(tmpl.Metadata.Labels)

	all := append(append([]*appsv1.ReplicaSet(nil), old...), nil)
	newReplicas := newRSNewReplicas(d, all, nil)
	ann := map[string]string{RevisionAnnotation: revision}
	if v, ok := d.Metadata.GetAnnotations()[ChangeCauseAnnotation]; ok {
		ann[ChangeCauseAnnotation] = v
	}
	setReplicaAnnotations(ann, d)
	rs := &appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{
			Name: d.Metadata.Name + "-" + hash, Namespace: d.Metadata.Namespace, Labels: lbls, Annotations: ann,
			OwnerReferences: []*metav1.OwnerReference{controller.NewControllerRef(d)},
		},
		Spec: &appsv1.ReplicaSetSpec{Replicas: &newReplicas, MinReadySeconds: d.Spec.MinReadySeconds, Selector: sel, Template: tmpl},
	}
	created, err := s.rsClient.Create(ctx, rs)
	switch {
	case client.IsAlreadyExists(err):
		existing, gerr := s.rsClient.Get(ctx, rs.Metadata.Name)
		if gerr != nil {
			return nil, gerr
		}
		ref := controller.ControllerOf(existing.GetMetadata())
		if ref != nil && ref.GetUid() == d.Metadata.Uid && EqualIgnoreHash(existing.GetSpec().GetTemplate(), d.Spec.Template) {
			return existing, nil
		}
		// A hash collision: bump collisionCount so the next sync picks
		// another name.
		n := d.Status.GetCollisionCount() + 1
		d.Status.CollisionCount = &n
		if err := s.writeStatus(ctx, d.Status); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("replicaset %s exists with another template; collisionCount now %d", rs.Metadata.Name, n)
	case err != nil:
		if hasProgressDeadline(d) {
			setCondition(d.Status, newCondition(CondProgressing, "False", ReasonFailedRSCreate, fmt.Sprintf("Failed to create new replica set %q: %v", rs.Metadata.Name, err), s.now))
			if werr := s.writeStatus(ctx, d.Status); werr != nil {
				s.c.log.Info("recording the failed replica set create failed", zap.Error(werr))
			}
		}
		s.c.cc.Recorder.Eventf(d, record.Warning, "FailedCreate", "Failed to create new replica set %q: %v", rs.Metadata.Name, err)
		return nil, fmt.Errorf("create replicaset %s: %w", rs.Metadata.Name, err)
	}
	if newReplicas > 0 {
		s.c.cc.Recorder.Eventf(d, record.Normal, "ScalingReplicaSet", "Scaled up replica set %s from 0 to %d", created.Metadata.Name, newReplicas)
	}
	if hasProgressDeadline(d) {
		setCondition(d.Status, newCondition(CondProgressing, "True", ReasonNewRSCreated, fmt.Sprintf("Created new replica set %q", created.Metadata.Name), s.now))
		if err := s.writeStatus(ctx, d.Status); err != nil {
			return nil, err
		}
	}
	return created, nil
}

// newRSNewReplicas is how many replicas the new replica set may have now.
func newRSNewReplicas(d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	want := d.GetSpec().GetReplicas()
	if d.GetSpec().GetStrategy().GetType() == StrategyRecreate {
		return want
	}
	var cur int32
	if newRS != nil {
		cur = replicas(newRS)
	}
	maxTotal := want + MaxSurge(d)
	current := sumSpec(all)
	if current >= maxTotal {
		return cur
	}
	up := min(maxTotal-current, want-cur)
	return cur + max(up, 0)
}

// scaleRS sets rs's replicas (and replica annotations) to n. It reports
// whether it wrote.
func (s *syncer) scaleRS(ctx context.Context, rs *appsv1.ReplicaSet, n int32) (bool, *appsv1.ReplicaSet, error) {
	ann := maps.Clone(rs.GetMetadata().GetAnnotations())
	if ann == nil {
		ann = map[string]string{}
	}
	annChanged := setReplicaAnnotations(ann, s.d)
	if replicas(rs) == n && !annChanged {
		return false, rs, nil
	}
	up := proto.Clone(rs).(*appsv1.ReplicaSet)
	up.Metadata.Annotations = ann
	up.Spec.Replicas = &n
	got, err := s.rsClient.Update(ctx, up)
	if err != nil {
		return false, nil, fmt.Errorf("scale replicaset %s: %w", rs.GetMetadata().GetName(), err)
	}
	if from := replicas(rs); from != n {
		dir := "up"
		if n < from {
			dir = "down"
		}
		s.c.cc.Recorder.Eventf(s.d, record.Normal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", dir, rs.GetMetadata().GetName(), from, n)
	}
	return true, got, nil
}

// isScalingEvent reports whether the deployment's replicas differ from
// what its active replica sets were last scaled for.
func (s *syncer) isScalingEvent(rss []*appsv1.ReplicaSet) (bool, error) {
	for _, rs := range rss {
		if replicas(rs) == 0 {
			continue
		}
		v, ok := rs.GetMetadata().GetAnnotations()[DesiredReplicasAnnotation]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			continue
		}
		if int32(n) != s.d.Spec.GetReplicas() {
			return true, nil
		}
	}
	return false, nil
}

// sync scales (for a scaling event or a paused deployment) and writes the
// status.
func (s *syncer) sync(ctx context.Context, rss []*appsv1.ReplicaSet) error {
	newRS, old, err := s.split(ctx, rss, false)
	if err != nil {
		return err
	}
	if err := s.scale(ctx, newRS, old); err != nil {
		return err
	}
	if s.d.Spec.Paused {
		if err := s.cleanup(ctx, old); err != nil {
			return err
		}
	}
	return s.syncStatus(ctx, append(old, newRS), newRS)
}

func (s *syncer) syncStatusOnly(ctx context.Context, rss []*appsv1.ReplicaSet) error {
	newRS, old, err := s.split(ctx, rss, false)
	if err != nil {
		return err
	}
	return s.syncStatus(ctx, append(old, newRS), newRS)
}

func active(rss []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, rs := range rss {
		if rs != nil && replicas(rs) > 0 {
			out = append(out, rs)
		}
	}
	return out
}

// scale is Kubernetes' proportional scaling.
func (s *syncer) scale(ctx context.Context, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) error {
	want := s.d.Spec.GetReplicas()
	act := active(append(append([]*appsv1.ReplicaSet(nil), old...), newRS))
	if len(act) <= 1 {
		target := newRS
		if len(act) == 1 {
			target = act[0]
		}
		if target == nil && len(old) > 0 {
			latest := append([]*appsv1.ReplicaSet(nil), old...)
			sortByCreation(latest)
			target = latest[len(latest)-1]
		}
		if target == nil {
			return nil
		}
		_, _, err := s.scaleRS(ctx, target, want)
		return err
	}
	if newRS != nil && replicas(newRS) == want && newRS.GetStatus().GetAvailableReplicas() == want {
		for _, rs := range active(old) {
			if _, _, err := s.scaleRS(ctx, rs, 0); err != nil {
				return err
			}
		}
		return nil
	}
	if s.d.Spec.GetStrategy().GetType() != StrategyRollingUpdate {
		return nil
	}
	allowed := int32(0)
	if want > 0 {
		allowed = want + MaxSurge(s.d)
	}
	total := sumSpec(act)
	toAdd := allowed - total
	if toAdd == 0 {
		return nil
	}
	// Largest first when growing (newest breaks ties), smallest first
	// when shrinking.
	sortByCreation(act)
	ordered := make([]*appsv1.ReplicaSet, len(act))
	for i := range act {
		ordered[i] = act[len(act)-1-i]
	}
	if toAdd > 0 {
		stableSortBy(ordered, func(a, b *appsv1.ReplicaSet) bool { return replicas(a) > replicas(b) })
	} else {
		stableSortBy(ordered, func(a, b *appsv1.ReplicaSet) bool { return replicas(a) < replicas(b) })
	}
	sizes := make([]int32, len(ordered))
	var added int32
	for i, rs := range ordered {
		p := int32(float64(replicas(rs)) * float64(toAdd) / float64(total))
		if toAdd > 0 {
			p = min(p, toAdd-added)
		} else {
			p = max(p, toAdd-added)
		}
		sizes[i] = replicas(rs) + p
		added += p
	}
	if left := toAdd - added; left != 0 {
		sizes[0] += left
	}
	var errs []error
	for i, rs := range ordered {
		if _, _, err := s.scaleRS(ctx, rs, max(sizes[i], 0)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func stableSortBy(rss []*appsv1.ReplicaSet, less func(a, b *appsv1.ReplicaSet) bool) {
	for i := 1; i < len(rss); i++ {
		for j := i; j > 0 && less(rss[j], rss[j-1]); j-- {
			rss[j], rss[j-1] = rss[j-1], rss[j]
		}
	}
}

// cleanup deletes the oldest replica sets with nothing in them beyond
// revisionHistoryLimit.
func (s *syncer) cleanup(ctx context.Context, old []*appsv1.ReplicaSet) error {
	limit := s.d.Spec.RevisionHistoryLimit
	if limit == nil {
		return nil
	}
	var cleanable []*appsv1.ReplicaSet
	for _, rs := range old {
		if rs.GetMetadata().GetDeletionTimestamp() == nil {
			cleanable = append(cleanable, rs)
		}
	}
	diff := len(cleanable) - int(*limit)
	if diff <= 0 {
		return nil
	}
	sortByRevision(cleanable)
	for i := 0; i < diff; i++ {
		rs := cleanable[i]
		if rs.GetStatus().GetReplicas() != 0 || replicas(rs) != 0 || rs.GetMetadata().GetGeneration() > rs.GetStatus().GetObservedGeneration() {
			continue
		}
		err := s.rsClient.Delete(ctx, rs.GetMetadata().GetName(), client.DeleteOptions{Preconditions: &client.Preconditions{UID: rs.GetMetadata().GetUid()}})
		if err != nil && !client.IsNotFound(err) {
			return fmt.Errorf("delete old replicaset %s: %w", rs.GetMetadata().GetName(), err)
		}
	}
	return nil
}

// calculateStatus is the status the replica sets add up to.
func (s *syncer) calculateStatus(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) *appsv1.DeploymentStatus {
	d := s.d
	st := &appsv1.DeploymentStatus{
		ObservedGeneration: d.GetMetadata().GetGeneration(),
		Replicas:           sumStatus(all, func(x *appsv1.ReplicaSetStatus) int32 { return x.GetReplicas() }),
		ReadyReplicas:      sumStatus(all, func(x *appsv1.ReplicaSetStatus) int32 { return x.GetReadyReplicas() }),
		AvailableReplicas:  sumStatus(all, func(x *appsv1.ReplicaSetStatus) int32 { return x.GetAvailableReplicas() }),
		CollisionCount:     d.GetStatus().CollisionCount,
	}
	for _, c := range d.GetStatus().GetConditions() {
		st.Conditions = append(st.Conditions, proto.Clone(c).(*appsv1.DeploymentCondition))
	}
	if newRS != nil {
		st.UpdatedReplicas = newRS.GetStatus().GetReplicas()
	}
	st.UnavailableReplicas = max(d.Spec.GetReplicas()-st.AvailableReplicas, 0)
	if st.AvailableReplicas >= d.Spec.GetReplicas()-MaxUnavailable(d) {
		setCondition(st, newCondition(CondAvailable, "True", ReasonMinimumAvailable, "Deployment has minimum availability.", s.now))
	} else {
		setCondition(st, newCondition(CondAvailable, "False", ReasonMinimumUnavailable, "Deployment does not have minimum availability.", s.now))
	}
	return st
}

// syncStatus writes the status when it changed.
func (s *syncer) syncStatus(ctx context.Context, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) error {
	st := s.calculateStatus(all, newRS)
	if proto.Equal(st, s.d.Status) {
		return nil
	}
	return s.writeStatus(ctx, st)
}

// syncRolloutStatus is syncStatus plus the Progressing condition and the
// requeue that notices a deadline passing.
func (s *syncer) syncRolloutStatus(ctx context.Context, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) error {
	d := s.d
	st := s.calculateStatus(all, newRS)
	if !hasProgressDeadline(d) {
		removeCondition(st, CondProgressing)
	}
	cur := condition(st, CondProgressing)
	complete := st.Replicas == st.UpdatedReplicas && cur != nil && cur.Reason == ReasonNewRSAvailable
	if hasProgressDeadline(d) && !complete {
		name := ""
		if newRS != nil {
			name = newRS.GetMetadata().GetName()
		}
		switch {
		case Complete(d, st):
			setCondition(st, newCondition(CondProgressing, "True", ReasonNewRSAvailable, fmt.Sprintf(newRSAvailableMessageFormat, name), s.now))
		case progressing(d, st):
			c := newCondition(CondProgressing, "True", ReasonRSUpdated, fmt.Sprintf(progressingMessageFormat, name), s.now)
			if cur != nil {
				if cur.Status == "True" {
					c.LastTransitionTime = cur.LastTransitionTime
				}
				removeCondition(st, CondProgressing)
			}
			st.Conditions = append(st.Conditions, c)
		case timedOut(d, st, s.now):
			if cur == nil || cur.Reason != ReasonTimedOut {
				s.c.cc.Recorder.Eventf(d, record.Warning, ReasonTimedOut, "Deployment %q has timed out progressing.", d.Metadata.Name)
			}
			setCondition(st, newCondition(CondProgressing, "False", ReasonTimedOut, fmt.Sprintf(timedOutMessageFormat, name), s.now))
		}
	}
	// Surface a replica set's failure to create pods.
	removeCondition(st, CondReplicaFailure)
	for _, rs := range all {
		if rs == nil {
			continue
		}
		for _, c := range rs.GetStatus().GetConditions() {
			if c.GetType() == CondReplicaFailure && c.GetStatus() == "True" {
				setCondition(st, &appsv1.DeploymentCondition{Type: CondReplicaFailure, Status: "True", Reason: c.GetReason(),
					Message: c.GetMessage(), LastUpdateTime: c.GetLastTransitionTime(), LastTransitionTime: c.GetLastTransitionTime()})
			}
		}
	}
	if proto.Equal(st, d.Status) {
		s.requeueStuck(st)
		return nil
	}
	if err := s.writeStatus(ctx, st); err != nil {
		return err
	}
	s.requeueStuck(st)
	return nil
}

// requeueStuck requeues the deployment for when its progress deadline
// passes.
func (s *syncer) requeueStuck(st *appsv1.DeploymentStatus) {
	if !hasProgressDeadline(s.d) {
		return
	}
	c := condition(st, CondProgressing)
	if c == nil || c.Reason == ReasonNewRSAvailable || c.Reason == ReasonTimedOut || Complete(s.d, st) {
		return
	}
	after := c.GetLastUpdateTime().AsTime().Add(time.Duration(s.d.Spec.GetProgressDeadlineSeconds())*time.Second + time.Second).Sub(s.now)
	key := workqueue.KeyOf(s.d)
	if after < time.Second {
		s.c.queue.AddAfter(key, time.Second)
		return
	}
	s.c.queue.AddAfter(key, after)
}
