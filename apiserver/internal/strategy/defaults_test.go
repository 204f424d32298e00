package strategy

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/apiserver/internal/registry"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// defaultedContainer is a container with Kubernetes' container defaults.
func defaultedContainer(name, image, pullPolicy string) *corev1.Container {
	return &corev1.Container{
		Name:                     name,
		Image:                    image,
		ImagePullPolicy:          pullPolicy,
		TerminationMessagePath:   "/dev/termination-log",
		TerminationMessagePolicy: "File",
	}
}

// defaultedSpec is a pod spec with the defaults every pod spec gets.
func defaultedSpec(containers ...*corev1.Container) *corev1.PodSpec {
	return &corev1.PodSpec{
		Containers:                    containers,
		RestartPolicy:                 "Always",
		TerminationGracePeriodSeconds: ptr.To(int64(30)),
		DnsPolicy:                     "ClusterFirst",
		SecurityContext:               &corev1.PodSecurityContext{},
		SchedulerName:                 "default-scheduler",
	}
}

func defaultTolerationList() []*corev1.Toleration {
	return []*corev1.Toleration{
		{Key: "node.kubernetes.io/not-ready", Operator: "Exists", Effect: "NoExecute", TolerationSeconds: ptr.To(int64(300))},
		{Key: "node.kubernetes.io/unreachable", Operator: "Exists", Effect: "NoExecute", TolerationSeconds: ptr.To(int64(300))},
	}
}

// podOnly adds the defaults a pod gets and a template does not.
func podOnly(spec *corev1.PodSpec, tolerations []*corev1.Toleration) *corev1.PodSpec {
	spec.ServiceAccountName = "default"
	spec.EnableServiceLinks = ptr.To(true)
	spec.Priority = ptr.To(int32(0))
	spec.PreemptionPolicy = ptr.To("PreemptLowerPriority")
	spec.Tolerations = tolerations
	return spec
}

func TestDefaults(t *testing.T) {
	fixed := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	now = func() time.Time { return fixed }
	t.Cleanup(func() { now = time.Now })

	tests := []struct {
		name     string
		strategy registry.Strategy
		in       proto.Message
		want     proto.Message
	}{
		{
			name:     "pod: spec, containers, probes, volumes, requests from limits, tolerations, status",
			strategy: Pod{},
			in: func() proto.Message {
				p := makePod().Container(makeContainer("web", "nginx:1.27").Port(80).
					Limits("cpu", "500m", "memory", "128Mi").
					Liveness(&corev1.Probe{HttpGet: &corev1.HTTPGetAction{Port: intStr(80)}}).Obj()).Obj()
				p.Spec.Volumes = []*corev1.Volume{{Name: "cache"}, {Name: "host", HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}}
				p.Status = &corev1.PodStatus{Phase: "Running", PodIp: "10.0.0.9"}
				return p
			}(),
			want: func() proto.Message {
				c := defaultedContainer("web", "nginx:1.27", "IfNotPresent")
				c.Ports = []*corev1.ContainerPort{{ContainerPort: 80, Protocol: "TCP"}}
				c.Resources = &corev1.ResourceRequirements{
					Limits:   quantities("cpu", "500m", "memory", "128Mi"),
					Requests: quantities("cpu", "500m", "memory", "128Mi"),
				}
				c.LivenessProbe = &corev1.Probe{
					HttpGet:        &corev1.HTTPGetAction{Path: "/", Port: intStr(80), Scheme: "HTTP"},
					TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3,
				}
				spec := podOnly(defaultedSpec(c), defaultTolerationList())
				spec.Volumes = []*corev1.Volume{
					{Name: "cache", EmptyDir: &corev1.EmptyDirVolumeSource{}},
					{Name: "host", HostPath: &corev1.HostPathVolumeSource{Path: "/var/log", Type: ptr.To("")}},
				}
				return &corev1.Pod{
					Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Uid: "pod-uid"},
					Spec:     spec,
					Status:   &corev1.PodStatus{Phase: "Pending", QosClass: "Guaranteed"},
				}
			}(),
		},
		{
			name:     "pod: untagged image pulls Always; a toleration of every taint keeps the defaults out",
			strategy: Pod{},
			in: makePod().Container(makeContainer("sh", "busybox").Obj()).
				Toleration(&corev1.Toleration{Operator: "Exists"}).Obj(),
			want: &corev1.Pod{
				Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Uid: "pod-uid"},
				Spec: podOnly(defaultedSpec(defaultedContainer("sh", "busybox", "Always")),
					[]*corev1.Toleration{{Operator: "Exists"}}),
				Status: &corev1.PodStatus{Phase: "Pending", QosClass: "BestEffort"},
			},
		},
		{
			name:     "pod: a not-ready toleration of its own keeps only the unreachable default; requests make it Burstable",
			strategy: Pod{},
			in: makePod().Container(makeContainer("web", "nginx:latest").Requests("cpu", "100m").Obj()).
				Toleration(&corev1.Toleration{Key: "node.kubernetes.io/not-ready", Operator: "Exists", Effect: "NoExecute", TolerationSeconds: ptr.To(int64(10))}).Obj(),
			want: func() proto.Message {
				c := defaultedContainer("web", "nginx:latest", "Always")
				c.Resources = &corev1.ResourceRequirements{Requests: quantities("cpu", "100m")}
				return &corev1.Pod{
					Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Uid: "pod-uid"},
					Spec: podOnly(defaultedSpec(c), []*corev1.Toleration{
						{Key: "node.kubernetes.io/not-ready", Operator: "Exists", Effect: "NoExecute", TolerationSeconds: ptr.To(int64(10))},
						defaultTolerationList()[1],
					}),
					Status: &corev1.PodStatus{Phase: "Pending", QosClass: "Burstable"},
				}
			}(),
		},
		{
			name:     "deployment",
			strategy: Deployment{},
			in: func() proto.Message {
				d := makeDeployment()
				d.Status = &appsv1.DeploymentStatus{Replicas: 3}
				return d
			}(),
			want: &appsv1.Deployment{
				Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Uid: "deploy-uid"},
				Spec: &appsv1.DeploymentSpec{
					Replicas: ptr.To(int32(1)),
					Selector: matchLabels("app", "web"),
					Template: &corev1.PodTemplateSpec{
						Metadata: &metav1.ObjectMeta{Labels: appWeb},
						Spec:     defaultedSpec(defaultedContainer("web", "nginx:1.27", "IfNotPresent")),
					},
					Strategy: &appsv1.DeploymentStrategy{
						Type:          "RollingUpdate",
						RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: percent("25%"), MaxSurge: percent("25%")},
					},
					RevisionHistoryLimit:    ptr.To(int32(10)),
					ProgressDeadlineSeconds: ptr.To(int32(600)),
				},
				Status: &appsv1.DeploymentStatus{},
			},
		},
		{
			name:     "deployment: Recreate gets no rollingUpdate",
			strategy: Deployment{},
			in: func() proto.Message {
				d := makeDeployment()
				d.Spec.Replicas = ptr.To(int32(0))
				d.Spec.Strategy = &appsv1.DeploymentStrategy{Type: "Recreate"}
				return d
			}(),
			want: &appsv1.Deployment{
				Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Uid: "deploy-uid"},
				Spec: &appsv1.DeploymentSpec{
					Replicas: ptr.To(int32(0)),
					Selector: matchLabels("app", "web"),
					Template: &corev1.PodTemplateSpec{
						Metadata: &metav1.ObjectMeta{Labels: appWeb},
						Spec:     defaultedSpec(defaultedContainer("web", "nginx:1.27", "IfNotPresent")),
					},
					Strategy:                &appsv1.DeploymentStrategy{Type: "Recreate"},
					RevisionHistoryLimit:    ptr.To(int32(10)),
					ProgressDeadlineSeconds: ptr.To(int32(600)),
				},
				Status: &appsv1.DeploymentStatus{},
			},
		},
		{
			name:     "replicaset",
			strategy: ReplicaSet{},
			in:       makeReplicaSet(),
			want: &appsv1.ReplicaSet{
				Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Uid: "rs-uid"},
				Spec: &appsv1.ReplicaSetSpec{
					Replicas: ptr.To(int32(1)),
					Selector: matchLabels("app", "web"),
					Template: &corev1.PodTemplateSpec{
						Metadata: &metav1.ObjectMeta{Labels: appWeb},
						Spec:     defaultedSpec(defaultedContainer("web", "nginx:1.27", "IfNotPresent")),
					},
				},
				Status: &appsv1.ReplicaSetStatus{},
			},
		},
		{
			name:     "job: counts, modes, generated selector and labels",
			strategy: Job{},
			in: func() proto.Message {
				j := makeJob()
				j.Spec.Template.Metadata.Labels = map[string]string{"app": "pi"}
				return j
			}(),
			want: func() proto.Message {
				spec := defaultedSpec(defaultedContainer("web", "nginx:1.27", "IfNotPresent"))
				spec.RestartPolicy = "Never"
				return &batchv1.Job{
					Metadata: &metav1.ObjectMeta{Name: "pi", Namespace: "default", Uid: "job-uid", Labels: map[string]string{"app": "pi"}},
					Spec: &batchv1.JobSpec{
						Parallelism:          ptr.To(int32(1)),
						Completions:          ptr.To(int32(1)),
						BackoffLimit:         ptr.To(int32(6)),
						CompletionMode:       ptr.To("NonIndexed"),
						Suspend:              ptr.To(false),
						PodReplacementPolicy: ptr.To("TerminatingOrFailed"),
						Selector:             matchLabels("batch.kubernetes.io/controller-uid", "job-uid"),
						Template: &corev1.PodTemplateSpec{
							Metadata: &metav1.ObjectMeta{Labels: map[string]string{
								"app":                                "pi",
								"batch.kubernetes.io/controller-uid": "job-uid",
								"batch.kubernetes.io/job-name":       "pi",
								"controller-uid":                     "job-uid",
								"job-name":                           "pi",
							}},
							Spec: spec,
						},
					},
					Status: &batchv1.JobStatus{},
				}
			}(),
		},
		{
			name:     "job: parallelism alone leaves completions unset; manualSelector keeps the selector",
			strategy: Job{},
			in: func() proto.Message {
				j := makeJob()
				j.Spec.Parallelism = ptr.To(int32(5))
				j.Spec.ManualSelector = ptr.To(true)
				j.Spec.Selector = matchLabels("app", "pi")
				j.Spec.Template.Metadata.Labels = map[string]string{"app": "pi"}
				return j
			}(),
			want: func() proto.Message {
				spec := defaultedSpec(defaultedContainer("web", "nginx:1.27", "IfNotPresent"))
				spec.RestartPolicy = "Never"
				return &batchv1.Job{
					Metadata: &metav1.ObjectMeta{Name: "pi", Namespace: "default", Uid: "job-uid", Labels: map[string]string{"app": "pi"}},
					Spec: &batchv1.JobSpec{
						Parallelism:          ptr.To(int32(5)),
						BackoffLimit:         ptr.To(int32(6)),
						CompletionMode:       ptr.To("NonIndexed"),
						Suspend:              ptr.To(false),
						PodReplacementPolicy: ptr.To("TerminatingOrFailed"),
						ManualSelector:       ptr.To(true),
						Selector:             matchLabels("app", "pi"),
						Template: &corev1.PodTemplateSpec{
							Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "pi"}},
							Spec:     spec,
						},
					},
					Status: &batchv1.JobStatus{},
				}
			}(),
		},
		{
			name:     "cronjob",
			strategy: CronJob{},
			in:       makeCronJob(),
			want: func() proto.Message {
				spec := defaultedSpec(defaultedContainer("web", "nginx:1.27", "IfNotPresent"))
				spec.RestartPolicy = "OnFailure"
				return &batchv1.CronJob{
					Metadata: &metav1.ObjectMeta{Name: "hello", Namespace: "default", Uid: "cj-uid"},
					Spec: &batchv1.CronJobSpec{
						Schedule:                   "*/5 * * * *",
						ConcurrencyPolicy:          "Allow",
						Suspend:                    ptr.To(false),
						SuccessfulJobsHistoryLimit: ptr.To(int32(3)),
						FailedJobsHistoryLimit:     ptr.To(int32(1)),
						JobTemplate: &batchv1.JobTemplateSpec{Spec: &batchv1.JobSpec{Template: &corev1.PodTemplateSpec{
							Metadata: &metav1.ObjectMeta{},
							Spec:     spec,
						}}},
					},
					Status: &batchv1.CronJobStatus{},
				}
			}(),
		},
		{
			name:     "service: ClusterIP",
			strategy: Service{},
			in:       makeService(),
			want: &corev1.Service{
				Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default"},
				Spec: &corev1.ServiceSpec{
					Selector:              appWeb,
					Ports:                 []*corev1.ServicePort{{Port: 80, Protocol: "TCP", TargetPort: intStr(80)}},
					Type:                  "ClusterIP",
					SessionAffinity:       "None",
					InternalTrafficPolicy: ptr.To("Cluster"),
					IpFamilyPolicy:        ptr.To("SingleStack"),
					IpFamilies:            []string{"IPv4"},
				},
				Status: &corev1.ServiceStatus{},
			},
		},
		{
			name:     "service: LoadBalancer with ClientIP affinity and a given IPv6 clusterIP",
			strategy: Service{},
			in: func() proto.Message {
				s := makeService()
				s.Spec.Type = "LoadBalancer"
				s.Spec.SessionAffinity = "ClientIP"
				s.Spec.ClusterIp = "fd00::10"
				s.Spec.Ports[0].TargetPort = &metav1.IntOrString{Value: &metav1.IntOrString_StrVal{StrVal: "http"}}
				return s
			}(),
			want: &corev1.Service{
				Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default"},
				Spec: &corev1.ServiceSpec{
					Selector:                      appWeb,
					Ports:                         []*corev1.ServicePort{{Port: 80, Protocol: "TCP", TargetPort: &metav1.IntOrString{Value: &metav1.IntOrString_StrVal{StrVal: "http"}}}},
					Type:                          "LoadBalancer",
					ClusterIp:                     "fd00::10",
					ClusterIps:                    []string{"fd00::10"},
					SessionAffinity:               "ClientIP",
					SessionAffinityConfig:         &corev1.SessionAffinityConfig{ClientIp: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To(int32(10800))}},
					ExternalTrafficPolicy:         "Cluster",
					InternalTrafficPolicy:         ptr.To("Cluster"),
					AllocateLoadBalancerNodePorts: ptr.To(true),
					IpFamilyPolicy:                ptr.To("SingleStack"),
					IpFamilies:                    []string{"IPv6"},
				},
				Status: &corev1.ServiceStatus{},
			},
		},
		{
			name:     "service: ExternalName gets no IP families",
			strategy: Service{},
			in: &corev1.Service{
				Metadata: &metav1.ObjectMeta{Name: "db", Namespace: "default"},
				Spec:     &corev1.ServiceSpec{Type: "ExternalName", ExternalName: "db.example.com"},
			},
			want: &corev1.Service{
				Metadata: &metav1.ObjectMeta{Name: "db", Namespace: "default"},
				Spec:     &corev1.ServiceSpec{Type: "ExternalName", ExternalName: "db.example.com", SessionAffinity: "None"},
				Status:   &corev1.ServiceStatus{},
			},
		},
		{
			name:     "namespace",
			strategy: Namespace{},
			in:       &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "team-a"}, Status: &corev1.NamespaceStatus{Phase: "Terminating"}},
			want: &corev1.Namespace{
				Metadata: &metav1.ObjectMeta{Name: "team-a"},
				Spec:     &corev1.NamespaceSpec{Finalizers: []string{"kubernetes"}},
				Status:   &corev1.NamespaceStatus{Phase: "Active"},
			},
		},
		{
			name:     "node: podCIDRs from podCIDR, allocatable from capacity, timeAdded on NoExecute taints",
			strategy: Node{},
			in: &corev1.Node{
				Metadata: &metav1.ObjectMeta{Name: "n1"},
				Spec: &corev1.NodeSpec{PodCidr: "10.244.1.0/24", Taints: []*corev1.Taint{
					{Key: "dedicated", Value: "gpu", Effect: "NoSchedule"},
					{Key: "node.kubernetes.io/not-ready", Effect: "NoExecute"},
				}},
				Status: &corev1.NodeStatus{Capacity: quantities("cpu", "4", "pods", "110")},
			},
			want: &corev1.Node{
				Metadata: &metav1.ObjectMeta{Name: "n1"},
				Spec: &corev1.NodeSpec{PodCidr: "10.244.1.0/24", PodCidrs: []string{"10.244.1.0/24"}, Taints: []*corev1.Taint{
					{Key: "dedicated", Value: "gpu", Effect: "NoSchedule"},
					{Key: "node.kubernetes.io/not-ready", Effect: "NoExecute", TimeAdded: timestamppb.New(fixed)},
				}},
				Status: &corev1.NodeStatus{Capacity: quantities("cpu", "4", "pods", "110"), Allocatable: quantities("cpu", "4", "pods", "110")},
			},
		},
		{
			name:     "event",
			strategy: Event{},
			in: &corev1.Event{
				Metadata:       &metav1.ObjectMeta{Name: "web.1", Namespace: "default"},
				InvolvedObject: &corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web"},
				Reason:         "Scheduled",
			},
			want: &corev1.Event{
				Metadata:       &metav1.ObjectMeta{Name: "web.1", Namespace: "default"},
				InvolvedObject: &corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web"},
				Reason:         "Scheduled",
				Count:          1,
				Type:           "Normal",
			},
		},
		{
			name:     "endpoints",
			strategy: Endpoints{},
			in: &corev1.Endpoints{
				Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default"},
				Subsets:  []*corev1.EndpointSubset{{Addresses: []*corev1.EndpointAddress{{Ip: "10.0.0.5"}}, Ports: []*corev1.EndpointPort{{Port: 80}}}},
			},
			want: &corev1.Endpoints{
				Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default"},
				Subsets:  []*corev1.EndpointSubset{{Addresses: []*corev1.EndpointAddress{{Ip: "10.0.0.5"}}, Ports: []*corev1.EndpointPort{{Port: 80, Protocol: "TCP"}}}},
			},
		},
		{
			name:     "lease: nothing to default",
			strategy: Lease{},
			in: &coordinationv1.Lease{
				Metadata: &metav1.ObjectMeta{Name: "n1", Namespace: "kube-node-lease"},
				Spec:     &coordinationv1.LeaseSpec{HolderIdentity: ptr.To("n1"), LeaseDurationSeconds: ptr.To(int32(40))},
			},
			want: &coordinationv1.Lease{
				Metadata: &metav1.ObjectMeta{Name: "n1", Namespace: "kube-node-lease"},
				Spec:     &coordinationv1.LeaseSpec{HolderIdentity: ptr.To("n1"), LeaseDurationSeconds: ptr.To(int32(40))},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := proto.Clone(tt.in)
			tt.strategy.PrepareForCreate(got)
			tt.strategy.Default(got)
			if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("defaults (-want +got):\n%s", diff)
			}
			// Defaulting is idempotent: the registry defaults again on update.
			again := proto.Clone(got)
			tt.strategy.Default(again)
			if diff := cmp.Diff(got, again, protocmp.Transform()); diff != "" {
				t.Errorf("second Default changed the object (-first +second):\n%s", diff)
			}
			// A defaulted fixture is valid.
			if errs := tt.strategy.Validate(got); len(errs) > 0 {
				t.Errorf("Validate(defaulted) = %v, want no errors", errs)
			}
		})
	}
}
