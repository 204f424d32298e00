package printers

import (
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gantryhq/gantry/client/scheme"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// now is the fixed clock of every golden table.
var now = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return now }

func ago(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(now.Add(-d)) }

func meta(ns, name string, age time.Duration, labels map[string]string) *metav1.ObjectMeta {
	return &metav1.ObjectMeta{Name: name, Namespace: ns, Uid: "uid-" + name, ResourceVersion: "42",
		CreationTimestamp: ago(age), Labels: labels}
}

func running(d time.Duration) *corev1.ContainerState {
	return &corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ago(d)}}
}

func waiting(reason string) *corev1.ContainerState {
	return &corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
}

func terminated(reason string, code int32) *corev1.ContainerState {
	return &corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: code,
		StartedAt: ago(10 * time.Minute), FinishedAt: ago(9 * time.Minute)}}
}

// podBuilder makes pod fixtures: makePod("web").phase("Running")...obj().
type podBuilder struct{ p *corev1.Pod }

func makePod(name string) *podBuilder {
	return &podBuilder{p: &corev1.Pod{
		Metadata: meta("default", name, 5*time.Minute, map[string]string{"app": "web"}),
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "web", Image: "nginx:1.25"}}},
		Status:   &corev1.PodStatus{Phase: "Pending"},
	}}
}

func (b *podBuilder) phase(p string) *podBuilder { b.p.Status.Phase = p; return b }
func (b *podBuilder) node(n, ip string) *podBuilder {
	b.p.Spec.NodeName, b.p.Status.PodIp = n, ip
	return b
}
func (b *podBuilder) container(ready bool, restarts int32, state *corev1.ContainerState) *podBuilder {
	b.p.Status.ContainerStatuses = append(b.p.Status.ContainerStatuses,
		&corev1.ContainerStatus{Name: "web", Ready: ready, RestartCount: restarts, State: state})
	return b
}
func (b *podBuilder) lastTerminated(d time.Duration) *podBuilder {
	cs := b.p.Status.ContainerStatuses[len(b.p.Status.ContainerStatuses)-1]
	cs.LastState = &corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: ago(d)}}
	return b
}
func (b *podBuilder) initContainer(state *corev1.ContainerState) *podBuilder {
	b.p.Spec.InitContainers = append(b.p.Spec.InitContainers, &corev1.Container{Name: "init", Image: "busybox"})
	b.p.Status.InitContainerStatuses = append(b.p.Status.InitContainerStatuses, &corev1.ContainerStatus{Name: "init", State: state})
	return b
}
func (b *podBuilder) deleting() *podBuilder {
	b.p.Metadata.DeletionTimestamp = ago(time.Second)
	return b
}
func (b *podBuilder) ns(ns string) *podBuilder { b.p.Metadata.Namespace = ns; return b }
func (b *podBuilder) obj() *corev1.Pod         { return b.p }

func pods() []scheme.Object {
	return []scheme.Object{
		makePod("web-running").phase("Running").node("node-1", "10.244.1.5").container(true, 0, running(5*time.Minute)).obj(),
		makePod("web-creating").node("node-2", "").container(false, 0, waiting("ContainerCreating")).obj(),
		makePod("web-crash").phase("Running").node("node-1", "10.244.1.6").container(false, 4, waiting("CrashLoopBackOff")).lastTerminated(2 * time.Minute).obj(),
		makePod("web-pull").node("node-1", "10.244.1.7").container(false, 0, waiting("ImagePullBackOff")).obj(),
		makePod("job-done").phase("Succeeded").node("node-2", "10.244.2.3").container(false, 0, terminated("Completed", 0)).obj(),
		makePod("web-stopping").phase("Running").node("node-2", "10.244.2.4").container(true, 0, running(time.Hour)).deleting().obj(),
		makePod("web-init").node("node-1", "").initContainer(waiting("PodInitializing")).container(false, 0, waiting("PodInitializing")).obj(),
		makePod("web-pending").obj(),
		makePod("other-ns").ns("kube-system").phase("Running").node("node-1", "10.244.1.9").container(true, 1, running(3*24*time.Hour)).obj(),
	}
}

func deployments() []scheme.Object {
	return []scheme.Object{&appsv1.Deployment{
		Metadata: meta("default", "nginx-deployment", 26*time.Hour, map[string]string{"app": "nginx"}),
		Spec: &appsv1.DeploymentSpec{Replicas: proto.Int32(3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "nginx"}},
			Template: &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "nginx"}},
				Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "nginx", Image: "nginx:1.14.2",
					Ports: []*corev1.ContainerPort{{ContainerPort: 80}}}}}},
			Strategy: &appsv1.DeploymentStrategy{Type: "RollingUpdate", RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxSurge:       &metav1.IntOrString{Value: &metav1.IntOrString_StrVal{StrVal: "25%"}},
				MaxUnavailable: &metav1.IntOrString{Value: &metav1.IntOrString_IntVal{IntVal: 1}}}}},
		Status: &appsv1.DeploymentStatus{Replicas: 3, ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2,
			Conditions: []*appsv1.DeploymentCondition{{Type: "Available", Status: "True", Reason: "MinimumReplicasAvailable"}}},
	}}
}

func replicaSets() []scheme.Object {
	return []scheme.Object{&appsv1.ReplicaSet{
		Metadata: meta("default", "nginx-deployment-66b6c48dd5", 90*time.Second, map[string]string{"app": "nginx", "pod-template-hash": "66b6c48dd5"}),
		Spec: &appsv1.ReplicaSetSpec{Replicas: proto.Int32(3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "nginx", "pod-template-hash": "66b6c48dd5"},
				MatchExpressions: []*metav1.LabelSelectorRequirement{{Key: "tier", Operator: "In", Values: []string{"web", "api"}}}},
			Template: &corev1.PodTemplateSpec{Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "nginx", Image: "nginx:1.14.2"}}}}},
		Status: &appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 1},
	}}
}

func nodes() []scheme.Object {
	ready := func(status string) []*corev1.NodeCondition {
		return []*corev1.NodeCondition{{Type: "MemoryPressure", Status: "False"}, {Type: "Ready", Status: status}}
	}
	info := &corev1.NodeSystemInfo{KubeletVersion: "v0.1.0", OsImage: "Debian GNU/Linux 12 (bookworm)", KernelVersion: "6.1.0-18-amd64", ContainerRuntimeVersion: "docker://24.0.7"}
	return []scheme.Object{
		&corev1.Node{Metadata: meta("", "node-1", 10*24*time.Hour, map[string]string{"node-role.kubernetes.io/control-plane": ""}),
			Spec: &corev1.NodeSpec{},
			Status: &corev1.NodeStatus{Conditions: ready("True"), NodeInfo: info,
				Addresses: []*corev1.NodeAddress{{Type: "InternalIP", Address: "172.18.0.2"}, {Type: "Hostname", Address: "node-1"}}}},
		&corev1.Node{Metadata: meta("", "node-2", 47*time.Hour, nil), Spec: &corev1.NodeSpec{Unschedulable: true},
			Status: &corev1.NodeStatus{Conditions: ready("True"), NodeInfo: info}},
		&corev1.Node{Metadata: meta("", "node-3", 30*time.Second, nil), Spec: &corev1.NodeSpec{},
			Status: &corev1.NodeStatus{Conditions: ready("Unknown")}},
	}
}

func services() []scheme.Object {
	port := func(p, node int32, target int32) *corev1.ServicePort {
		return &corev1.ServicePort{Protocol: "TCP", Port: p, NodePort: node, TargetPort: &metav1.IntOrString{Value: &metav1.IntOrString_IntVal{IntVal: target}}}
	}
	return []scheme.Object{
		&corev1.Service{Metadata: meta("default", "kubernetes", 10*24*time.Hour, nil),
			Spec: &corev1.ServiceSpec{Type: "ClusterIP", ClusterIp: "10.96.0.1", Ports: []*corev1.ServicePort{port(443, 0, 6443)}}},
		&corev1.Service{Metadata: meta("default", "my-service", time.Hour, nil),
			Spec: &corev1.ServiceSpec{Type: "ClusterIP", ClusterIp: "10.96.12.7", Selector: map[string]string{"app.kubernetes.io/name": "MyApp"},
				Ports: []*corev1.ServicePort{port(80, 0, 9376)}}},
		&corev1.Service{Metadata: meta("default", "my-nodeport-service", time.Hour, nil),
			Spec: &corev1.ServiceSpec{Type: "NodePort", ClusterIp: "10.96.99.1", Selector: map[string]string{"app": "web"},
				Ports: []*corev1.ServicePort{port(80, 30007, 80), {Protocol: "UDP", Port: 53, NodePort: 30053}}}},
		&corev1.Service{Metadata: meta("default", "my-lb", time.Hour, nil),
			Spec:   &corev1.ServiceSpec{Type: "LoadBalancer", ClusterIp: "10.96.50.2", Ports: []*corev1.ServicePort{port(80, 31234, 8080)}},
			Status: &corev1.ServiceStatus{LoadBalancer: &corev1.LoadBalancerStatus{Ingress: []*corev1.LoadBalancerIngress{{Ip: "172.18.0.100"}}}}},
		&corev1.Service{Metadata: meta("default", "my-lb-pending", time.Hour, nil),
			Spec: &corev1.ServiceSpec{Type: "LoadBalancer", ClusterIp: "10.96.50.3", Ports: []*corev1.ServicePort{port(80, 31235, 8080)}}},
		&corev1.Service{Metadata: meta("default", "headless", time.Hour, nil),
			Spec: &corev1.ServiceSpec{Type: "ClusterIP", ClusterIp: "None"}},
		&corev1.Service{Metadata: meta("default", "external", time.Hour, nil),
			Spec: &corev1.ServiceSpec{Type: "ExternalName", ExternalName: "my.database.example.com"}},
	}
}

func endpoints() []scheme.Object {
	addrs := func(ips ...string) []*corev1.EndpointAddress {
		var out []*corev1.EndpointAddress
		for _, ip := range ips {
			out = append(out, &corev1.EndpointAddress{Ip: ip})
		}
		return out
	}
	return []scheme.Object{
		&corev1.Endpoints{Metadata: meta("default", "my-service", time.Hour, nil),
			Subsets: []*corev1.EndpointSubset{{Addresses: addrs("10.244.1.5", "10.244.1.6"), Ports: []*corev1.EndpointPort{{Port: 9376, Protocol: "TCP"}}}}},
		&corev1.Endpoints{Metadata: meta("default", "big", time.Hour, nil),
			Subsets: []*corev1.EndpointSubset{{Addresses: addrs("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"), Ports: []*corev1.EndpointPort{{Port: 80}}}}},
		&corev1.Endpoints{Metadata: meta("default", "empty", time.Hour, nil)},
	}
}

func jobs() []scheme.Object {
	tmpl := &corev1.PodTemplateSpec{Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "pi", Image: "perl:5.34.0"}}}}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": "uid-pi"}}
	return []scheme.Object{
		&batchv1.Job{Metadata: meta("default", "pi", 10*time.Minute, nil),
			Spec: &batchv1.JobSpec{Completions: proto.Int32(1), Parallelism: proto.Int32(1), Template: tmpl, Selector: sel},
			Status: &batchv1.JobStatus{Succeeded: 1, StartTime: ago(10 * time.Minute), CompletionTime: ago(9*time.Minute + 22*time.Second),
				Conditions: []*batchv1.JobCondition{{Type: "Complete", Status: "True"}}}},
		&batchv1.Job{Metadata: meta("default", "work-queue", 2*time.Minute, nil),
			Spec:   &batchv1.JobSpec{Parallelism: proto.Int32(3), Template: tmpl, Selector: sel},
			Status: &batchv1.JobStatus{Active: 3, StartTime: ago(2 * time.Minute)}},
		&batchv1.Job{Metadata: meta("default", "failing", time.Hour, nil),
			Spec:   &batchv1.JobSpec{Completions: proto.Int32(5), Template: tmpl},
			Status: &batchv1.JobStatus{Succeeded: 2, Failed: 6, StartTime: ago(time.Hour), Conditions: []*batchv1.JobCondition{{Type: "Failed", Status: "True", Reason: "BackoffLimitExceeded"}}}},
	}
}

func cronJobs() []scheme.Object {
	return []scheme.Object{
		&batchv1.CronJob{Metadata: meta("default", "hello", 3*time.Hour, nil),
			Spec: &batchv1.CronJobSpec{Schedule: "* * * * *", Suspend: proto.Bool(false),
				JobTemplate: &batchv1.JobTemplateSpec{Spec: &batchv1.JobSpec{Template: &corev1.PodTemplateSpec{Spec: &corev1.PodSpec{
					Containers: []*corev1.Container{{Name: "hello", Image: "busybox:1.28"}}}}}}},
			Status: &batchv1.CronJobStatus{LastScheduleTime: ago(40 * time.Second), Active: []*corev1.ObjectReference{{Name: "hello-28571234"}}}},
		&batchv1.CronJob{Metadata: meta("default", "nightly", 5*24*time.Hour, nil),
			Spec: &batchv1.CronJobSpec{Schedule: "0 3 * * *", TimeZone: proto.String("Etc/UTC"), Suspend: proto.Bool(true)}},
	}
}

func namespaces() []scheme.Object {
	return []scheme.Object{
		&corev1.Namespace{Metadata: meta("", "default", 10*24*time.Hour, map[string]string{"kubernetes.io/metadata.name": "default"}), Status: &corev1.NamespaceStatus{Phase: "Active"}},
		&corev1.Namespace{Metadata: meta("", "old", 2*time.Hour, nil), Status: &corev1.NamespaceStatus{Phase: "Terminating"}},
	}
}

func events() []scheme.Object {
	return []scheme.Object{
		&corev1.Event{Metadata: meta("default", "web-running.17a1", time.Minute, nil),
			InvolvedObject: &corev1.ObjectReference{Kind: "Pod", Name: "web-running", Namespace: "default"},
			Reason:         "Scheduled", Message: "Successfully assigned default/web-running to node-1", Type: "Normal",
			Source: &corev1.EventSource{Component: "default-scheduler"}, FirstTimestamp: ago(time.Minute), LastTimestamp: ago(time.Minute), Count: 1},
		&corev1.Event{Metadata: meta("default", "web-crash.17a2", 10*time.Minute, nil),
			InvolvedObject: &corev1.ObjectReference{Kind: "Pod", Name: "web-crash", Namespace: "default"},
			Reason:         "BackOff", Message: "Back-off restarting failed container web in pod web-crash_default(uid-web-crash)", Type: "Warning",
			Source: &corev1.EventSource{Component: "kubelet", Host: "node-1"}, FirstTimestamp: ago(10 * time.Minute), LastTimestamp: ago(20 * time.Second), Count: 7},
	}
}

func leases() []scheme.Object {
	return []scheme.Object{
		&coordinationv1.Lease{Metadata: meta("kube-node-lease", "node-1", 10*24*time.Hour, nil),
			Spec: &coordinationv1.LeaseSpec{HolderIdentity: proto.String("node-1"), LeaseDurationSeconds: proto.Int32(40), RenewTime: ago(3 * time.Second)}},
		&coordinationv1.Lease{Metadata: meta("kube-system", "scheduler", 10*24*time.Hour, nil),
			Spec: &coordinationv1.LeaseSpec{HolderIdentity: proto.String("host-a_6f1c"), LeaseDurationSeconds: proto.Int32(15)}},
	}
}
