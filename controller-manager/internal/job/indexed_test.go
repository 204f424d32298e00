package job_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/controller-manager/internal/controllertest"
	"github.com/gantryhq/gantry/controller-manager/internal/job"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

func TestIndexes(t *testing.T) {
	for _, s := range []string{"", "0", "0-2", "1,3-5,7", "0,2,4-6"} {
		if got := job.FormatIndexes(job.ParseIndexes(s)); got != s {
			t.Errorf("round trip of %q gave %q", s, got)
		}
	}
	if got := job.FormatIndexes(map[int]bool{3: true, 1: true, 2: true, 9: true}); got != "1-3,9" {
		t.Errorf("FormatIndexes = %q", got)
	}
}

func indexedJob(parallelism, completions int32) *batchv1.Job {
	j := controllertest.Job("j", parallelism, completions)
	j.Spec.CompletionMode = ptr.To("Indexed")
	return j
}

func indexedPod(name string, index, phase string) *corev1.Pod {
	p := pod(name, phase, time.Time{})
	p.Metadata.Annotations = map[string]string{job.IndexAnnotation: index}
	return p
}

func podIndexes(h *controllertest.Harness) []string {
	var out []string
	for _, o := range h.Server.Objects("pods") {
		p := o.(*corev1.Pod)
		if p.GetStatus().GetPhase() == "Succeeded" {
			continue
		}
		out = append(out, p.GetMetadata().GetAnnotations()[job.IndexAnnotation])
	}
	sort.Strings(out)
	return out
}

func TestIndexedStartsLowestIndexes(t *testing.T) {
	h := controllertest.New(t, indexedJob(2, 3))
	c := job.New(h.Ctx, job.Options{})
	h.Start()
	if err := c.Sync(context.Background(), "default/j"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"0", "1"}, podIndexes(h)); diff != "" {
		t.Errorf("indexes (-want +got):\n%s", diff)
	}
	for _, o := range h.Server.Objects("pods") {
		p := o.(*corev1.Pod)
		i := p.GetMetadata().GetAnnotations()[job.IndexAnnotation]
		if p.GetMetadata().GetLabels()[job.IndexAnnotation] != i || p.GetSpec().GetHostname() != "j-"+i {
			t.Errorf("pod %s: labels %v hostname %q", p.GetMetadata().GetName(), p.GetMetadata().GetLabels(), p.GetSpec().GetHostname())
		}
		env := p.GetSpec().GetContainers()[0].GetEnv()
		if len(env) != 1 || env[0].GetName() != job.IndexEnv {
			t.Errorf("pod %s env %v", p.GetMetadata().GetName(), env)
		}
	}
}

func TestIndexedCountsIndexesAndCompletes(t *testing.T) {
	h := controllertest.New(t, indexedJob(2, 3), indexedPod("a", "0", "Succeeded"), indexedPod("b", "1", "Running"))
	c := job.New(h.Ctx, job.Options{})
	h.Start()
	ctx := context.Background()
	if err := c.Sync(ctx, "default/j"); err != nil {
		t.Fatal(err)
	}
	j := h.Server.Object("jobs", "default", "j").(*batchv1.Job)
	if got := j.GetStatus().GetCompletedIndexes(); got != "0" {
		t.Errorf("completedIndexes = %q, want 0", got)
	}
	// Index 0 is done and 1 runs: index 2 starts.
	if diff := cmp.Diff([]string{"1", "2"}, podIndexes(h)); diff != "" {
		t.Errorf("running indexes (-want +got):\n%s", diff)
	}

	// Every index done: Complete.
	h2 := controllertest.New(t, func() *batchv1.Job {
		j := indexedJob(2, 3)
		j.Status = &batchv1.JobStatus{CompletedIndexes: "0-1", Succeeded: 2}
		return j
	}(), indexedPod("c", "2", "Succeeded"))
	c2 := job.New(h2.Ctx, job.Options{})
	h2.Start()
	if err := c2.Sync(ctx, "default/j"); err != nil {
		t.Fatal(err)
	}
	j = h2.Server.Object("jobs", "default", "j").(*batchv1.Job)
	if f := job.Finished(j); f == nil || f.Type != "Complete" || j.GetStatus().GetCompletedIndexes() != "0-2" {
		t.Errorf("finished %v, completedIndexes %q; want Complete, 0-2", f, j.GetStatus().GetCompletedIndexes())
	}
}
