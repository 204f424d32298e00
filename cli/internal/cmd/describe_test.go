package cmd

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gantryhq/gantry/client/scheme"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/")

var describeNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(describeNow.Add(-d)) }

func event(typ, reason, from, msg string, count int32, first, last time.Duration) *corev1.Event {
	return &corev1.Event{Metadata: &metav1.ObjectMeta{Name: "e", Namespace: "default"}, Type: typ, Reason: reason,
		Source: &corev1.EventSource{Component: from}, Message: msg, Count: count, FirstTimestamp: ago(first), LastTimestamp: ago(last)}
}

func TestDescribeGolden(t *testing.T) {
	labels := map[string]string{"app": "web"}
	tests := []struct {
		name   string
		obj    scheme.Object
		events []*corev1.Event
		extra  describeExtra
	}{
		{
			name: "pod",
			obj: &corev1.Pod{
				Metadata: &metav1.ObjectMeta{Name: "web-1", Namespace: "default", Labels: labels, CreationTimestamp: ago(time.Hour),
					Annotations:     map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "a"},
					OwnerReferences: []*metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-6d9d", Controller: proto.Bool(true)}}},
				Spec: &corev1.PodSpec{NodeName: "node-1", ServiceAccountName: "default",
					Containers: []*corev1.Container{{Name: "web", Image: "nginx:1.25", Ports: []*corev1.ContainerPort{{ContainerPort: 80, Protocol: "TCP"}},
						Env:       []*corev1.EnvVar{{Name: "MODE", Value: "prod"}},
						Resources: &corev1.ResourceRequirements{Limits: map[string]*metav1.Quantity{"cpu": {Value: "500m"}, "memory": {Value: "128Mi"}}}}},
					Volumes:     []*corev1.Volume{{Name: "cache", EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					Tolerations: []*corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: "Exists", Effect: "NoExecute", TolerationSeconds: proto.Int64(300)}}},
				Status: &corev1.PodStatus{Phase: "Running", PodIp: "10.244.1.5", HostIp: "172.18.0.2", StartTime: ago(time.Hour),
					Conditions: []*corev1.PodCondition{{Type: "Initialized", Status: "True"}, {Type: "Ready", Status: "True"}},
					ContainerStatuses: []*corev1.ContainerStatus{{Name: "web", Ready: true, RestartCount: 1, ContainerId: "docker://abc", ImageId: "docker://sha256:1",
						State:     &corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ago(30 * time.Minute)}},
						LastState: &corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 1, StartedAt: ago(time.Hour), FinishedAt: ago(31 * time.Minute)}}}}},
			},
			events: []*corev1.Event{
				event("Normal", "Scheduled", "default-scheduler", "Successfully assigned default/web-1 to node-1", 1, time.Hour, time.Hour),
				event("Warning", "BackOff", "kubelet", "Back-off restarting failed container", 3, 40*time.Minute, 31*time.Minute),
			},
		},
		{
			name: "deployment",
			obj: &appsv1.Deployment{
				Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: labels, CreationTimestamp: ago(2 * time.Hour), Generation: 2},
				Spec: &appsv1.DeploymentSpec{Replicas: proto.Int32(3), Selector: &metav1.LabelSelector{MatchLabels: labels},
					Strategy: &appsv1.DeploymentStrategy{Type: "RollingUpdate", RollingUpdate: &appsv1.RollingUpdateDeployment{
						MaxSurge: &metav1.IntOrString{Value: &metav1.IntOrString_StrVal{StrVal: "25%"}}, MaxUnavailable: &metav1.IntOrString{Value: &metav1.IntOrString_IntVal{IntVal: 1}}}},
					Template: &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: labels}, Spec: &corev1.PodSpec{
						Containers: []*corev1.Container{{Name: "web", Image: "nginx:1.25", Command: []string{"nginx", "-g", "daemon off;"}}}}}},
				Status: &appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 2, UnavailableReplicas: 1,
					Conditions: []*appsv1.DeploymentCondition{{Type: "Available", Status: "False", Reason: "MinimumReplicasUnavailable"},
						{Type: "Progressing", Status: "True", Reason: "NewReplicaSetAvailable"}}},
			},
			events: []*corev1.Event{event("Normal", "ScalingReplicaSet", "deployment-controller", "Scaled up replica set web-6d9d to 3", 1, 2*time.Hour, 2*time.Hour)},
			extra: describeExtra{
				newRS:  &appsv1.ReplicaSet{Metadata: &metav1.ObjectMeta{Name: "web-6d9d"}, Spec: &appsv1.ReplicaSetSpec{Replicas: proto.Int32(3)}, Status: &appsv1.ReplicaSetStatus{Replicas: 3}},
				oldRSs: []*appsv1.ReplicaSet{{Metadata: &metav1.ObjectMeta{Name: "web-5c8b"}, Spec: &appsv1.ReplicaSetSpec{Replicas: proto.Int32(0)}, Status: &appsv1.ReplicaSetStatus{Replicas: 1}}},
			},
		},
		{
			name: "node",
			obj: &corev1.Node{
				Metadata: &metav1.ObjectMeta{Name: "node-1", Labels: map[string]string{"kubernetes.io/hostname": "node-1", "node-role.kubernetes.io/control-plane": ""}, CreationTimestamp: ago(24 * time.Hour)},
				Spec:     &corev1.NodeSpec{PodCidr: "10.244.1.0/24", Unschedulable: true, Taints: []*corev1.Taint{{Key: "node.kubernetes.io/unschedulable", Effect: "NoSchedule"}}},
				Status: &corev1.NodeStatus{
					Conditions: []*corev1.NodeCondition{{Type: "Ready", Status: "True", Reason: "KubeletReady", Message: "kubelet is posting ready status", LastHeartbeatTime: ago(10 * time.Second), LastTransitionTime: ago(24 * time.Hour)}},
					Addresses:  []*corev1.NodeAddress{{Type: "InternalIP", Address: "172.18.0.2"}, {Type: "Hostname", Address: "node-1"}},
					Capacity:   map[string]*metav1.Quantity{"cpu": {Value: "4"}, "memory": {Value: "16Gi"}, "pods": {Value: "110"}},
					NodeInfo:   &corev1.NodeSystemInfo{KubeletVersion: "v0.1.0", OsImage: "Debian GNU/Linux 12", OperatingSystem: "linux", Architecture: "amd64", ContainerRuntimeVersion: "docker://24.0.7"}},
			},
			extra: describeExtra{nodePods: []*corev1.Pod{
				{Metadata: &metav1.ObjectMeta{Name: "web-1", Namespace: "default", CreationTimestamp: ago(5 * time.Minute)},
					Spec: &corev1.PodSpec{Containers: []*corev1.Container{
						{Name: "app", Resources: &corev1.ResourceRequirements{
							Requests: map[string]*metav1.Quantity{"cpu": {Value: "250m"}, "memory": {Value: "64Mi"}},
							Limits:   map[string]*metav1.Quantity{"cpu": {Value: "1"}, "memory": {Value: "128Mi"}}}},
						{Name: "sidecar", Resources: &corev1.ResourceRequirements{Requests: map[string]*metav1.Quantity{"cpu": {Value: "0.5"}}}}}}},
				{Metadata: &metav1.ObjectMeta{Name: "idle", Namespace: "kube-system", CreationTimestamp: ago(2 * time.Hour)},
					Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "pause"}}}},
			}},
		},
		{
			name: "replicaset",
			obj: &appsv1.ReplicaSet{
				Metadata: &metav1.ObjectMeta{Name: "web-6d9d", Namespace: "default", Labels: labels, CreationTimestamp: ago(time.Hour),
					OwnerReferences: []*metav1.OwnerReference{{Kind: "Deployment", Name: "web", Controller: proto.Bool(true)}}},
				Spec: &appsv1.ReplicaSetSpec{Replicas: proto.Int32(3), Selector: &metav1.LabelSelector{MatchLabels: labels},
					Template: &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: labels},
						Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "web", Image: "nginx:1.25"}}}}},
				Status: &appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 2, AvailableReplicas: 2},
			},
			extra: describeExtra{nodePods: []*corev1.Pod{
				{Status: &corev1.PodStatus{Phase: "Running"}}, {Status: &corev1.PodStatus{Phase: "Running"}}, {Status: &corev1.PodStatus{Phase: "Pending"}},
			}},
			events: []*corev1.Event{event("Normal", "SuccessfulCreate", "replicaset-controller", "Created pod: web-6d9d-abcde", 1, time.Hour, time.Hour)},
		},
		{
			name: "service",
			obj: &corev1.Service{
				Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", CreationTimestamp: ago(time.Hour)},
				Spec: &corev1.ServiceSpec{Type: "NodePort", ClusterIp: "10.96.0.10", Selector: labels, SessionAffinity: "None",
					Ports: []*corev1.ServicePort{{Name: "http", Protocol: "TCP", Port: 80, NodePort: 30080, TargetPort: &metav1.IntOrString{Value: &metav1.IntOrString_IntVal{IntVal: 8080}}}}},
			},
		},
		{
			name: "job",
			obj: &batchv1.Job{
				Metadata: &metav1.ObjectMeta{Name: "pi", Namespace: "default", CreationTimestamp: ago(10 * time.Minute)},
				Spec: &batchv1.JobSpec{Parallelism: proto.Int32(1), Completions: proto.Int32(1),
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"job-name": "pi"}},
					Template: &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: map[string]string{"job-name": "pi"}},
						Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "pi", Image: "perl:5.34.0", Command: []string{"perl", "-e", "print 1"}}}}}},
				Status: &batchv1.JobStatus{Succeeded: 1, StartTime: ago(10 * time.Minute), CompletionTime: ago(9 * time.Minute),
					Conditions: []*batchv1.JobCondition{{Type: "Complete", Status: "True"}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, ok := scheme.ForMessage(tt.obj)
			if !ok {
				t.Fatal("not a kind")
			}
			var buf bytes.Buffer
			if err := describe(&buf, res, tt.obj, tt.events, describeNow, tt.extra); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "describe-"+tt.name+".golden")
			if *updateGolden {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), buf.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", path, diff)
			}
		})
	}
}
