package schedtest

import (
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// PodWrapper builds a pod.
type PodWrapper struct{ p *corev1.Pod }

// MakePod starts a pod named name in "default", with uid name's and
// schedulerName default-scheduler.
func MakePod(name string) *PodWrapper {
	return &PodWrapper{p: &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default", Uid: "uid-" + name},
		Spec: &corev1.PodSpec{
			SchedulerName: "default-scheduler",
			Containers:    []*corev1.Container{{Name: "c", Image: "pause"}},
		},
		Status: &corev1.PodStatus{},
	}}
}

// Obj returns the pod.
func (w *PodWrapper) Obj() *corev1.Pod { return w.p }

// Namespace sets the namespace.
func (w *PodWrapper) Namespace(ns string) *PodWrapper { w.p.Metadata.Namespace = ns; return w }

// UID sets the uid.
func (w *PodWrapper) UID(uid string) *PodWrapper { w.p.Metadata.Uid = uid; return w }

// Req sets the first container's CPU and memory requests ("" leaves one
// out).
func (w *PodWrapper) Req(cpu, mem string) *PodWrapper {
	r := map[string]*metav1.Quantity{}
	if cpu != "" {
		r["cpu"] = &metav1.Quantity{Value: cpu}
	}
	if mem != "" {
		r["memory"] = &metav1.Quantity{Value: mem}
	}
	w.p.Spec.Containers[0].Resources = &corev1.ResourceRequirements{Requests: r}
	return w
}

// Node sets spec.nodeName.
func (w *PodWrapper) Node(n string) *PodWrapper { w.p.Spec.NodeName = n; return w }

// SchedulerName sets spec.schedulerName.
func (w *PodWrapper) SchedulerName(n string) *PodWrapper { w.p.Spec.SchedulerName = n; return w }

// Priority sets spec.priority.
func (w *PodWrapper) Priority(p int32) *PodWrapper { w.p.Spec.Priority = &p; return w }

// Labels sets labels.
func (w *PodWrapper) Labels(l map[string]string) *PodWrapper { w.p.Metadata.Labels = l; return w }

// NodeSelector sets spec.nodeSelector.
func (w *PodWrapper) NodeSelector(s map[string]string) *PodWrapper {
	w.p.Spec.NodeSelector = s
	return w
}

// Toleration adds a toleration.
func (w *PodWrapper) Toleration(key, op, value, effect string) *PodWrapper {
	w.p.Spec.Tolerations = append(w.p.Spec.Tolerations, &corev1.Toleration{Key: key, Operator: op, Value: value, Effect: effect})
	return w
}

// RequiredNodeAffinity adds a required term of one expression.
func (w *PodWrapper) RequiredNodeAffinity(key, op string, values ...string) *PodWrapper {
	na := w.nodeAffinity()
	if na.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		na.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{}
	}
	na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = append(na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms,
		&corev1.NodeSelectorTerm{MatchExpressions: []*corev1.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}})
	return w
}

// PreferredNodeAffinity adds a preferred term of one expression.
func (w *PodWrapper) PreferredNodeAffinity(weight int32, key, op string, values ...string) *PodWrapper {
	na := w.nodeAffinity()
	na.PreferredDuringSchedulingIgnoredDuringExecution = append(na.PreferredDuringSchedulingIgnoredDuringExecution,
		&corev1.PreferredSchedulingTerm{Weight: weight, Preference: &corev1.NodeSelectorTerm{
			MatchExpressions: []*corev1.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}})
	return w
}

func (w *PodWrapper) nodeAffinity() *corev1.NodeAffinity {
	if w.p.Spec.Affinity == nil {
		w.p.Spec.Affinity = &corev1.Affinity{}
	}
	if w.p.Spec.Affinity.NodeAffinity == nil {
		w.p.Spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	return w.p.Spec.Affinity.NodeAffinity
}

// Owner sets a controller owner reference with uid.
func (w *PodWrapper) Owner(uid string) *PodWrapper {
	t := true
	w.p.Metadata.OwnerReferences = []*metav1.OwnerReference{{ApiVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", Uid: uid, Controller: &t}}
	return w
}

// SpreadHostname adds a DoNotSchedule hostname spread constraint over pods
// with labels.
func (w *PodWrapper) SpreadHostname(maxSkew int32, labels map[string]string) *PodWrapper {
	w.p.Spec.TopologySpreadConstraints = append(w.p.Spec.TopologySpreadConstraints, &corev1.TopologySpreadConstraint{
		MaxSkew: maxSkew, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: "DoNotSchedule",
		LabelSelector: &metav1.LabelSelector{MatchLabels: labels},
	})
	return w
}

// NodeWrapper builds a node.
type NodeWrapper struct{ n *corev1.Node }

// MakeNode starts a node named name, labelled kubernetes.io/hostname.
func MakeNode(name string) *NodeWrapper {
	return &NodeWrapper{n: &corev1.Node{
		Metadata: &metav1.ObjectMeta{Name: name, Uid: "uid-" + name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Spec:     &corev1.NodeSpec{},
		Status:   &corev1.NodeStatus{},
	}}
}

// Obj returns the node.
func (w *NodeWrapper) Obj() *corev1.Node { return w.n }

// Capacity sets capacity and allocatable.
func (w *NodeWrapper) Capacity(cpu, mem, pods string) *NodeWrapper {
	r := func() map[string]*metav1.Quantity {
		return map[string]*metav1.Quantity{"cpu": {Value: cpu}, "memory": {Value: mem}, "pods": {Value: pods}}
	}
	w.n.Status.Capacity = r()
	w.n.Status.Allocatable = r()
	return w
}

// Label adds a label.
func (w *NodeWrapper) Label(k, v string) *NodeWrapper { w.n.Metadata.Labels[k] = v; return w }

// Taint adds a taint.
func (w *NodeWrapper) Taint(key, value, effect string) *NodeWrapper {
	w.n.Spec.Taints = append(w.n.Spec.Taints, &corev1.Taint{Key: key, Value: value, Effect: effect})
	return w
}

// Unschedulable cordons the node.
func (w *NodeWrapper) Unschedulable() *NodeWrapper { w.n.Spec.Unschedulable = true; return w }
