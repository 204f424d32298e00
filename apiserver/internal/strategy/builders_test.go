package strategy

import (
	"google.golang.org/protobuf/proto"
	"k8s.io/utils/ptr"

	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// Builders for fixtures, in the style of kube-scheduler's testing wrappers:
// makePod().Container(makeContainer("web", "nginx").Obj()).Obj().

type containerWrapper struct{ c *corev1.Container }

func makeContainer(name, image string) *containerWrapper {
	return &containerWrapper{&corev1.Container{Name: name, Image: image}}
}

func (w *containerWrapper) Port(port int32) *containerWrapper {
	w.c.Ports = append(w.c.Ports, &corev1.ContainerPort{ContainerPort: port})
	return w
}

func quantities(kv ...string) map[string]*metav1.Quantity {
	m := map[string]*metav1.Quantity{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = &metav1.Quantity{Value: kv[i+1]}
	}
	return m
}

// Limits sets limits from name, value pairs.
func (w *containerWrapper) Limits(kv ...string) *containerWrapper {
	if w.c.Resources == nil {
		w.c.Resources = &corev1.ResourceRequirements{}
	}
	w.c.Resources.Limits = quantities(kv...)
	return w
}

// Requests sets requests from name, value pairs.
func (w *containerWrapper) Requests(kv ...string) *containerWrapper {
	if w.c.Resources == nil {
		w.c.Resources = &corev1.ResourceRequirements{}
	}
	w.c.Resources.Requests = quantities(kv...)
	return w
}

func (w *containerWrapper) Liveness(p *corev1.Probe) *containerWrapper {
	w.c.LivenessProbe = p
	return w
}

func (w *containerWrapper) Obj() *corev1.Container { return w.c }

type podWrapper struct{ p *corev1.Pod }

// makePod returns a pod "web" in "default" with no containers.
func makePod() *podWrapper {
	return &podWrapper{&corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Uid: "pod-uid"},
		Spec:     &corev1.PodSpec{},
	}}
}

func (w *podWrapper) Container(c *corev1.Container) *podWrapper {
	w.p.Spec.Containers = append(w.p.Spec.Containers, c)
	return w
}

func (w *podWrapper) InitContainer(c *corev1.Container) *podWrapper {
	w.p.Spec.InitContainers = append(w.p.Spec.InitContainers, c)
	return w
}

func (w *podWrapper) Node(name string) *podWrapper {
	w.p.Spec.NodeName = name
	return w
}

func (w *podWrapper) Phase(phase string) *podWrapper {
	if w.p.Status == nil {
		w.p.Status = &corev1.PodStatus{}
	}
	w.p.Status.Phase = phase
	return w
}

func (w *podWrapper) RestartPolicy(p string) *podWrapper {
	w.p.Spec.RestartPolicy = p
	return w
}

func (w *podWrapper) NodeSelector(kv ...string) *podWrapper {
	w.p.Spec.NodeSelector = map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		w.p.Spec.NodeSelector[kv[i]] = kv[i+1]
	}
	return w
}

func (w *podWrapper) Grace(seconds int64) *podWrapper {
	w.p.Spec.TerminationGracePeriodSeconds = ptr.To(seconds)
	return w
}

func (w *podWrapper) Toleration(t *corev1.Toleration) *podWrapper {
	w.p.Spec.Tolerations = append(w.p.Spec.Tolerations, t)
	return w
}

func (w *podWrapper) Obj() *corev1.Pod { return w.p }

// simplePod is a valid pod with one nginx container.
func simplePod() *podWrapper {
	return makePod().Container(makeContainer("web", "nginx:1.27").Obj())
}

// template returns a pod template with the given labels and one container.
func template(labels map[string]string, restartPolicy string) *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		Metadata: &metav1.ObjectMeta{Labels: labels},
		Spec: &corev1.PodSpec{
			RestartPolicy: restartPolicy,
			Containers:    []*corev1.Container{makeContainer("web", "nginx:1.27").Obj()},
		},
	}
}

func matchLabels(kv ...string) *metav1.LabelSelector {
	s := &metav1.LabelSelector{MatchLabels: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		s.MatchLabels[kv[i]] = kv[i+1]
	}
	return s
}

var appWeb = map[string]string{"app": "web"}

func makeDeployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Uid: "deploy-uid"},
		Spec: &appsv1.DeploymentSpec{
			Selector: matchLabels("app", "web"),
			Template: template(appWeb, ""),
		},
	}
}

func makeReplicaSet() *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Uid: "rs-uid"},
		Spec: &appsv1.ReplicaSetSpec{
			Selector: matchLabels("app", "web"),
			Template: template(appWeb, ""),
		},
	}
}

func makeJob() *batchv1.Job {
	return &batchv1.Job{
		Metadata: &metav1.ObjectMeta{Name: "pi", Namespace: "default", Uid: "job-uid"},
		Spec:     &batchv1.JobSpec{Template: template(nil, "Never")},
	}
}

func makeCronJob() *batchv1.CronJob {
	return &batchv1.CronJob{
		Metadata: &metav1.ObjectMeta{Name: "hello", Namespace: "default", Uid: "cj-uid"},
		Spec: &batchv1.CronJobSpec{
			Schedule:    "*/5 * * * *",
			JobTemplate: &batchv1.JobTemplateSpec{Spec: &batchv1.JobSpec{Template: template(nil, "OnFailure")}},
		},
	}
}

func makeService() *corev1.Service {
	return &corev1.Service{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: &corev1.ServiceSpec{
			Selector: appWeb,
			Ports:    []*corev1.ServicePort{{Port: 80}},
		},
	}
}

func intStr(i int32) *metav1.IntOrString {
	return &metav1.IntOrString{Value: &metav1.IntOrString_IntVal{IntVal: i}}
}

// clone copies a fixture so that a table can change it.
func clone[T proto.Message](m T) T { return proto.Clone(m).(T) }
