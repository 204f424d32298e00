package controller

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/client/scheme"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// PodFromTemplate makes a pod of template for owner: generated name
// "<prefix>", the template's labels, annotations and finalizers, and a
// controller reference to owner.
func PodFromTemplate(template *corev1.PodTemplateSpec, namespace, generateName string, ref *metav1.OwnerReference) *corev1.Pod {
	tm := template.GetMetadata()
	pod := &corev1.Pod{
		Metadata: &metav1.ObjectMeta{
			GenerateName: generateName,
			Namespace:    namespace,
			Labels:       maps.Clone(tm.GetLabels()),
			Annotations:  maps.Clone(tm.GetAnnotations()),
			Finalizers:   append([]string(nil), tm.GetFinalizers()...),
		},
		Spec: proto.Clone(template.GetSpec()).(*corev1.PodSpec),
	}
	if pod.Spec == nil {
		pod.Spec = &corev1.PodSpec{}
	}
	if ref != nil {
		pod.Metadata.OwnerReferences = []*metav1.OwnerReference{ref}
	}
	return pod
}

// SlowStartBatch calls fn count times, in batches that start at
// initialBatchSize and double while every call of a batch succeeds (as
// Kubernetes creates pods, so that a failing create, a quota or a
// terminating namespace, costs one call rather than hundreds). It returns
// how many calls succeeded and the first error.
func SlowStartBatch(count, initialBatchSize int, fn func() error) (int, error) {
	remaining := count
	successes := 0
	for batch := min(remaining, initialBatchSize); batch > 0; batch = min(2*batch, remaining) {
		errCh := make(chan error, batch)
		var wg sync.WaitGroup
		for range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := fn(); err != nil {
					errCh <- err
				}
			}()
		}
		wg.Wait()
		successes += batch - len(errCh)
		if len(errCh) > 0 {
			return successes, <-errCh
		}
		remaining -= batch
	}
	return successes, nil
}

// PodControl creates and deletes pods for an owner and records events
// about it (SuccessfulCreate, FailedCreate, SuccessfulDelete,
// FailedDelete).
type PodControl struct {
	Client   *client.Clientset
	Recorder record.EventRecorder
}

// CreatePod creates pod on behalf of owner.
func (pc PodControl) CreatePod(ctx context.Context, pod *corev1.Pod, owner scheme.Object) (*corev1.Pod, error) {
	created, err := pc.Client.Pods(pod.GetMetadata().GetNamespace()).Create(ctx, pod)
	if err != nil {
		if !client.IsFailedPrecondition(err) { // not a terminating namespace
			pc.Recorder.Eventf(owner, record.Warning, "FailedCreate", "Error creating: %v", err)
		}
		return nil, fmt.Errorf("create pod for %s: %w", owner.GetMetadata().GetName(), err)
	}
	pc.Recorder.Eventf(owner, record.Normal, "SuccessfulCreate", "Created pod: %s", created.GetMetadata().GetName())
	return created, nil
}

// DeletePod deletes pod (gracefully, with its uid as precondition) on
// behalf of owner. A pod already gone is not an error.
func (pc PodControl) DeletePod(ctx context.Context, pod *corev1.Pod, owner scheme.Object) error {
	m := pod.GetMetadata()
	err := pc.Client.Pods(m.GetNamespace()).Delete(ctx, m.GetName(), client.DeleteOptions{Preconditions: &client.Preconditions{UID: m.GetUid()}})
	if client.IsNotFound(err) {
		return nil
	}
	if err != nil {
		pc.Recorder.Eventf(owner, record.Warning, "FailedDelete", "Error deleting: %v", err)
		return fmt.Errorf("delete pod %s/%s: %w", m.GetNamespace(), m.GetName(), err)
	}
	pc.Recorder.Eventf(owner, record.Normal, "SuccessfulDelete", "Deleted pod: %s", m.GetName())
	return nil
}

// SortPodsForDeletion orders pods so that the least useful come first
// (Kubernetes' ActivePods ordering): unassigned before assigned; Pending,
// then Unknown, then Running; not ready before ready; ready for less time
// before more; more restarts before fewer; newer before older.
func SortPodsForDeletion(pods []*corev1.Pod) {
	sort.SliceStable(pods, func(i, j int) bool { return lessUseful(pods[i], pods[j]) })
}

func lessUseful(a, b *corev1.Pod) bool {
	an, bn := a.GetSpec().GetNodeName() != "", b.GetSpec().GetNodeName() != ""
	if an != bn {
		return !an
	}
	phaseRank := map[string]int{"Pending": 0, "Unknown": 1, "Running": 2}
	if ra, rb := phaseRank[a.GetStatus().GetPhase()], phaseRank[b.GetStatus().GetPhase()]; ra != rb {
		return ra < rb
	}
	ar, br := IsPodReady(a), IsPodReady(b)
	if ar != br {
		return !ar
	}
	if ar && br {
		at, bt := PodReadyCondition(a).GetLastTransitionTime(), PodReadyCondition(b).GetLastTransitionTime()
		if at != nil && bt != nil && !at.AsTime().Equal(bt.AsTime()) {
			return at.AsTime().After(bt.AsTime())
		}
	}
	if ra, rb := restarts(a), restarts(b); ra != rb {
		return ra > rb
	}
	ac, bc := a.GetMetadata().GetCreationTimestamp(), b.GetMetadata().GetCreationTimestamp()
	if ac != nil && bc != nil && !ac.AsTime().Equal(bc.AsTime()) {
		return ac.AsTime().After(bc.AsTime())
	}
	return a.GetMetadata().GetName() > b.GetMetadata().GetName()
}

func restarts(p *corev1.Pod) int32 {
	var n int32
	for _, c := range p.GetStatus().GetContainerStatuses() {
		n = max(n, c.GetRestartCount())
	}
	return n
}
