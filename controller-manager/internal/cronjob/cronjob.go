package cronjob

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // time zones without the system database

	"github.com/robfig/cron/v3"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/client/workqueue"
	"github.com/gantryhq/gantry/controller-manager/internal/controller"
	"github.com/gantryhq/gantry/controller-manager/internal/job"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// Name is the controller's name in --controllers.
const Name = "cronjob"

// ScheduledTimestampAnnotation records a job's scheduled time.
const ScheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"

// MaxMissedSchedules is how many missed schedules the controller accepts
// before it gives up starting any.
const MaxMissedSchedules = 100

// Controller is the CronJob controller.
type Controller struct {
	cc     *controller.Context
	log    *zap.Logger
	queue  workqueue.Interface
	cjLs   informer.Lister[*batchv1.CronJob]
	jobLs  informer.Lister[*batchv1.Job]
	synced []func() bool
	resync time.Duration
}

// New makes the controller; every CronJob is looked at again every resync
// besides at its next scheduled time.
func New(cc *controller.Context, resync time.Duration) *Controller {
	cjInf, jobInf := cc.Informers.CronJobs(), cc.Informers.Jobs()
	c := &Controller{cc: cc, log: cc.Logger.Named(Name), queue: workqueue.New(Name), cjLs: cjInf.Lister(), jobLs: jobInf.Lister(),
		synced: []func() bool{cjInf.HasSynced, jobInf.HasSynced}, resync: resync}
	cjInf.AddEventHandler(informer.Handler[*batchv1.CronJob]{
		OnAdd:    func(cj *batchv1.CronJob) { controller.Enqueue(c.queue, cj) },
		OnUpdate: func(_, cj *batchv1.CronJob) { controller.Enqueue(c.queue, cj) },
	})
	enqueueOwner := func(j *batchv1.Job) {
		if ref := controller.ControllerOf(j.GetMetadata()); ref != nil && ref.GetKind() == "CronJob" {
			c.queue.Add(workqueue.Key(j.GetMetadata().GetNamespace(), ref.GetName()))
		}
	}
	jobInf.AddEventHandler(informer.Handler[*batchv1.Job]{
		OnAdd:    enqueueOwner,
		OnUpdate: func(_, j *batchv1.Job) { enqueueOwner(j) },
		OnDelete: enqueueOwner,
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
	if c.resync > 0 {
		go func() {
			t := time.NewTicker(c.resync)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					for _, cj := range c.cjLs.List(nil) {
						controller.Enqueue(c.queue, cj)
					}
				}
			}
		}()
	}
	c.cc.RunWorkers(ctx, Name, c.log, c.queue, workers, c.Sync)
}

// Schedule parses the CronJob's schedule in its time zone.
func Schedule(cj *batchv1.CronJob) (cron.Schedule, error) {
	s := cj.GetSpec().GetSchedule()
	if tz := cj.GetSpec().GetTimeZone(); tz != "" {
		if strings.Contains(s, "TZ=") {
			return nil, errors.New("cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
		}
		if _, err := time.LoadLocation(tz); err != nil {
			return nil, fmt.Errorf("unknown time zone %q: %w", tz, err)
		}
		s = "CRON_TZ=" + tz + " " + s
	}
	return cron.ParseStandard(s)
}

// MostRecentSchedule returns the latest scheduled time in (earliest, now],
// how many there were (counting stops past MaxMissedSchedules), and the
// next one after now.
func MostRecentSchedule(cj *batchv1.CronJob, sched cron.Schedule, now time.Time) (recent *time.Time, missed int, next time.Time) {
	earliest := cj.GetMetadata().GetCreationTimestamp().AsTime()
	if l := cj.GetStatus().GetLastScheduleTime(); l != nil {
		earliest = l.AsTime()
	}
	if sds := cj.GetSpec().StartingDeadlineSeconds; sds != nil {
		if dl := now.Add(-time.Duration(*sds) * time.Second); dl.After(earliest) {
			earliest = dl
		}
	}
	for t := sched.Next(earliest); !t.After(now); t = sched.Next(t) {
		if t.IsZero() {
			break
		}
		tt := t
		recent = &tt
		missed++
		if missed > MaxMissedSchedules {
			// Find the most recent quickly is not needed: too many.
			break
		}
	}
	return recent, missed, sched.Next(now)
}

// Sync reconciles the CronJob key names.
func (c *Controller) Sync(ctx context.Context, key string) error {
	ns, name, err := workqueue.SplitKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.cjLs.Get(ns, name)
	if client.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	cj := proto.Clone(cached).(*batchv1.CronJob)
	if cj.Status == nil {
		cj.Status = &batchv1.CronJobStatus{}
	}
	now := c.cc.Now()
	var jobs []*batchv1.Job
	for _, j := range c.jobLs.ListNamespace(ns, nil) {
		if ref := controller.ControllerOf(j.GetMetadata()); ref != nil && ref.GetUid() == cj.GetMetadata().GetUid() {
			jobs = append(jobs, j)
		}
	}
	c.syncActive(cj, jobs)
	var errs []error
	if err := c.cleanupHistory(ctx, cj, jobs); err != nil {
		errs = append(errs, err)
	}
	requeue, err := c.schedule(ctx, cj, jobs, now)
	if err != nil {
		errs = append(errs, err)
	}
	if !proto.Equal(cj.Status, cached.GetStatus()) && !(cached.GetStatus() == nil && proto.Equal(cj.Status, &batchv1.CronJobStatus{})) {
		if _, err := c.cc.Client.CronJobs(ns).UpdateStatus(ctx, cj); err != nil {
			errs = append(errs, fmt.Errorf("update status of cronjob %s: %w", name, err))
		}
	}
	if requeue > 0 {
		c.queue.AddAfter(key, requeue)
	}
	return errors.Join(errs...)
}

// syncActive makes status.active the jobs still running, records
// SawCompletedJob for those that finished and lastSuccessfulTime.
func (c *Controller) syncActive(cj *batchv1.CronJob, jobs []*batchv1.Job) {
	byUID := map[string]*batchv1.Job{}
	for _, j := range jobs {
		byUID[j.GetMetadata().GetUid()] = j
	}
	var active []*corev1.ObjectReference
	seen := map[string]bool{}
	for _, ref := range cj.Status.Active {
		j, ok := byUID[ref.GetUid()]
		if !ok {
			continue // gone
		}
		if fin := job.Finished(j); fin != nil {
			c.cc.Recorder.Eventf(cj, record.Normal, "SawCompletedJob", "Saw completed job: %s, condition: %s", j.GetMetadata().GetName(), fin.GetType())
			if fin.GetType() == job.CondComplete {
				t := j.GetStatus().GetCompletionTime()
				if t != nil && (cj.Status.LastSuccessfulTime == nil || t.AsTime().After(cj.Status.LastSuccessfulTime.AsTime())) {
					cj.Status.LastSuccessfulTime = t
				}
			}
			continue
		}
		active = append(active, ref)
		seen[ref.GetUid()] = true
	}
	for _, j := range jobs {
		if !seen[j.GetMetadata().GetUid()] && job.Finished(j) == nil && j.GetMetadata().GetDeletionTimestamp() == nil {
			active = append(active, jobRef(j))
		}
	}
	sort.Slice(active, func(i, k int) bool { return active[i].GetName() < active[k].GetName() })
	cj.Status.Active = active
}

func jobRef(j *batchv1.Job) *corev1.ObjectReference {
	m := j.GetMetadata()
	return &corev1.ObjectReference{Kind: "Job", ApiVersion: "batch/v1", Namespace: m.GetNamespace(), Name: m.GetName(), Uid: m.GetUid()}
}

// schedule starts the job of the most recent scheduled time when due, and
// returns how long until the next look.
func (c *Controller) schedule(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job, now time.Time) (time.Duration, error) {
	if cj.GetMetadata().GetDeletionTimestamp() != nil {
		return 0, nil
	}
	sched, err := Schedule(cj)
	if err != nil {
		c.cc.Recorder.Eventf(cj, record.Warning, "InvalidSchedule", "invalid schedule: %s : %v", cj.GetSpec().GetSchedule(), err)
		return 0, nil
	}
	if cj.GetSpec().GetSuspend() {
		return 0, nil
	}
	recent, missed, next := MostRecentSchedule(cj, sched, now)
	wait := next.Sub(now) + 100*time.Millisecond
	if recent == nil {
		return wait, nil
	}
	if missed > MaxMissedSchedules {
		c.cc.Recorder.Eventf(cj, record.Warning, "TooManyMissedTimes",
			"too many missed start times: more than %d. Set or decrease .spec.startingDeadlineSeconds or check clock skew", MaxMissedSchedules)
		return wait, nil
	}
	if sds := cj.GetSpec().StartingDeadlineSeconds; sds != nil && recent.Add(time.Duration(*sds)*time.Second).Before(now) {
		c.cc.Recorder.Eventf(cj, record.Warning, "MissSchedule", "Missed scheduled time to start a job: %s", recent.UTC().Format(time.RFC1123Z))
		return wait, nil
	}
	if l := cj.Status.GetLastScheduleTime(); l != nil && !recent.After(l.AsTime()) {
		return wait, nil
	}
	// The job of this schedule exists already: a sync before ours started
	// it and our cache of the CronJob is older than its status.
	name := jobFor(cj, *recent).GetMetadata().GetName()
	for _, j := range jobs {
		if j.GetMetadata().GetName() == name {
			cj.Status.LastScheduleTime = timestamppb.New(*recent)
			return wait, nil
		}
	}
	switch cj.GetSpec().GetConcurrencyPolicy() {
	case "Forbid":
		if len(cj.Status.Active) > 0 {
			c.cc.Recorder.Eventf(cj, record.Normal, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
			return wait, nil
		}
	case "Replace":
		for _, ref := range cj.Status.Active {
			err := c.cc.Client.Jobs(ref.GetNamespace()).Delete(ctx, ref.GetName(), client.DeleteOptions{
				Preconditions: &client.Preconditions{UID: ref.GetUid()}, PropagationPolicy: client.DeletePropagationBackground})
			if err != nil && !client.IsNotFound(err) {
				return wait, fmt.Errorf("replace job %s: %w", ref.GetName(), err)
			}
			c.cc.Recorder.Eventf(cj, record.Normal, "SuccessfulDelete", "Deleted job %s", ref.GetName())
		}
		cj.Status.Active = nil
	}
	j := jobFor(cj, *recent)
	created, err := c.cc.Client.Jobs(cj.GetMetadata().GetNamespace()).Create(ctx, j)
	switch {
	case client.IsAlreadyExists(err):
		// Started already (by us, before a restart): take it as done.
		existing, gerr := c.jobLs.Get(j.Metadata.Namespace, j.Metadata.Name)
		if gerr == nil {
			created = existing
		}
	case err != nil:
		c.cc.Recorder.Eventf(cj, record.Warning, "FailedCreate", "Error creating job: %v", err)
		return wait, fmt.Errorf("create job for cronjob %s: %w", cj.GetMetadata().GetName(), err)
	default:
		c.cc.Recorder.Eventf(cj, record.Normal, "SuccessfulCreate", "Created job %s", created.GetMetadata().GetName())
	}
	if created != nil && job.Finished(created) == nil {
		found := false
		for _, a := range cj.Status.Active {
			found = found || a.GetUid() == created.GetMetadata().GetUid()
		}
		if !found {
			cj.Status.Active = append(cj.Status.Active, jobRef(created))
		}
	}
	cj.Status.LastScheduleTime = timestamppb.New(*recent)
	return wait, nil
}

// jobFor is the job of cj for the scheduled time t.
func jobFor(cj *batchv1.CronJob, t time.Time) *batchv1.Job {
	tm := cj.GetSpec().GetJobTemplate().GetMetadata()
	ann := maps.Clone(tm.GetAnnotations())
	if ann == nil {
		ann = map[string]string{}
	}
	loc := time.UTC
	if tz := cj.GetSpec().GetTimeZone(); tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	ann[ScheduledTimestampAnnotation] = t.In(loc).Format(time.RFC3339)
	return &batchv1.Job{
		Metadata: &metav1.ObjectMeta{
			Name:            fmt.Sprintf("%s-%d", cj.GetMetadata().GetName(), t.Unix()/60),
			Namespace:       cj.GetMetadata().GetNamespace(),
			Labels:          maps.Clone(tm.GetLabels()),
			Annotations:     ann,
			OwnerReferences: []*metav1.OwnerReference{controller.NewControllerRef(cj)},
		},
		Spec: proto.Clone(cj.GetSpec().GetJobTemplate().GetSpec()).(*batchv1.JobSpec),
	}
}

// cleanupHistory deletes the oldest finished jobs beyond the history
// limits (3 successful and 1 failed by default).
func (c *Controller) cleanupHistory(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) error {
	succLimit, failLimit := int32(3), int32(1)
	if l := cj.GetSpec().SuccessfulJobsHistoryLimit; l != nil {
		succLimit = *l
	}
	if l := cj.GetSpec().FailedJobsHistoryLimit; l != nil {
		failLimit = *l
	}
	var succ, fail []*batchv1.Job
	for _, j := range jobs {
		if j.GetMetadata().GetDeletionTimestamp() != nil {
			continue
		}
		switch fin := job.Finished(j); {
		case fin == nil:
		case fin.GetType() == job.CondComplete:
			succ = append(succ, j)
		default:
			fail = append(fail, j)
		}
	}
	var errs []error
	for _, set := range []struct {
		jobs  []*batchv1.Job
		limit int32
	}{{succ, succLimit}, {fail, failLimit}} {
		if int32(len(set.jobs)) <= set.limit {
			continue
		}
		sort.Slice(set.jobs, func(i, k int) bool { return startOf(set.jobs[i]).Before(startOf(set.jobs[k])) })
		for _, j := range set.jobs[:int32(len(set.jobs))-set.limit] {
			m := j.GetMetadata()
			err := c.cc.Client.Jobs(m.GetNamespace()).Delete(ctx, m.GetName(), client.DeleteOptions{
				Preconditions: &client.Preconditions{UID: m.GetUid()}, PropagationPolicy: client.DeletePropagationBackground})
			if err != nil && !client.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("delete old job %s: %w", m.GetName(), err))
				continue
			}
			c.cc.Recorder.Eventf(cj, record.Normal, "SuccessfulDelete", "Deleted job %s", m.GetName())
		}
	}
	return errors.Join(errs...)
}

func startOf(j *batchv1.Job) time.Time {
	if s := j.GetStatus().GetStartTime(); s != nil {
		return s.AsTime()
	}
	return j.GetMetadata().GetCreationTimestamp().AsTime()
}
