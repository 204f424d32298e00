package controllers

import (
	"context"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
	"github.com/gantryhq/gantry/test/integration/framework"
)

// setup starts an apiserver and hollow nodes.
func setup(t *testing.T, ho HollowOptions) (*client.Clientset, *Hollow) {
	t.Helper()
	s := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, s)
	h, err := StartHollow(context.Background(), cs, ho)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Stop)
	return cs, h
}

// waitFor polls cond every 50 ms until it holds, failing the test after
// timeout with what and cond's last error.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var lastErr error
	for {
		ok, err := cond(ctx)
		if ok {
			return
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %v waiting for %s (last error: %v)", timeout, what, lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func template(app, image string) *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Image: image}}},
	}
}

func newDeployment(name string, replicas int32, image string) *appsv1.Deployment {
	return &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: &appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: template(name, image),
		},
	}
}

// livePods lists the pods of ns matching selector that are not being
// deleted.
func livePods(ctx context.Context, cs *client.Clientset, ns, selector string) ([]*corev1.Pod, error) {
	l, err := cs.Pods(ns).List(ctx, client.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	var out []*corev1.Pod
	for _, p := range l.Items {
		if p.GetMetadata().GetDeletionTimestamp() == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus() == "True"
		}
	}
	return false
}

// rolledOut reports whether the deployment's latest generation is fully
// rolled out.
func rolledOut(ctx context.Context, cs *client.Clientset, ns, name string) (bool, error) {
	d, err := cs.Deployments(ns).Get(ctx, name)
	if err != nil {
		return false, err
	}
	st, r := d.GetStatus(), d.GetSpec().GetReplicas()
	return st.GetObservedGeneration() >= d.GetMetadata().GetGeneration() && st.GetUpdatedReplicas() == r &&
		st.GetReplicas() == r && st.GetAvailableReplicas() == r, nil
}

// setReplicas updates a deployment's replicas, retrying conflicts.
func setReplicas(ctx context.Context, t *testing.T, cs *client.Clientset, ns, name string, n int32) {
	t.Helper()
	err := client.RetryOnConflict(ctx, func() error {
		d, err := cs.Deployments(ns).Get(ctx, name)
		if err != nil {
			return err
		}
		d.Spec.Replicas = ptr.To(n)
		_, err = cs.Deployments(ns).Update(ctx, d)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
