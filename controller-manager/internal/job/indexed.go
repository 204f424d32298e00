package job

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gantryhq/gantry/client/workqueue"
	"github.com/gantryhq/gantry/controller-manager/internal/controller"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// IndexAnnotation (and label) holds an Indexed job pod's completion index.
const IndexAnnotation = "batch.kubernetes.io/job-completion-index"

// IndexEnv is the environment variable that carries the index into the
// pod's containers.
const IndexEnv = "JOB_COMPLETION_INDEX"

func indexed(spec interface{ GetCompletionMode() string }) bool {
	return spec.GetCompletionMode() == "Indexed"
}

// podIndex is a pod's completion index, if it has a valid one.
func podIndex(p *corev1.Pod) (int, bool) {
	v, ok := p.GetMetadata().GetAnnotations()[IndexAnnotation]
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(v)
	return i, err == nil && i >= 0
}

// ParseIndexes reads a completedIndexes string ("1,3-5,7").
func ParseIndexes(s string) map[int]bool {
	out := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for i := a; i <= b; i++ {
			out[i] = true
		}
	}
	return out
}

// FormatIndexes writes a set of indexes as Kubernetes does: sorted, with
// runs as ranges ("1,3-5,7").
func FormatIndexes(set map[int]bool) string {
	idx := make([]int, 0, len(set))
	for i := range set {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var b strings.Builder
	for k := 0; k < len(idx); {
		j := k
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if j == k {
			fmt.Fprintf(&b, "%d", idx[k])
		} else {
			fmt.Fprintf(&b, "%d-%d", idx[k], idx[j])
		}
		k = j + 1
	}
	return b.String()
}

// manageIndexed runs one pod per index not yet completed, at most
// parallelism at once, lowest indexes first; it deletes pods of completed
// indexes and duplicates.
func (s *syncer) manageIndexed(ctx context.Context, active []*corev1.Pod, completed map[int]bool, failed int32, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	c, job, spec := s.c, s.job, s.job.GetSpec()
	completions := int(spec.GetCompletions())
	parallelism := 1
	if spec.Parallelism != nil {
		parallelism = int(*spec.Parallelism)
	}
	if spec.GetSuspend() {
		parallelism = 0
	}
	var keep, extra []*corev1.Pod
	running := map[int]bool{}
	for _, p := range active {
		i, ok := podIndex(p)
		if !ok || i >= completions || completed[i] || running[i] {
			extra = append(extra, p)
			continue
		}
		running[i] = true
		keep = append(keep, p)
	}
	// Too many running: the highest indexes go.
	if len(keep) > parallelism {
		sort.Slice(keep, func(a, b int) bool { x, _ := podIndex(keep[a]); y, _ := podIndex(keep[b]); return x < y })
		extra = append(extra, keep[parallelism:]...)
		keep = keep[:parallelism]
	}
	if len(extra) > 0 {
		keys := make([]string, len(extra))
		for i, p := range extra {
			keys[i] = workqueue.KeyOf(p)
		}
		c.exp.ExpectDeletions(s.key, keys)
		var errs []error
		for _, p := range extra {
			if err := c.pods.DeletePod(ctx, p, job); err != nil {
				c.exp.DeletionObserved(s.key, workqueue.KeyOf(p))
				errs = append(errs, err)
			}
		}
		return keep, errors.Join(errs...)
	}
	var missing []int
	for i := 0; i < completions && len(keep)+len(missing) < parallelism; i++ {
		if !completed[i] && !running[i] {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return keep, nil
	}
	if wait := s.backoffRemaining(failed, pods); wait > 0 {
		c.queue.AddAfter(s.key, wait)
		return keep, nil
	}
	missing = missing[:min(len(missing), maxPodCreateDeletions)]
	c.exp.ExpectCreations(s.key, len(missing))
	ref := controller.NewControllerRef(job)
	m := job.GetMetadata()
	var mu sync.Mutex
	next := 0
	created, err := controller.SlowStartBatch(len(missing), 1, func() error {
		mu.Lock()
		i := missing[next]
		next++
		mu.Unlock()
		idx := strconv.Itoa(i)
		pod := controller.PodFromTemplate(spec.GetTemplate(), m.GetNamespace(), m.GetName()+"-"+idx+"-", ref)
		pod.Metadata.Finalizers = append(pod.Metadata.Finalizers, TrackingFinalizer)
		if pod.Metadata.Annotations == nil {
			pod.Metadata.Annotations = map[string]string{}
		}
		if pod.Metadata.Labels == nil {
			pod.Metadata.Labels = map[string]string{}
		}
		pod.Metadata.Annotations[IndexAnnotation] = idx
		pod.Metadata.Labels[IndexAnnotation] = idx
		if pod.Spec.Hostname == "" {
			pod.Spec.Hostname = m.GetName() + "-" + idx
		}
		env := &corev1.EnvVar{Name: IndexEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
			ApiVersion: "v1", FieldPath: "metadata.annotations['" + IndexAnnotation + "']"}}}
		for _, ctr := range append(append([]*corev1.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...) {
			ctr.Env = append(ctr.Env, env)
		}
		p, err := c.pods.CreatePod(ctx, pod, job)
		if err == nil {
			mu.Lock()
			keep = append(keep, p)
			mu.Unlock()
		}
		return err
	})
	for range len(missing) - created {
		c.exp.CreationObserved(s.key)
	}
	return keep, err
}
