package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/client"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func newJob(name, result string, backoffLimit, completions int32) *batchv1.Job {
	t := &corev1.PodTemplateSpec{
		Metadata: &metav1.ObjectMeta{Annotations: map[string]string{ResultAnnotation: result}},
		Spec:     &corev1.PodSpec{RestartPolicy: "Never", Containers: []*corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	return &batchv1.Job{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:     &batchv1.JobSpec{BackoffLimit: ptr.To(backoffLimit), Completions: ptr.To(completions), Template: t},
	}
}

func jobCondition(j *batchv1.Job, typ string) *batchv1.JobCondition {
	for _, c := range j.GetStatus().GetConditions() {
		if c.GetType() == typ && c.GetStatus() == "True" {
			return c
		}
	}
	return nil
}

func TestJobBackoffLimitExceeded(t *testing.T) {
	cs, _ := setup(t, HollowOptions{})
	StartCM(t, cs, CMOptions{})
	ctx := context.Background()
	if _, err := cs.Jobs("default").Create(ctx, newJob("fails", "Failed", 1, 1)); err != nil {
		t.Fatal(err)
	}
	var job *batchv1.Job
	waitFor(t, 30*time.Second, "job failed", func(ctx context.Context) (bool, error) {
		j, err := cs.Jobs("default").Get(ctx, "fails")
		job = j
		return err == nil && jobCondition(j, "Failed") != nil, err
	})
	if c := jobCondition(job, "Failed"); c.GetReason() != "BackoffLimitExceeded" {
		t.Errorf("Failed reason = %q, want BackoffLimitExceeded", c.GetReason())
	}
	if f := job.GetStatus().GetFailed(); f != 2 {
		t.Errorf("status.failed = %d, want 2", f)
	}
	pods, err := cs.Pods("default").List(ctx, client.ListOptions{LabelSelector: "job-name=fails"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 2 {
		t.Errorf("%d pods, want 2 (one try and one retry)", len(pods.Items))
	}
	for _, p := range pods.Items {
		if len(p.GetMetadata().GetFinalizers()) != 0 {
			t.Errorf("pod %s keeps finalizers %v", p.GetMetadata().GetName(), p.GetMetadata().GetFinalizers())
		}
	}
}

func TestJobCompletes(t *testing.T) {
	cs, _ := setup(t, HollowOptions{})
	StartCM(t, cs, CMOptions{})
	ctx := context.Background()
	j := newJob("ok", "Succeeded", 6, 4)
	j.Spec.Parallelism = ptr.To(int32(2))
	if _, err := cs.Jobs("default").Create(ctx, j); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "job complete", func(ctx context.Context) (bool, error) {
		j, err := cs.Jobs("default").Get(ctx, "ok")
		if err != nil {
			return false, err
		}
		return jobCondition(j, "Complete") != nil && j.GetStatus().GetSucceeded() == 4, fmt.Errorf("status %v", j.GetStatus())
	})
	pods, err := cs.Pods("default").List(ctx, client.ListOptions{LabelSelector: "job-name=ok"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 4 {
		t.Errorf("%d pods ran for 4 completions, want 4", len(pods.Items))
	}
}

func TestIndexedJob(t *testing.T) {
	cs, _ := setup(t, HollowOptions{})
	StartCM(t, cs, CMOptions{})
	ctx := context.Background()
	j := newJob("indexed", "Succeeded", 6, 3)
	j.Spec.Parallelism = ptr.To(int32(2))
	j.Spec.CompletionMode = ptr.To("Indexed")
	if _, err := cs.Jobs("default").Create(ctx, j); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "indexed job complete", func(ctx context.Context) (bool, error) {
		j, err := cs.Jobs("default").Get(ctx, "indexed")
		return err == nil && jobCondition(j, "Complete") != nil, err
	})
	got, err := cs.Jobs("default").Get(ctx, "indexed")
	if err != nil {
		t.Fatal(err)
	}
	if ci := got.GetStatus().GetCompletedIndexes(); ci != "0-2" {
		t.Errorf("completedIndexes = %q, want 0-2", ci)
	}
	pods, err := cs.Pods("default").List(ctx, client.ListOptions{LabelSelector: "job-name=indexed"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range pods.Items {
		seen[p.GetMetadata().GetLabels()["batch.kubernetes.io/job-completion-index"]] = true
	}
	if !seen["0"] || !seen["1"] || !seen["2"] {
		t.Errorf("pods' indexes %v, want 0, 1 and 2", seen)
	}
}

// TestJobFailuresSurviveRestarts restarts the controller-manager while a
// job's pods fail one after another: every failure is counted exactly
// once, and exactly backoffLimit+1 pods run.
func TestJobFailuresSurviveRestarts(t *testing.T) {
	cs, _ := setup(t, HollowOptions{})
	ctx := context.Background()
	const limit = 3
	if _, err := cs.Jobs("default").Create(ctx, newJob("flaky", "Failed", limit, 1)); err != nil {
		t.Fatal(err)
	}
	// Stop each controller-manager soon after it has made progress (a new
	// pod, or a failure counted), so that restarts land mid-flight.
	progress := func() string {
		j, err := cs.Jobs("default").Get(ctx, "flaky")
		if err != nil {
			t.Fatal(err)
		}
		pods, err := cs.Pods("default").List(ctx, client.ListOptions{LabelSelector: "job-name=flaky"})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%d/%d/%d/%v", len(pods.Items), j.GetStatus().GetFailed(), len(j.GetStatus().GetUncountedTerminatedPods().GetFailed()),
			jobCondition(j, "Failed") != nil)
	}
	for i := 0; ; i++ {
		before := progress()
		if strings.HasSuffix(before, "true") {
			t.Logf("failed after %d restarts", i)
			break
		}
		if i > 40 {
			t.Fatalf("job not failed after %d restarts: %s", i, before)
		}
		cm := StartCM(t, cs, CMOptions{})
		deadline := time.Now().Add(10 * time.Second)
		for progress() == before && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		cm.Stop()
	}
	StartCM(t, cs, CMOptions{})
	var job *batchv1.Job
	waitFor(t, 30*time.Second, "uncounted pods settled", func(ctx context.Context) (bool, error) {
		j, err := cs.Jobs("default").Get(ctx, "flaky")
		job = j
		u := j.GetStatus().GetUncountedTerminatedPods()
		return err == nil && len(u.GetFailed())+len(u.GetSucceeded()) == 0, err
	})
	if c := jobCondition(job, "Failed"); c.GetReason() != "BackoffLimitExceeded" {
		t.Errorf("reason %q, want BackoffLimitExceeded", c.GetReason())
	}
	pods, err := cs.Pods("default").List(ctx, client.ListOptions{LabelSelector: "job-name=flaky"})
	if err != nil {
		t.Fatal(err)
	}
	if f := job.GetStatus().GetFailed(); f != limit+1 || len(pods.Items) != limit+1 {
		t.Errorf("status.failed = %d with %d pods, want %d and %d", f, len(pods.Items), limit+1, limit+1)
	}
}

func TestJobDeadlineAndTTL(t *testing.T) {
	cs, _ := setup(t, HollowOptions{})
	StartCM(t, cs, CMOptions{})
	ctx := context.Background()
	// Runs forever, but only for a second.
	slow := newJob("slow", "", 6, 1)
	slow.Spec.ActiveDeadlineSeconds = ptr.To(int64(1))
	// Finishes, then goes a second later, pods and all.
	done := newJob("done", "Succeeded", 6, 1)
	done.Spec.TtlSecondsAfterFinished = ptr.To(int32(1))
	for _, j := range []*batchv1.Job{slow, done} {
		if _, err := cs.Jobs("default").Create(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "slow job past its deadline", func(ctx context.Context) (bool, error) {
		j, err := cs.Jobs("default").Get(ctx, "slow")
		c := jobCondition(j, "Failed")
		return err == nil && c != nil && c.GetReason() == "DeadlineExceeded", err
	})
	waitFor(t, 30*time.Second, "slow job's pod deleted", func(ctx context.Context) (bool, error) {
		pods, err := livePods(ctx, cs, "default", "job-name=slow")
		return err == nil && len(pods) == 0, err
	})
	waitFor(t, 30*time.Second, "finished job and its pods deleted after the TTL", func(ctx context.Context) (bool, error) {
		_, err := cs.Jobs("default").Get(ctx, "done")
		if !client.IsNotFound(err) {
			return false, nil
		}
		pods, err := cs.Pods("default").List(ctx, client.ListOptions{LabelSelector: "job-name=done"})
		return err == nil && len(pods.Items) == 0, err
	})
}
