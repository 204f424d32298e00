package job

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/client/workqueue"
	"github.com/gantryhq/gantry/controller-manager/internal/controller"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Name is the controller's name in --controllers.
const Name = "job"

// TrackingFinalizer holds a job's finished pods until they are counted.
const TrackingFinalizer = "batch.kubernetes.io/job-tracking"

// Condition types and reasons.
const (
	CondComplete          = "Complete"
	CondFailed            = "Failed"
	CondSuspended         = "Suspended"
	ReasonBackoffLimit    = "BackoffLimitExceeded"
	ReasonDeadline        = "DeadlineExceeded"
	ReasonCompletions     = "CompletionsReached"
	ReasonJobSuspended    = "JobSuspended"
	ReasonJobResumed      = "JobResumed"
	defaultBackoffLimit   = 6
	maxPodCreateDeletions = 500
)

// Options tune the controller.
type Options struct {
	// BackoffBase is the wait before the first failed pod is replaced; it
	// doubles per failure up to BackoffMax.
	BackoffBase time.Duration
	BackoffMax  time.Duration
}

// Controller is the Job controller.
type Controller struct {
	cc     *controller.Context
	opts   Options
	log    *zap.Logger
	queue  workqueue.Interface
	jobLs  informer.Lister[*batchv1.Job]
	podLs  informer.Lister[*corev1.Pod]
	exp    *controller.Expectations
	pods   controller.PodControl
	synced []func() bool

	mu sync.Mutex
	// counted holds, per job uid, the uids of pods whose finalizer this
	// process removed after counting them, so that a stale cache never
	// counts a pod twice.
	counted map[string]map[string]bool
	// written holds, per job uid, the resourceVersion of the last status
	// this process wrote: a cached job older than that has stale counts,
	// and acting on them would start pods already accounted for.
	written map[string]int64
}

// New makes the controller.
func New(cc *controller.Context, opts Options) *Controller {
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = 10 * time.Second
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = 6 * time.Minute
	}
	jobInf, podInf := cc.Informers.Jobs(), cc.Informers.Pods()
	c := &Controller{cc: cc, opts: opts, log: cc.Logger.Named(Name), queue: workqueue.New(Name),
		jobLs: jobInf.Lister(), podLs: podInf.Lister(), exp: controller.NewExpectations(),
		pods:    controller.PodControl{Client: cc.Client, Recorder: cc.Recorder},
		synced:  []func() bool{jobInf.HasSynced, podInf.HasSynced},
		counted: map[string]map[string]bool{},
		written: map[string]int64{}}
	jobInf.AddEventHandler(informer.Handler[*batchv1.Job]{
		OnAdd:    func(j *batchv1.Job) { controller.Enqueue(c.queue, j) },
		OnUpdate: func(_, j *batchv1.Job) { controller.Enqueue(c.queue, j) },
		OnDelete: func(j *batchv1.Job) {
			c.exp.Delete(workqueue.KeyOf(j))
			controller.Enqueue(c.queue, j)
		},
	})
	podInf.AddEventHandler(informer.Handler[*corev1.Pod]{
		OnAdd: func(p *corev1.Pod) {
			if key, ok := jobKey(p); ok {
				c.log.Debug("job pod added", zap.String("job", key), zap.String("pod", p.GetMetadata().GetName()))
				c.exp.CreationObserved(key)
				c.queue.Add(key)
			}
		},
		OnUpdate: func(old, p *corev1.Pod) {
			key, ok := jobKey(p)
			if !ok {
				return
			}
			if p.GetMetadata().GetDeletionTimestamp() != nil && old.GetMetadata().GetDeletionTimestamp() == nil {
				c.exp.DeletionObserved(key, workqueue.KeyOf(p))
			}
			c.queue.Add(key)
		},
		OnDelete: func(p *corev1.Pod) {
			if key, ok := jobKey(p); ok {
				c.exp.DeletionObserved(key, workqueue.KeyOf(p))
				c.queue.Add(key)
			}
		},
	})
	return c
}

func jobKey(p *corev1.Pod) (string, bool) {
	ref := controller.ControllerOf(p.GetMetadata())
	if ref == nil || ref.GetKind() != "Job" {
		return "", false
	}
	return workqueue.Key(p.GetMetadata().GetNamespace(), ref.GetName()), true
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

// Finished returns the job's true Complete or Failed condition, or nil.
func Finished(j *batchv1.Job) *batchv1.JobCondition {
	for _, cd := range j.GetStatus().GetConditions() {
		if (cd.GetType() == CondComplete || cd.GetType() == CondFailed) && cd.GetStatus() == "True" {
			return cd
		}
	}
	return nil
}

// Sync reconciles the Job key names.
func (c *Controller) Sync(ctx context.Context, key string) error {
	ns, name, err := workqueue.SplitKey(key)
	if err != nil {
		return nil
	}
	job, err := c.jobLs.Get(ns, name)
	if client.IsNotFound(err) {
		c.exp.Delete(key)
		c.forgetDeleted(ns, name)
		return c.releaseOrphans(ctx, ns, name)
	}
	if err != nil {
		return err
	}
	now := c.cc.Now()
	sel, err := controller.Selector(job.GetSpec().GetSelector())
	if err != nil {
		return nil
	}
	// Expectations are read before the pods are listed: an add observed
	// after the listing would otherwise satisfy them for a pod the
	// listing lacks (Kubernetes reads them first too).
	satisfied := c.exp.Satisfied(key)
	var candidates []*corev1.Pod
	candidates = append(candidates, c.podLs.ListNamespace(ns, nil)...)
	pods, err := controller.Claim(ctx, c.cc.Client.Pods, job, sel, candidates)
	if err != nil {
		return err
	}
	if fin := Finished(job); fin != nil {
		return c.syncFinished(ctx, job, pods, fin, now)
	}
	if c.staleCache(job) {
		// The informer has not yet seen our last status write; its event
		// will bring the job back.
		return nil
	}
	s := &syncer{c: c, job: job, st: proto.Clone(job.GetStatus()).(*batchv1.JobStatus), now: now, key: key, satisfied: satisfied}
	if s.st == nil || job.Status == nil {
		s.st = &batchv1.JobStatus{}
	}
	return s.run(ctx, pods)
}

// releaseOrphans removes the tracking finalizer from the pods of a job that
// is gone, so that they can be deleted.
func (c *Controller) releaseOrphans(ctx context.Context, ns, jobName string) error {
	var errs []error
	for _, p := range c.podLs.ListNamespace(ns, nil) {
		ref := controller.ControllerOf(p.GetMetadata())
		if ref == nil || ref.GetKind() != "Job" || ref.GetName() != jobName || !controller.HasFinalizer(p.GetMetadata(), TrackingFinalizer) {
			continue
		}
		if _, err := c.removeFinalizer(ctx, p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c *Controller) removeFinalizer(ctx context.Context, p *corev1.Pod) (bool, error) {
	up := proto.Clone(p).(*corev1.Pod)
	up.Metadata.Finalizers = controller.RemoveFinalizer(up.Metadata.Finalizers, TrackingFinalizer)
	_, err := c.cc.Client.Pods(p.GetMetadata().GetNamespace()).Update(ctx, up)
	if client.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("remove tracking finalizer of pod %s: %w", p.GetMetadata().GetName(), err)
	}
	return true, nil
}

// syncFinished releases a finished job's pods and applies its TTL.
func (c *Controller) syncFinished(ctx context.Context, job *batchv1.Job, pods []*corev1.Pod, fin *batchv1.JobCondition, now time.Time) error {
	var errs []error
	for _, p := range pods {
		if controller.IsPodActive(p) {
			if err := c.pods.DeletePod(ctx, p, job); err != nil {
				errs = append(errs, err)
			}
		}
		if controller.HasFinalizer(p.GetMetadata(), TrackingFinalizer) && !controller.IsPodActive(p) {
			if _, err := c.removeFinalizer(ctx, p); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	ttl := job.GetSpec().TtlSecondsAfterFinished
	if ttl == nil {
		return nil
	}
	finishedAt := fin.GetLastTransitionTime().AsTime()
	if ct := job.GetStatus().GetCompletionTime(); ct != nil {
		finishedAt = ct.AsTime()
	}
	expire := finishedAt.Add(time.Duration(*ttl) * time.Second)
	if now.Before(expire) {
		c.queue.AddAfter(workqueue.KeyOf(job), expire.Sub(now))
		return nil
	}
	m := job.GetMetadata()
	err := c.cc.Client.Jobs(m.GetNamespace()).Delete(ctx, m.GetName(), client.DeleteOptions{
		Preconditions: &client.Preconditions{UID: m.GetUid()}, PropagationPolicy: client.DeletePropagationForeground})
	if err != nil && !client.IsNotFound(err) {
		return fmt.Errorf("delete expired job %s: %w", m.GetName(), err)
	}
	return nil
}

type syncer struct {
	c   *Controller
	job *batchv1.Job
	st  *batchv1.JobStatus
	now time.Time
	key string
	// satisfied is whether the expectations were met before the pods
	// were listed.
	satisfied bool
}

func isFailed(p *corev1.Pod) bool {
	ph := p.GetStatus().GetPhase()
	return ph == "Failed" || (p.GetMetadata().GetDeletionTimestamp() != nil && ph != "Succeeded")
}

func (s *syncer) run(ctx context.Context, pods []*corev1.Pod) error {
	c, job := s.c, s.job
	spec := job.GetSpec()
	if err := s.track(ctx, pods); err != nil {
		return err
	}
	var active, terminating []*corev1.Pod
	var ready int32
	for _, p := range pods {
		switch {
		case controller.IsPodActive(p):
			active = append(active, p)
			if controller.IsPodReady(p) {
				ready++
			}
		case controller.IsPodTerminating(p):
			terminating = append(terminating, p)
		}
	}
	succeeded := s.st.Succeeded + int32(len(s.st.GetUncountedTerminatedPods().GetSucceeded()))
	completed := ParseIndexes(s.st.GetCompletedIndexes())
	if indexed(spec) {
		// An Indexed job is done when every index has succeeded once.
		succeeded = int32(len(completed))
	}
	failed := s.st.Failed + int32(len(s.st.GetUncountedTerminatedPods().GetFailed()))
	suspended := spec.GetSuspend()
	if s.st.StartTime == nil && !suspended {
		s.st.StartTime = ts(s.now)
	}
	backoffLimit := int32(defaultBackoffLimit)
	if spec.BackoffLimit != nil {
		backoffLimit = *spec.BackoffLimit
	}
	var finish *batchv1.JobCondition
	switch {
	case failed > backoffLimit:
		finish = s.condition(CondFailed, ReasonBackoffLimit, "Job has reached the specified backoff limit")
	case spec.ActiveDeadlineSeconds != nil && s.st.StartTime != nil && !suspended &&
		!s.now.Before(s.st.StartTime.AsTime().Add(time.Duration(*spec.ActiveDeadlineSeconds)*time.Second)):
		finish = s.condition(CondFailed, ReasonDeadline, "Job was active longer than specified deadline")
	case spec.Completions != nil && succeeded >= *spec.Completions:
		finish = s.condition(CondComplete, ReasonCompletions, "Reached expected number of succeeded pods")
	case spec.Completions == nil && succeeded > 0 && len(active) == 0:
		finish = s.condition(CondComplete, ReasonCompletions, "Reached expected number of succeeded pods")
	}
	var manageErr error
	if finish != nil {
		for _, p := range active {
			if err := c.pods.DeletePod(ctx, p, job); err != nil {
				manageErr = err
			}
		}
		if manageErr == nil {
			active = nil
		}
		s.st.Conditions = append(s.st.Conditions, finish)
		if finish.Type == CondComplete {
			s.st.CompletionTime = ts(s.now)
			c.cc.Recorder.Event(job, record.Normal, "Completed", "Job completed")
		} else {
			c.cc.Recorder.Event(job, record.Warning, finish.Reason, finish.Message)
		}
	} else if s.satisfied {
		c.log.Debug("managing job pods", zap.String("job", s.key), zap.Int("active", len(active)), zap.Int32("succeeded", succeeded),
			zap.Int32("failed", failed), zap.String("resourceVersion", job.GetMetadata().GetResourceVersion()), zap.Int("pods", len(pods)))
		if indexed(spec) {
			active, manageErr = s.manageIndexed(ctx, active, completed, failed, pods)
		} else {
			active, manageErr = s.manage(ctx, active, succeeded, failed, pods)
		}
	}
	s.suspendCondition(suspended)
	s.st.Active = int32(len(active))
	s.st.Ready = &ready
	nTerm := int32(len(terminating))
	s.st.Terminating = &nTerm
	if finish == nil && spec.ActiveDeadlineSeconds != nil && s.st.StartTime != nil && !suspended {
		c.queue.AddAfter(s.key, s.st.StartTime.AsTime().Add(time.Duration(*spec.ActiveDeadlineSeconds)*time.Second).Sub(s.now))
	}
	if err := s.writeStatus(ctx); err != nil {
		return err
	}
	return manageErr
}

func (s *syncer) condition(typ, reason, msg string) *batchv1.JobCondition {
	return &batchv1.JobCondition{Type: typ, Status: "True", Reason: reason, Message: msg, LastProbeTime: ts(s.now), LastTransitionTime: ts(s.now)}
}

func (s *syncer) suspendCondition(suspended bool) {
	var cur *batchv1.JobCondition
	for _, cd := range s.st.Conditions {
		if cd.Type == CondSuspended {
			cur = cd
		}
	}
	switch {
	case suspended && (cur == nil || cur.Status != "True"):
		s.setCondition(&batchv1.JobCondition{Type: CondSuspended, Status: "True", Reason: ReasonJobSuspended, Message: "Job suspended",
			LastProbeTime: ts(s.now), LastTransitionTime: ts(s.now)})
		s.c.cc.Recorder.Event(s.job, record.Normal, "Suspended", "Job suspended")
	case !suspended && cur != nil && cur.Status == "True":
		s.setCondition(&batchv1.JobCondition{Type: CondSuspended, Status: "False", Reason: ReasonJobResumed, Message: "Job resumed",
			LastProbeTime: ts(s.now), LastTransitionTime: ts(s.now)})
		s.c.cc.Recorder.Event(s.job, record.Normal, "Resumed", "Job resumed")
	}
}

func (s *syncer) setCondition(c *batchv1.JobCondition) {
	var out []*batchv1.JobCondition
	for _, x := range s.st.Conditions {
		if x.Type != c.Type {
			out = append(out, x)
		}
	}
	s.st.Conditions = append(out, c)
}

func (s *syncer) writeStatus(ctx context.Context) error {
	if proto.Equal(s.st, s.job.GetStatus()) {
		return nil
	}
	up := proto.Clone(s.job).(*batchv1.Job)
	up.Status = s.st
	got, err := s.c.cc.Client.Jobs(s.job.GetMetadata().GetNamespace()).UpdateStatus(ctx, up)
	if err != nil {
		return fmt.Errorf("update status of job %s: %w", s.job.GetMetadata().GetName(), err)
	}
	s.c.wrote(got)
	s.job = got
	return nil
}

// track moves finished pods through uncountedTerminatedPods into the
// counts: record their uids, remove their finalizers, count them.
func (s *syncer) track(ctx context.Context, pods []*corev1.Pod) error {
	c := s.c
	jobUID := s.job.GetMetadata().GetUid()
	c.mu.Lock()
	counted := c.counted[jobUID]
	if counted == nil {
		counted = map[string]bool{}
		c.counted[jobUID] = counted
	}
	c.mu.Unlock()
	u := s.st.GetUncountedTerminatedPods()
	if u == nil {
		u = &batchv1.UncountedTerminatedPods{}
	}
	var toRelease []*corev1.Pod
	added := false
	for _, p := range pods {
		m := p.GetMetadata()
		if !controller.HasFinalizer(m, TrackingFinalizer) || c.isCounted(jobUID, m.GetUid()) {
			continue
		}
		switch {
		case p.GetStatus().GetPhase() == "Succeeded":
			if !slices.Contains(u.Succeeded, m.GetUid()) {
				u.Succeeded = append(u.Succeeded, m.GetUid())
				added = true
			}
		case isFailed(p):
			if !slices.Contains(u.Failed, m.GetUid()) {
				u.Failed = append(u.Failed, m.GetUid())
				added = true
			}
		default:
			continue
		}
		toRelease = append(toRelease, p)
	}
	if added {
		// The uids are on record before any finalizer goes.
		s.st.UncountedTerminatedPods = u
		if err := s.writeStatus(ctx); err != nil {
			return err
		}
		s.st = proto.Clone(s.job.GetStatus()).(*batchv1.JobStatus)
		u = s.st.UncountedTerminatedPods
	}
	released := map[string]bool{}
	var errs []error
	for _, p := range toRelease {
		ok, err := c.removeFinalizer(ctx, p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			released[p.GetMetadata().GetUid()] = true
		}
	}
	// Move the uids whose pods no longer hold the finalizer into the
	// counts.
	podByUID := map[string]*corev1.Pod{}
	for _, p := range pods {
		podByUID[p.GetMetadata().GetUid()] = p
	}
	done := func(uid string) bool {
		if released[uid] {
			return true
		}
		p, ok := podByUID[uid]
		return !ok || !controller.HasFinalizer(p.GetMetadata(), TrackingFinalizer)
	}
	var keepS, keepF []string
	moved := false
	completed := ParseIndexes(s.st.GetCompletedIndexes())
	for _, uid := range u.GetSucceeded() {
		if done(uid) {
			moved = true
			s.st.Succeeded++
			if p, ok := podByUID[uid]; ok && indexed(s.job.GetSpec()) {
				if i, ok := podIndex(p); ok && i < int(s.job.GetSpec().GetCompletions()) {
					completed[i] = true
				}
			}
			c.markCounted(jobUID, uid)
		} else {
			keepS = append(keepS, uid)
		}
	}
	for _, uid := range u.GetFailed() {
		if done(uid) {
			moved = true
			s.st.Failed++
			c.markCounted(jobUID, uid)
		} else {
			keepF = append(keepF, uid)
		}
	}
	u.Succeeded, u.Failed = keepS, keepF
	if indexed(s.job.GetSpec()) {
		s.st.CompletedIndexes = FormatIndexes(completed)
	}
	if !moved {
		return errors.Join(errs...)
	}
	if err := s.writeStatus(ctx); err != nil {
		return err
	}
	s.st = proto.Clone(s.job.GetStatus()).(*batchv1.JobStatus)
	return errors.Join(errs...)
}

// forgetDeleted drops what is remembered of deleted jobs of ns/name (by
// uid, of jobs no longer in the cache).
func (c *Controller) forgetDeleted(ns, name string) {
	live := map[string]bool{}
	for _, j := range c.jobLs.List(nil) {
		live[j.GetMetadata().GetUid()] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for uid := range c.written {
		if !live[uid] {
			delete(c.written, uid)
			delete(c.counted, uid)
		}
	}
}

// staleCache reports whether the cached job is older than the last status
// this process wrote for it.
func (c *Controller) staleCache(j *batchv1.Job) bool {
	rv, err := strconv.ParseInt(j.GetMetadata().GetResourceVersion(), 10, 64)
	if err != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return rv < c.written[j.GetMetadata().GetUid()]
}

func (c *Controller) wrote(j *batchv1.Job) {
	rv, err := strconv.ParseInt(j.GetMetadata().GetResourceVersion(), 10, 64)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.written[j.GetMetadata().GetUid()] = max(c.written[j.GetMetadata().GetUid()], rv)
}

func (c *Controller) isCounted(jobUID, podUID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counted[jobUID][podUID]
}

func (c *Controller) markCounted(jobUID, podUID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counted[jobUID] == nil {
		c.counted[jobUID] = map[string]bool{}
	}
	c.counted[jobUID][podUID] = true
}

// manage creates or deletes pods toward the wanted parallelism, waiting out
// the back-off after failures. It returns the active pods after.
func (s *syncer) manage(ctx context.Context, active []*corev1.Pod, succeeded, failed int32, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	c, job, spec := s.c, s.job, s.job.GetSpec()
	parallelism := int32(1)
	if spec.Parallelism != nil {
		parallelism = *spec.Parallelism
	}
	want := parallelism
	switch {
	case spec.GetSuspend():
		want = 0
	case spec.Completions != nil:
		want = min(parallelism, *spec.Completions-succeeded)
	case succeeded > 0:
		want = int32(len(active)) // work queue: once one succeeded, start no more
	}
	want = max(want, 0)
	diff := int32(len(active)) - want
	switch {
	case diff > 0:
		victims := append([]*corev1.Pod(nil), active...)
		controller.SortPodsForDeletion(victims)
		victims = victims[:min(diff, maxPodCreateDeletions)]
		keys := make([]string, len(victims))
		for i, p := range victims {
			keys[i] = workqueue.KeyOf(p)
		}
		c.exp.ExpectDeletions(s.key, keys)
		var errs []error
		for _, p := range victims {
			if err := c.pods.DeletePod(ctx, p, job); err != nil {
				c.exp.DeletionObserved(s.key, workqueue.KeyOf(p))
				errs = append(errs, err)
			}
		}
		return active[:len(active)-len(victims)], errors.Join(errs...)
	case diff < 0:
		if wait := s.backoffRemaining(failed, pods); wait > 0 {
			c.queue.AddAfter(s.key, wait)
			return active, nil
		}
		n := int(min(-diff, maxPodCreateDeletions))
		c.exp.ExpectCreations(s.key, n)
		ref := controller.NewControllerRef(job)
		m := job.GetMetadata()
		var mu sync.Mutex
		created, err := controller.SlowStartBatch(n, 1, func() error {
			pod := controller.PodFromTemplate(spec.GetTemplate(), m.GetNamespace(), m.GetName()+"-", ref)
			pod.Metadata.Finalizers = append(pod.Metadata.Finalizers, TrackingFinalizer)
			p, err := c.pods.CreatePod(ctx, pod, job)
			if err == nil {
				c.log.Debug("job pod created", zap.String("job", s.key), zap.String("pod", p.GetMetadata().GetName()))
				mu.Lock()
				active = append(active, p)
				mu.Unlock()
			}
			return err
		})
		for range n - created {
			c.exp.CreationObserved(s.key)
		}
		return active, err
	}
	return active, nil
}

// backoffRemaining is how long to wait before replacing a failed pod:
// BackoffBase doubled per failure beyond the first, at most BackoffMax,
// from the latest failure.
func (s *syncer) backoffRemaining(failed int32, pods []*corev1.Pod) time.Duration {
	if failed == 0 {
		return 0
	}
	d := s.c.opts.BackoffBase
	for i := int32(1); i < failed && d < s.c.opts.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, s.c.opts.BackoffMax)
	var last time.Time
	for _, p := range pods {
		if !isFailed(p) {
			continue
		}
		if t := finishTime(p); t.After(last) {
			last = t
		}
	}
	if last.IsZero() {
		return 0
	}
	return last.Add(d).Sub(s.now)
}

// finishTime is when a failed pod finished, as well as its status tells.
func finishTime(p *corev1.Pod) time.Time {
	var t time.Time
	for _, cs := range p.GetStatus().GetContainerStatuses() {
		if f := cs.GetState().GetTerminated().GetFinishedAt(); f != nil && f.AsTime().After(t) {
			t = f.AsTime()
		}
	}
	if !t.IsZero() {
		return t
	}
	for _, cd := range p.GetStatus().GetConditions() {
		if lt := cd.GetLastTransitionTime(); lt != nil && lt.AsTime().After(t) {
			t = lt.AsTime()
		}
	}
	if dt := p.GetMetadata().GetDeletionTimestamp(); dt != nil && t.IsZero() {
		t = dt.AsTime()
	}
	return t
}

func ts(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t.Truncate(time.Second)) }
