package cronjob_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/controller-manager/internal/controllertest"
	"github.com/gantryhq/gantry/controller-manager/internal/cronjob"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// The clock of every case starts at controllertest.Epoch, 12:00:00 UTC.
var epoch = controllertest.Epoch

func cj(schedule string, created time.Time, f ...func(*batchv1.CronJob)) *batchv1.CronJob {
	c := &batchv1.CronJob{
		Metadata: &metav1.ObjectMeta{Name: "cj", Namespace: "default", Uid: "uid-cj", CreationTimestamp: timestamppb.New(created)},
		Spec: &batchv1.CronJobSpec{Schedule: schedule, ConcurrencyPolicy: "Allow", JobTemplate: &batchv1.JobTemplateSpec{
			Spec: &batchv1.JobSpec{Template: &corev1.PodTemplateSpec{Spec: &corev1.PodSpec{RestartPolicy: "Never",
				Containers: []*corev1.Container{{Name: "c", Image: "busybox"}}}}}}},
		Status: &batchv1.CronJobStatus{},
	}
	for _, x := range f {
		x(c)
	}
	return c
}

func jobName(t time.Time) string { return fmt.Sprintf("cj-%d", t.Unix()/60) }

// ownedJob is a job of cj; finished "Complete", "Failed" or "" (running).
func ownedJob(name string, started time.Time, finished string) *batchv1.Job {
	j := &batchv1.Job{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default", Uid: "uid-" + name,
			OwnerReferences: []*metav1.OwnerReference{{ApiVersion: "batch/v1", Kind: "CronJob", Name: "cj", Uid: "uid-cj", Controller: ptr.To(true)}}},
		Spec:   &batchv1.JobSpec{},
		Status: &batchv1.JobStatus{StartTime: timestamppb.New(started)},
	}
	if finished != "" {
		j.Status.Conditions = []*batchv1.JobCondition{{Type: finished, Status: "True"}}
		if finished == "Complete" {
			j.Status.CompletionTime = timestamppb.New(started.Add(time.Second))
		}
	}
	return j
}

func active(names ...string) func(*batchv1.CronJob) {
	return func(c *batchv1.CronJob) {
		for _, n := range names {
			c.Status.Active = append(c.Status.Active, &corev1.ObjectReference{Kind: "Job", ApiVersion: "batch/v1", Namespace: "default", Name: n, Uid: "uid-" + n})
		}
	}
}

func TestSync(t *testing.T) {
	due := epoch.Truncate(time.Minute) // 12:00, the most recent schedule of "* * * * *"
	tests := []struct {
		name       string
		objs       []scheme.Object
		wantWrites []string
		wantEvent  string // a substring of one event
		wantLast   *time.Time
	}{
		{
			name:       "due: starts a job named after the scheduled minute",
			objs:       []scheme.Object{cj("* * * * *", epoch.Add(-90*time.Second))},
			wantWrites: []string{"create jobs default/" + jobName(due), "updatestatus cronjobs default/cj"},
			wantEvent:  "SuccessfulCreate Created job " + jobName(due),
			wantLast:   &due,
		},
		{
			name: "not due yet",
			objs: []scheme.Object{cj("*/5 * * * *", epoch.Add(time.Second), func(c *batchv1.CronJob) {
				c.Status.LastScheduleTime = timestamppb.New(due)
			})},
			wantWrites: nil,
		},
		{
			name:       "macro @hourly",
			objs:       []scheme.Object{cj("@hourly", epoch.Add(-61*time.Minute))},
			wantWrites: []string{"create jobs default/" + jobName(due), "updatestatus cronjobs default/cj"},
			wantLast:   &due,
		},
		{
			name:       "timeZone: 21:00 in Tokyo is 12:00 UTC",
			objs:       []scheme.Object{cj("0 21 * * *", epoch.Add(-2*time.Hour), func(c *batchv1.CronJob) { c.Spec.TimeZone = ptr.To("Asia/Tokyo") })},
			wantWrites: []string{"create jobs default/" + jobName(due), "updatestatus cronjobs default/cj"},
			wantLast:   &due,
		},
		{
			name: "Forbid: a running job blocks the next",
			objs: []scheme.Object{
				cj("* * * * *", epoch.Add(-time.Hour), active("cj-old"), func(c *batchv1.CronJob) {
					c.Spec.ConcurrencyPolicy = "Forbid"
					c.Status.LastScheduleTime = timestamppb.New(due.Add(-time.Minute))
				}),
				ownedJob("cj-old", epoch.Add(-time.Minute), ""),
			},
			wantWrites: nil,
			wantEvent:  "JobAlreadyActive",
		},
		{
			name: "Replace: the running job is deleted, a new one started",
			objs: []scheme.Object{
				cj("* * * * *", epoch.Add(-time.Hour), active("cj-old"), func(c *batchv1.CronJob) {
					c.Spec.ConcurrencyPolicy = "Replace"
					c.Status.LastScheduleTime = timestamppb.New(due.Add(-time.Minute))
				}),
				ownedJob("cj-old", epoch.Add(-time.Minute), ""),
			},
			wantWrites: []string{"create jobs default/" + jobName(due), "delete jobs default/cj-old Background", "updatestatus cronjobs default/cj"},
			wantLast:   &due,
		},
		{
			name:       "suspended",
			objs:       []scheme.Object{cj("* * * * *", epoch.Add(-90*time.Second), func(c *batchv1.CronJob) { c.Spec.Suspend = ptr.To(true) })},
			wantWrites: nil,
		},
		{
			name:       "150 missed schedules: none started",
			objs:       []scheme.Object{cj("* * * * *", epoch.Add(-150*time.Minute-time.Second))},
			wantWrites: nil,
			wantEvent:  "TooManyMissedTimes",
		},
		{
			name: "startingDeadlineSeconds bounds the missed schedules counted",
			objs: []scheme.Object{cj("* * * * *", epoch.Add(-150*time.Minute-time.Second), func(c *batchv1.CronJob) {
				c.Spec.StartingDeadlineSeconds = ptr.To(int64(200))
			})},
			wantWrites: []string{"create jobs default/" + jobName(due), "updatestatus cronjobs default/cj"},
			wantLast:   &due,
		},
		{
			name: "finished jobs: SawCompletedJob, history trimmed to the limits",
			objs: []scheme.Object{
				cj("*/5 * * * *", epoch.Add(-time.Hour), active("cj-5"), func(c *batchv1.CronJob) {
					c.Status.LastScheduleTime = timestamppb.New(due)
				}),
				ownedJob("cj-1", epoch.Add(-50*time.Minute), "Complete"),
				ownedJob("cj-2", epoch.Add(-40*time.Minute), "Complete"),
				ownedJob("cj-3", epoch.Add(-30*time.Minute), "Failed"),
				ownedJob("cj-4", epoch.Add(-20*time.Minute), "Failed"),
				ownedJob("cj-5", epoch.Add(-10*time.Minute), "Complete"),
				ownedJob("cj-6", epoch.Add(-5*time.Minute), "Complete"),
			},
			wantWrites: []string{"delete jobs default/cj-1 Background", "delete jobs default/cj-3 Background", "updatestatus cronjobs default/cj"},
			wantEvent:  "SawCompletedJob Saw completed job: cj-5",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := controllertest.New(t, tt.objs...)
			c := cronjob.New(h.Ctx, 0)
			h.Start()
			if err := c.Sync(context.Background(), "default/cj"); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantWrites, h.Writes()); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
			if tt.wantEvent != "" {
				found := false
				for _, e := range h.Recorder.Events() {
					found = found || strings.Contains(e, tt.wantEvent)
				}
				if !found {
					t.Errorf("no event %q in %q", tt.wantEvent, h.Recorder.Events())
				}
			}
			got := h.Server.Object("cronjobs", "default", "cj").(*batchv1.CronJob)
			if tt.wantLast != nil {
				if l := got.GetStatus().GetLastScheduleTime(); l == nil || !l.AsTime().Equal(*tt.wantLast) {
					t.Errorf("lastScheduleTime = %v, want %v", l.AsTime(), *tt.wantLast)
				}
			}
		})
	}
}

func TestInvalidSchedule(t *testing.T) {
	for _, s := range []string{"61 * * * *", "* * *", "@fortnightly"} {
		if _, err := cronjob.Schedule(cj(s, epoch)); err == nil {
			t.Errorf("schedule %q parsed", s)
		}
	}
	if _, err := cronjob.Schedule(cj("CRON_TZ=UTC * * * * *", epoch, func(c *batchv1.CronJob) { c.Spec.TimeZone = ptr.To("UTC") })); err == nil {
		t.Error("TZ in schedule with timeZone set accepted")
	}
}
