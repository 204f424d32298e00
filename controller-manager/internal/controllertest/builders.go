package controllertest

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/utils/ptr"

	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// Template is a pod template with labels and one container of image.
func Template(lbls map[string]string, image string) *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		Metadata: &metav1.ObjectMeta{Labels: lbls},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Image: image}}, RestartPolicy: "Always"},
	}
}

// ReplicaSet is a replica set in ns "default" selecting app=<app>.
func ReplicaSet(name, app string, replicas int32) *appsv1.ReplicaSet {
	l := map[string]string{"app": app}
	return &appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default", Uid: "uid-" + name, Generation: 1},
		Spec: &appsv1.ReplicaSetSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: Template(l, "img:1"),
		},
	}
}

// PodBuilder builds a pod.
type PodBuilder struct{ p *corev1.Pod }

// Pod starts a pod in ns "default" with labels.
func Pod(name string, lbls map[string]string) *PodBuilder {
	return &PodBuilder{p: &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default", Uid: "uid-" + name, Labels: lbls,
			CreationTimestamp: timestamppb.New(Epoch.Add(-time.Hour))},
		Spec:   &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Image: "img:1"}}},
		Status: &corev1.PodStatus{Phase: "Pending"},
	}}
}

// Owner sets a controller reference to owner.
func (b *PodBuilder) Owner(kind, name string) *PodBuilder {
	b.p.Metadata.OwnerReferences = append(b.p.Metadata.OwnerReferences, &metav1.OwnerReference{
		ApiVersion: apiVersion(kind), Kind: kind, Name: name, Uid: "uid-" + name, Controller: ptr.To(true)})
	return b
}

func apiVersion(kind string) string {
	switch kind {
	case "ReplicaSet", "Deployment":
		return "apps/v1"
	case "Job", "CronJob":
		return "batch/v1"
	}
	return "v1"
}

// Node binds the pod to node.
func (b *PodBuilder) Node(node string) *PodBuilder { b.p.Spec.NodeName = node; return b }

// Running marks the pod Running on its node, ready since at (zero: not
// ready).
func (b *PodBuilder) Running(readySince time.Time) *PodBuilder {
	b.p.Status.Phase = "Running"
	if b.p.Spec.NodeName == "" {
		b.p.Spec.NodeName = "node-1"
	}
	st := "False"
	if !readySince.IsZero() {
		st = "True"
	}
	b.p.Status.Conditions = []*corev1.PodCondition{{Type: "Ready", Status: st, LastTransitionTime: timestamppb.New(readySince)}}
	return b
}

// Phase sets the phase.
func (b *PodBuilder) Phase(p string) *PodBuilder { b.p.Status.Phase = p; return b }

// IP sets the pod IP.
func (b *PodBuilder) IP(ip string) *PodBuilder { b.p.Status.PodIp = ip; return b }

// Created sets the creation time.
func (b *PodBuilder) Created(t time.Time) *PodBuilder {
	b.p.Metadata.CreationTimestamp = timestamppb.New(t)
	return b
}

// Deleting marks the pod as being deleted (with a finalizer so the fake
// keeps it).
func (b *PodBuilder) Deleting() *PodBuilder {
	b.p.Metadata.DeletionTimestamp = timestamppb.New(Epoch)
	b.p.Metadata.Finalizers = append(b.p.Metadata.Finalizers, "test/keep")
	return b
}

// Finalizers adds finalizers.
func (b *PodBuilder) Finalizers(f ...string) *PodBuilder {
	b.p.Metadata.Finalizers = append(b.p.Metadata.Finalizers, f...)
	return b
}

// Obj returns the pod.
func (b *PodBuilder) Obj() *corev1.Pod { return b.p }

// Deployment is a RollingUpdate (25%/25%) deployment in ns "default"
// selecting app=<app>, running image, with Kubernetes' defaults.
func Deployment(name, app, image string, replicas int32) *appsv1.Deployment {
	l := map[string]string{"app": app}
	pct := func(s string) *metav1.IntOrString {
		return &metav1.IntOrString{Value: &metav1.IntOrString_StrVal{StrVal: s}}
	}
	return &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default", Uid: "uid-" + name, Generation: 1},
		Spec: &appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: Template(l, image),
			Strategy: &appsv1.DeploymentStrategy{Type: "RollingUpdate", RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxSurge: pct("25%"), MaxUnavailable: pct("25%")}},
			RevisionHistoryLimit:    ptr.To(int32(10)),
			ProgressDeadlineSeconds: ptr.To(int32(600)),
		},
		Status: &appsv1.DeploymentStatus{},
	}
}

// Job is a job in ns "default" whose pods are labelled job-name=<name>,
// with parallelism and completions (0: unset).
func Job(name string, parallelism, completions int32) *batchv1.Job {
	l := map[string]string{"job-name": name}
	j := &batchv1.Job{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default", Uid: "uid-" + name, Generation: 1},
		Spec: &batchv1.JobSpec{
			Parallelism:  ptr.To(parallelism),
			BackoffLimit: ptr.To(int32(6)),
			Selector:     &metav1.LabelSelector{MatchLabels: l},
			Template:     Template(l, "img:1"),
		},
	}
	j.Spec.Template.Spec.RestartPolicy = "Never"
	if completions > 0 {
		j.Spec.Completions = ptr.To(completions)
	}
	return j
}
