package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gantryhq/gantry/client"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func newCronJob(name, schedule, policy, result string) *batchv1.CronJob {
	ann := map[string]string{}
	if result != "" {
		ann[ResultAnnotation] = result
	}
	return &batchv1.CronJob{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: &batchv1.CronJobSpec{Schedule: schedule, ConcurrencyPolicy: policy, JobTemplate: &batchv1.JobTemplateSpec{
			Spec: &batchv1.JobSpec{Template: &corev1.PodTemplateSpec{
				Metadata: &metav1.ObjectMeta{Annotations: ann},
				Spec:     &corev1.PodSpec{RestartPolicy: "Never", Containers: []*corev1.Container{{Name: "c", Image: "busybox"}}}}}}},
	}
}

// jobsOf lists the live jobs a cron job owns.
func jobsOf(ctx context.Context, cs *client.Clientset, cj string) ([]*batchv1.Job, error) {
	l, err := cs.Jobs("default").List(ctx, client.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []*batchv1.Job
	for _, j := range l.Items {
		for _, r := range j.GetMetadata().GetOwnerReferences() {
			if r.GetName() == cj && r.GetKind() == "CronJob" && j.GetMetadata().GetDeletionTimestamp() == nil {
				out = append(out, j)
			}
		}
	}
	return out, nil
}

func eventReasons(ctx context.Context, cs *client.Clientset, name string) (map[string]int, error) {
	l, err := cs.Events("default").List(ctx, client.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, e := range l.Items {
		if e.GetInvolvedObject().GetName() == name {
			out[e.GetReason()]++
		}
	}
	return out, nil
}

// startCronJob creates a cron job and returns the start of the minute
// after its creation, by the clock.
func startCronJob(t *testing.T, cs *client.Clientset, clock *FakeClock, cj *batchv1.CronJob) time.Time {
	t.Helper()
	clock.Set(time.Now())
	created, err := cs.CronJobs("default").Create(context.Background(), cj)
	if err != nil {
		t.Fatal(err)
	}
	return created.GetMetadata().GetCreationTimestamp().AsTime().Truncate(time.Minute).Add(time.Minute)
}

func TestCronJob(t *testing.T) {
	cs, _ := setup(t, HollowOptions{})
	clock := NewFakeClock(time.Now())
	StartCM(t, cs, CMOptions{Clock: clock})

	t.Run("runs on schedule", func(t *testing.T) {
		next := startCronJob(t, cs, clock, newCronJob("every-minute", "* * * * *", "Allow", "Succeeded"))
		time.Sleep(300 * time.Millisecond)
		if jobs, _ := jobsOf(context.Background(), cs, "every-minute"); len(jobs) != 0 {
			t.Fatalf("%d jobs before the first schedule", len(jobs))
		}
		for i := 1; i <= 3; i++ {
			clock.Set(next.Add(time.Duration(i-1)*time.Minute + time.Second))
			waitFor(t, 20*time.Second, fmt.Sprintf("job %d", i), func(ctx context.Context) (bool, error) {
				jobs, err := jobsOf(ctx, cs, "every-minute")
				return len(jobs) == i, err
			})
		}
		waitFor(t, 20*time.Second, "the jobs complete and lastSuccessfulTime set", func(ctx context.Context) (bool, error) {
			cj, err := cs.CronJobs("default").Get(ctx, "every-minute")
			return err == nil && len(cj.GetStatus().GetActive()) == 0 && cj.GetStatus().GetLastSuccessfulTime() != nil, err
		})
	})

	t.Run("Forbid", func(t *testing.T) {
		next := startCronJob(t, cs, clock, newCronJob("forbid", "* * * * *", "Forbid", ""))
		clock.Set(next.Add(time.Second))
		waitFor(t, 20*time.Second, "first job", func(ctx context.Context) (bool, error) {
			jobs, err := jobsOf(ctx, cs, "forbid")
			return len(jobs) == 1, err
		})
		if r, _ := eventReasons(context.Background(), cs, "forbid"); r["JobAlreadyActive"] != 0 {
			t.Fatalf("JobAlreadyActive before the second schedule: %v", r)
		}
		clock.Set(next.Add(time.Minute + time.Second))
		waitFor(t, 20*time.Second, "JobAlreadyActive", func(ctx context.Context) (bool, error) {
			r, err := eventReasons(ctx, cs, "forbid")
			return r["JobAlreadyActive"] > 0, err
		})
		if jobs, _ := jobsOf(context.Background(), cs, "forbid"); len(jobs) != 1 {
			t.Errorf("%d jobs with Forbid and one still running, want 1", len(jobs))
		}
	})

	t.Run("Replace", func(t *testing.T) {
		next := startCronJob(t, cs, clock, newCronJob("replace", "* * * * *", "Replace", ""))
		clock.Set(next.Add(time.Second))
		var first string
		waitFor(t, 20*time.Second, "first job", func(ctx context.Context) (bool, error) {
			jobs, err := jobsOf(ctx, cs, "replace")
			if len(jobs) == 1 {
				first = jobs[0].GetMetadata().GetName()
			}
			return len(jobs) == 1, err
		})
		clock.Set(next.Add(time.Minute + time.Second))
		waitFor(t, 20*time.Second, "the first job replaced", func(ctx context.Context) (bool, error) {
			jobs, err := jobsOf(ctx, cs, "replace")
			return len(jobs) == 1 && jobs[0].GetMetadata().GetName() != first, err
		})
	})

	t.Run("150 missed schedules start none", func(t *testing.T) {
		next := startCronJob(t, cs, clock, newCronJob("missed", "* * * * *", "Allow", ""))
		clock.Set(next.Add(150*time.Minute + time.Second))
		waitFor(t, 20*time.Second, "TooManyMissedTimes", func(ctx context.Context) (bool, error) {
			r, err := eventReasons(ctx, cs, "missed")
			return r["TooManyMissedTimes"] > 0, err
		})
		time.Sleep(300 * time.Millisecond)
		if jobs, _ := jobsOf(context.Background(), cs, "missed"); len(jobs) != 0 {
			t.Errorf("%d jobs started after 150 missed schedules, want 0", len(jobs))
		}
	})
}
