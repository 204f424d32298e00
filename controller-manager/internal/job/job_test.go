package job_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/controller-manager/internal/controllertest"
	"github.com/gantryhq/gantry/controller-manager/internal/job"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

var (
	lbl   = map[string]string{"job-name": "j"}
	epoch = controllertest.Epoch
)

func pod(name, phase string, finished time.Time) *corev1.Pod {
	b := controllertest.Pod(name, lbl).Owner("Job", "j").Node("n1").Phase(phase).Finalizers(job.TrackingFinalizer)
	p := b.Obj()
	if !finished.IsZero() {
		p.Status.ContainerStatuses = []*corev1.ContainerStatus{{Name: "c", State: &corev1.ContainerState{
			Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: timestamppb.New(finished)}}}}
	}
	return p
}

func with(j *batchv1.Job, f func(*batchv1.Job)) *batchv1.Job { f(j); return j }

func TestSync(t *testing.T) {
	tests := []struct {
		name       string
		objs       []scheme.Object
		wantWrites []string
		// want status fields
		wantActive, wantSucceeded, wantFailed int32
		wantCond                              string // "Type/Reason" of the finishing condition, or ""
		wantJobGone                           bool
	}{
		{
			name:       "starts parallelism pods",
			objs:       []scheme.Object{controllertest.Job("j", 2, 3)},
			wantWrites: []string{"create pods default/j-", "create pods default/j-", "updatestatus jobs default/j"},
			wantActive: 2,
		},
		{
			name: "a succeeded pod is recorded, released, then counted",
			objs: []scheme.Object{controllertest.Job("j", 2, 2),
				pod("ok", "Succeeded", time.Time{}), pod("run", "Running", time.Time{})},
			wantWrites:    []string{"update pods default/ok", "updatestatus jobs default/j", "updatestatus jobs default/j", "updatestatus jobs default/j"},
			wantActive:    1,
			wantSucceeded: 1,
		},
		{
			name: "more failures than backoffLimit fail the job",
			objs: []scheme.Object{with(controllertest.Job("j", 1, 1), func(j *batchv1.Job) { j.Spec.BackoffLimit = ptr.To(int32(1)) }),
				pod("f1", "Failed", epoch.Add(-time.Minute)), pod("f2", "Failed", epoch.Add(-time.Second))},
			wantWrites: []string{"update pods default/f1", "update pods default/f2",
				"updatestatus jobs default/j", "updatestatus jobs default/j", "updatestatus jobs default/j"},
			wantFailed: 2,
			wantCond:   "Failed/BackoffLimitExceeded",
		},
		{
			name:       "a failed pod is not replaced before its back-off",
			objs:       []scheme.Object{controllertest.Job("j", 1, 1), pod("f1", "Failed", epoch.Add(-5*time.Second))},
			wantWrites: []string{"update pods default/f1", "updatestatus jobs default/j", "updatestatus jobs default/j", "updatestatus jobs default/j"},
			wantFailed: 1,
		},
		{
			name: "a failed pod is replaced after its back-off",
			objs: []scheme.Object{controllertest.Job("j", 1, 1), pod("f1", "Failed", epoch.Add(-11*time.Second))},
			wantWrites: []string{"create pods default/j-", "update pods default/f1",
				"updatestatus jobs default/j", "updatestatus jobs default/j", "updatestatus jobs default/j"},
			wantActive: 1,
			wantFailed: 1,
		},
		{
			name: "the back-off doubles per failure",
			objs: []scheme.Object{
				with(controllertest.Job("j", 1, 1), func(j *batchv1.Job) { j.Status = &batchv1.JobStatus{Failed: 2} }),
				pod("f3", "Failed", epoch.Add(-30*time.Second))},
			// 3 failures: 40 s
			wantWrites: []string{"update pods default/f3", "updatestatus jobs default/j", "updatestatus jobs default/j", "updatestatus jobs default/j"},
			wantFailed: 3,
		},
		{
			name: "activeDeadlineSeconds passed: active pods deleted, job failed",
			objs: []scheme.Object{
				with(controllertest.Job("j", 1, 1), func(j *batchv1.Job) {
					j.Spec.ActiveDeadlineSeconds = ptr.To(int64(60))
					j.Status = &batchv1.JobStatus{StartTime: timestamppb.New(epoch.Add(-2 * time.Minute)), Active: 1}
				}),
				pod("run", "Running", time.Time{})},
			wantWrites: []string{"delete pods default/run", "updatestatus jobs default/j"},
			wantCond:   "Failed/DeadlineExceeded",
		},
		{
			name: "counts survive a restart: uncounted uids whose finalizer is gone are counted",
			objs: []scheme.Object{
				with(controllertest.Job("j", 1, 3), func(j *batchv1.Job) {
					j.Status = &batchv1.JobStatus{StartTime: timestamppb.New(epoch), Failed: 1,
						UncountedTerminatedPods: &batchv1.UncountedTerminatedPods{Failed: []string{"uid-gone"}, Succeeded: []string{"uid-ok"}}}
				}),
				func() *corev1.Pod { p := pod("ok", "Succeeded", time.Time{}); p.Metadata.Finalizers = nil; return p }(),
			},
			// 1 of 3 done, so the next pod starts (its failed pods are
			// gone, so there is no back-off to wait out)
			wantWrites:    []string{"create pods default/j-", "updatestatus jobs default/j", "updatestatus jobs default/j"},
			wantActive:    1,
			wantSucceeded: 1,
			wantFailed:    2,
		},
		{
			name: "completions reached: Complete",
			objs: []scheme.Object{
				with(controllertest.Job("j", 1, 2), func(j *batchv1.Job) { j.Status = &batchv1.JobStatus{StartTime: timestamppb.New(epoch), Succeeded: 1} }),
				pod("ok", "Succeeded", time.Time{})},
			wantWrites:    []string{"update pods default/ok", "updatestatus jobs default/j", "updatestatus jobs default/j", "updatestatus jobs default/j"},
			wantSucceeded: 2,
			wantCond:      "Complete/CompletionsReached",
		},
		{
			name: "ttlSecondsAfterFinished passed: job deleted",
			objs: []scheme.Object{with(controllertest.Job("j", 1, 1), func(j *batchv1.Job) {
				j.Spec.TtlSecondsAfterFinished = ptr.To(int32(10))
				j.Status = &batchv1.JobStatus{Succeeded: 1, CompletionTime: timestamppb.New(epoch.Add(-time.Minute)),
					Conditions: []*batchv1.JobCondition{{Type: "Complete", Status: "True"}}}
			})},
			wantWrites:  []string{"delete jobs default/j Foreground"},
			wantJobGone: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := controllertest.New(t, tt.objs...)
			c := job.New(h.Ctx, job.Options{BackoffBase: 10 * time.Second, BackoffMax: 6 * time.Minute})
			h.Start()
			if err := c.Sync(context.Background(), "default/j"); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantWrites, h.Writes()); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
			o := h.Server.Object("jobs", "default", "j")
			if tt.wantJobGone {
				if o != nil {
					j := o.(*batchv1.Job)
					if j.Metadata.DeletionTimestamp == nil {
						t.Errorf("job not deleted")
					}
				}
				return
			}
			j := o.(*batchv1.Job)
			st := j.GetStatus()
			if st.GetActive() != tt.wantActive || st.GetSucceeded() != tt.wantSucceeded || st.GetFailed() != tt.wantFailed {
				t.Errorf("active/succeeded/failed = %d/%d/%d, want %d/%d/%d", st.GetActive(), st.GetSucceeded(), st.GetFailed(),
					tt.wantActive, tt.wantSucceeded, tt.wantFailed)
			}
			if u := st.GetUncountedTerminatedPods(); len(u.GetFailed())+len(u.GetSucceeded()) != 0 {
				t.Errorf("uncounted left: %v", u)
			}
			var got string
			if f := job.Finished(j); f != nil {
				got = f.Type + "/" + f.Reason
			}
			if got != tt.wantCond {
				t.Errorf("finished = %q, want %q", got, tt.wantCond)
			}
			for _, p := range h.Server.Objects("pods") {
				if ph := p.(*corev1.Pod).GetStatus().GetPhase(); (ph == "Failed" || ph == "Succeeded") && hasString(p.GetMetadata().GetFinalizers(), job.TrackingFinalizer) {
					t.Errorf("finished pod %s still holds the tracking finalizer", p.GetMetadata().GetName())
				}
			}
		})
	}
}

func TestCreatedPodsCarryTrackingFinalizer(t *testing.T) {
	h := controllertest.New(t, controllertest.Job("j", 1, 1))
	c := job.New(h.Ctx, job.Options{})
	h.Start()
	if err := c.Sync(context.Background(), "default/j"); err != nil {
		t.Fatal(err)
	}
	pods := h.Server.Objects("pods")
	if len(pods) != 1 {
		t.Fatalf("%d pods, want 1", len(pods))
	}
	m := pods[0].GetMetadata()
	if !hasString(m.GetFinalizers(), job.TrackingFinalizer) || !strings.HasPrefix(m.GetName(), "j-") {
		t.Errorf("pod %s finalizers %v", m.GetName(), m.GetFinalizers())
	}
}

func hasString(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
