package strategy

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/apiserver/internal/registry"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// create runs what the registry runs on create and returns Validate's errors.
func create(s registry.Strategy, obj proto.Message) field.ErrorList {
	s.PrepareForCreate(obj)
	s.Default(obj)
	return s.Validate(obj)
}

// update creates old, applies change to a copy, defaults it and returns
// ValidateUpdate's errors.
func update[T proto.Message](t *testing.T, s registry.Strategy, old T, change func(T)) field.ErrorList {
	t.Helper()
	if errs := create(s, old); len(errs) > 0 {
		t.Fatalf("old object is invalid: %v", errs)
	}
	obj := clone(old)
	change(obj)
	s.Default(obj)
	return s.ValidateUpdate(obj, old)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		strategy registry.Strategy
		obj      proto.Message
		// wantField is the field path that must be in the errors; "" means
		// the object must be valid.
		wantField string
		wantType  field.ErrorType
	}{
		{name: "valid pod", strategy: Pod{}, obj: simplePod().Obj()},
		{
			name: "missing image", strategy: Pod{},
			obj:       makePod().Container(makeContainer("web", "").Obj()).Obj(),
			wantField: "spec.containers[0].image", wantType: field.ErrorTypeRequired,
		},
		{
			name: "no containers", strategy: Pod{}, obj: makePod().Obj(),
			wantField: "spec.containers", wantType: field.ErrorTypeRequired,
		},
		{
			name: "duplicate container names", strategy: Pod{},
			obj: makePod().Container(makeContainer("web", "nginx").Obj()).
				Container(makeContainer("web", "busybox").Obj()).Obj(),
			wantField: "spec.containers[1].name", wantType: field.ErrorTypeDuplicate,
		},
		{
			name: "init container name clashes with a container", strategy: Pod{},
			obj: makePod().InitContainer(makeContainer("web", "busybox").Obj()).
				Container(makeContainer("web", "nginx").Obj()).Obj(),
			wantField: "spec.containers[0].name", wantType: field.ErrorTypeDuplicate,
		},
		{
			name: "container name not a DNS label", strategy: Pod{},
			obj:       makePod().Container(makeContainer("Web_1", "nginx").Obj()).Obj(),
			wantField: "spec.containers[0].name", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "bad port", strategy: Pod{},
			obj:       makePod().Container(makeContainer("web", "nginx").Port(70000).Obj()).Obj(),
			wantField: "spec.containers[0].ports[0].containerPort", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "bad port name", strategy: Pod{},
			obj: func() proto.Message {
				p := makePod().Container(makeContainer("web", "nginx").Port(80).Obj()).Obj()
				p.Spec.Containers[0].Ports[0].Name = "http_port_that_is_too_long"
				return p
			}(),
			wantField: "spec.containers[0].ports[0].name", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "bad restartPolicy", strategy: Pod{},
			obj:       simplePod().RestartPolicy("Sometimes").Obj(),
			wantField: "spec.restartPolicy", wantType: field.ErrorTypeNotSupported,
		},
		{
			name: "bad imagePullPolicy", strategy: Pod{},
			obj: func() proto.Message {
				p := simplePod().Obj()
				p.Spec.Containers[0].ImagePullPolicy = "Sometimes"
				return p
			}(),
			wantField: "spec.containers[0].imagePullPolicy", wantType: field.ErrorTypeNotSupported,
		},
		{
			name: "bad quantity", strategy: Pod{},
			obj:       makePod().Container(makeContainer("web", "nginx").Limits("cpu", "lots").Obj()).Obj(),
			wantField: "spec.containers[0].resources.limits[cpu]", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "requests > limits", strategy: Pod{},
			obj: makePod().Container(makeContainer("web", "nginx").
				Limits("memory", "128Mi").Requests("memory", "1Gi").Obj()).Obj(),
			wantField: "spec.containers[0].resources.requests", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "unknown resource", strategy: Pod{},
			obj:       makePod().Container(makeContainer("web", "nginx").Limits("gpu", "1").Obj()).Obj(),
			wantField: "spec.containers[0].resources.limits[gpu]", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "probe with two handlers", strategy: Pod{},
			obj: makePod().Container(makeContainer("web", "nginx").Liveness(&corev1.Probe{
				Exec:    &corev1.ExecAction{Command: []string{"true"}},
				HttpGet: &corev1.HTTPGetAction{Port: intStr(80)},
			}).Obj()).Obj(),
			wantField: "spec.containers[0].livenessProbe.httpGet", wantType: field.ErrorTypeForbidden,
		},
		{
			name: "probe without a handler", strategy: Pod{},
			obj:       makePod().Container(makeContainer("web", "nginx").Liveness(&corev1.Probe{}).Obj()).Obj(),
			wantField: "spec.containers[0].livenessProbe", wantType: field.ErrorTypeRequired,
		},
		{
			name: "volumeMount of a missing volume", strategy: Pod{},
			obj: func() proto.Message {
				p := simplePod().Obj()
				p.Spec.Containers[0].VolumeMounts = []*corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
				return p
			}(),
			wantField: "spec.containers[0].volumeMounts[0].name", wantType: field.ErrorTypeNotFound,
		},
		{
			name: "volume with two sources", strategy: Pod{},
			obj: func() proto.Message {
				p := simplePod().Obj()
				p.Spec.Volumes = []*corev1.Volume{{Name: "v", EmptyDir: &corev1.EmptyDirVolumeSource{}, HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}}
				return p
			}(),
			wantField: "spec.volumes[0].emptyDir", wantType: field.ErrorTypeForbidden,
		},
		{
			name: "duplicate volume names", strategy: Pod{},
			obj: func() proto.Message {
				p := simplePod().Obj()
				p.Spec.Volumes = []*corev1.Volume{{Name: "v"}, {Name: "v"}}
				return p
			}(),
			wantField: "spec.volumes[1].name", wantType: field.ErrorTypeDuplicate,
		},
		{
			name: "bad label key in nodeSelector", strategy: Pod{},
			obj:       simplePod().NodeSelector("bad key!", "x").Obj(),
			wantField: "spec.nodeSelector", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "toleration value with Exists", strategy: Pod{},
			obj:       simplePod().Toleration(&corev1.Toleration{Key: "k", Operator: "Exists", Value: "v"}).Obj(),
			wantField: "spec.tolerations[0].operator", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "toleration effect", strategy: Pod{},
			obj:       simplePod().Toleration(&corev1.Toleration{Key: "k", Operator: "Exists", Effect: "NoWay"}).Obj(),
			wantField: "spec.tolerations[0].effect", wantType: field.ErrorTypeNotSupported,
		},
		{
			name: "node affinity operator", strategy: Pod{},
			obj: func() proto.Message {
				p := simplePod().Obj()
				p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
					RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []*corev1.NodeSelectorTerm{
						{MatchExpressions: []*corev1.NodeSelectorRequirement{{Key: "zone", Operator: "Near", Values: []string{"a"}}}},
					}},
				}}
				return p
			}(),
			wantField: "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator",
			wantType:  field.ErrorTypeNotSupported,
		},
		{
			name: "pod affinity selector operator", strategy: Pod{},
			obj: func() proto.Message {
				p := simplePod().Obj()
				p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
					RequiredDuringSchedulingIgnoredDuringExecution: []*corev1.PodAffinityTerm{{
						TopologyKey: "kubernetes.io/hostname",
						LabelSelector: &metav1.LabelSelector{MatchExpressions: []*metav1.LabelSelectorRequirement{
							{Key: "app", Operator: "Like", Values: []string{"web"}},
						}},
					}},
				}}
				return p
			}(),
			wantField: "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].operator",
			wantType:  field.ErrorTypeInvalid,
		},
		{
			name: "unknown priority class", strategy: Pod{},
			obj: func() proto.Message {
				p := simplePod().Obj()
				p.Spec.PriorityClassName = "gold"
				return p
			}(),
			wantField: "spec.priorityClassName", wantType: field.ErrorTypeNotFound,
		},
		{name: "valid deployment", strategy: Deployment{}, obj: makeDeployment()},
		{
			name: "deployment selector not matching template", strategy: Deployment{},
			obj: func() proto.Message {
				d := makeDeployment()
				d.Spec.Selector = matchLabels("app", "api")
				return d
			}(),
			wantField: "spec.template.metadata.labels", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "deployment without selector", strategy: Deployment{},
			obj: func() proto.Message {
				d := makeDeployment()
				d.Spec.Selector = nil
				return d
			}(),
			wantField: "spec.selector", wantType: field.ErrorTypeRequired,
		},
		{
			name: "maxSurge and maxUnavailable both 0", strategy: Deployment{},
			obj: func() proto.Message {
				d := makeDeployment()
				d.Spec.Strategy = &appsv1.DeploymentStrategy{RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxSurge: intStr(0), MaxUnavailable: percent("0%"),
				}}
				return d
			}(),
			wantField: "spec.strategy.rollingUpdate.maxUnavailable", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "bad maxSurge percentage", strategy: Deployment{},
			obj: func() proto.Message {
				d := makeDeployment()
				d.Spec.Strategy = &appsv1.DeploymentStrategy{RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: percent("lots%")}}
				return d
			}(),
			wantField: "spec.strategy.rollingUpdate.maxSurge", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "negative replicas", strategy: Deployment{},
			obj: func() proto.Message {
				d := makeDeployment()
				d.Spec.Replicas = ptr.To(int32(-1))
				return d
			}(),
			wantField: "spec.replicas", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "deployment template restartPolicy Never", strategy: Deployment{},
			obj: func() proto.Message {
				d := makeDeployment()
				d.Spec.Template.Spec.RestartPolicy = "Never"
				return d
			}(),
			wantField: "spec.template.spec.restartPolicy", wantType: field.ErrorTypeNotSupported,
		},
		{
			name: "deployment template container without image", strategy: Deployment{},
			obj: func() proto.Message {
				d := makeDeployment()
				d.Spec.Template.Spec.Containers[0].Image = ""
				return d
			}(),
			wantField: "spec.template.spec.containers[0].image", wantType: field.ErrorTypeRequired,
		},
		{name: "valid replicaset", strategy: ReplicaSet{}, obj: makeReplicaSet()},
		{
			name: "replicaset selector not matching template", strategy: ReplicaSet{},
			obj: func() proto.Message {
				rs := makeReplicaSet()
				rs.Spec.Template.Metadata.Labels = map[string]string{"app": "other"}
				return rs
			}(),
			wantField: "spec.template.metadata.labels", wantType: field.ErrorTypeInvalid,
		},
		{name: "valid job", strategy: Job{}, obj: makeJob()},
		{
			name: "job restartPolicy Always", strategy: Job{},
			obj: func() proto.Message {
				j := makeJob()
				j.Spec.Template.Spec.RestartPolicy = "Always"
				return j
			}(),
			wantField: "spec.template.spec.restartPolicy", wantType: field.ErrorTypeRequired,
		},
		{
			name: "job manual selector not matching template", strategy: Job{},
			obj: func() proto.Message {
				j := makeJob()
				j.Spec.ManualSelector = ptr.To(true)
				j.Spec.Selector = matchLabels("app", "pi")
				return j
			}(),
			wantField: "spec.template.metadata.labels", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "job selector given without manualSelector", strategy: Job{},
			obj: func() proto.Message {
				j := makeJob()
				j.Spec.Selector = matchLabels("batch.kubernetes.io/controller-uid", "someone-else")
				return j
			}(),
			wantField: "spec.selector", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "indexed job without completions", strategy: Job{},
			obj: func() proto.Message {
				j := makeJob()
				j.Spec.Parallelism = ptr.To(int32(2))
				j.Spec.CompletionMode = ptr.To("Indexed")
				return j
			}(),
			wantField: "spec.completions", wantType: field.ErrorTypeRequired,
		},
		{name: "valid cronjob", strategy: CronJob{}, obj: makeCronJob()},
		{
			name: "cronjob with a macro schedule and a time zone", strategy: CronJob{},
			obj: func() proto.Message {
				cj := makeCronJob()
				cj.Spec.Schedule = "@hourly"
				cj.Spec.TimeZone = ptr.To("Europe/Paris")
				return cj
			}(),
		},
		{
			name: "bad cron schedule", strategy: CronJob{},
			obj: func() proto.Message {
				cj := makeCronJob()
				cj.Spec.Schedule = "every five minutes"
				return cj
			}(),
			wantField: "spec.schedule", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "schedule with 6 fields", strategy: CronJob{},
			obj: func() proto.Message {
				cj := makeCronJob()
				cj.Spec.Schedule = "0 */5 * * * *"
				return cj
			}(),
			wantField: "spec.schedule", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "TZ in schedule", strategy: CronJob{},
			obj: func() proto.Message {
				cj := makeCronJob()
				cj.Spec.Schedule = "TZ=UTC */5 * * * *"
				return cj
			}(),
			wantField: "spec.schedule", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "bad timeZone", strategy: CronJob{},
			obj: func() proto.Message {
				cj := makeCronJob()
				cj.Spec.TimeZone = ptr.To("Mars/Olympus_Mons")
				return cj
			}(),
			wantField: "spec.timeZone", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "bad concurrencyPolicy", strategy: CronJob{},
			obj: func() proto.Message {
				cj := makeCronJob()
				cj.Spec.ConcurrencyPolicy = "Sometimes"
				return cj
			}(),
			wantField: "spec.concurrencyPolicy", wantType: field.ErrorTypeNotSupported,
		},
		{
			name: "cronjob name too long", strategy: CronJob{},
			obj: func() proto.Message {
				cj := makeCronJob()
				cj.Metadata.Name = strings.Repeat("a", 53)
				return cj
			}(),
			wantField: "metadata.name", wantType: field.ErrorTypeInvalid,
		},
		{name: "valid service", strategy: Service{}, obj: makeService()},
		{
			name: "headless service", strategy: Service{},
			obj: func() proto.Message {
				s := makeService()
				s.Spec.ClusterIp = "None"
				s.Spec.Ports = nil
				return s
			}(),
		},
		{
			name: "service port out of range", strategy: Service{},
			obj: func() proto.Message {
				s := makeService()
				s.Spec.Ports[0].Port = 0
				return s
			}(),
			wantField: "spec.ports[0].port", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "duplicate service ports", strategy: Service{},
			obj: func() proto.Message {
				s := makeService()
				s.Spec.Ports = []*corev1.ServicePort{{Name: "a", Port: 80}, {Name: "b", Port: 80}}
				return s
			}(),
			wantField: "spec.ports[1]", wantType: field.ErrorTypeDuplicate,
		},
		{
			name: "unnamed port among several", strategy: Service{},
			obj: func() proto.Message {
				s := makeService()
				s.Spec.Ports = []*corev1.ServicePort{{Name: "a", Port: 80}, {Port: 443}}
				return s
			}(),
			wantField: "spec.ports[1].name", wantType: field.ErrorTypeRequired,
		},
		{
			name: "nodePort on a ClusterIP service", strategy: Service{},
			obj: func() proto.Message {
				s := makeService()
				s.Spec.Ports[0].NodePort = 30080
				return s
			}(),
			wantField: "spec.ports[0].nodePort", wantType: field.ErrorTypeForbidden,
		},
		{
			name: "headless NodePort service", strategy: Service{},
			obj: func() proto.Message {
				s := makeService()
				s.Spec.Type = "NodePort"
				s.Spec.ClusterIp = "None"
				return s
			}(),
			wantField: "spec.clusterIPs[0]", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "bad clusterIP", strategy: Service{},
			obj: func() proto.Message {
				s := makeService()
				s.Spec.ClusterIp = "10.0.0.300"
				return s
			}(),
			wantField: "spec.clusterIPs[0]", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "bad service type", strategy: Service{},
			obj: func() proto.Message {
				s := makeService()
				s.Spec.Type = "Ingress"
				return s
			}(),
			wantField: "spec.type", wantType: field.ErrorTypeNotSupported,
		},
		{
			name: "bad selector label", strategy: Service{},
			obj: func() proto.Message {
				s := makeService()
				s.Spec.Selector = map[string]string{"app": "not a value"}
				return s
			}(),
			wantField: "spec.selector", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "namespace with an unqualified finalizer", strategy: Namespace{},
			obj: &corev1.Namespace{
				Metadata: &metav1.ObjectMeta{Name: "a"},
				Spec:     &corev1.NamespaceSpec{Finalizers: []string{"custom"}},
			},
			wantField: "spec.finalizers[0]", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "node taint effect", strategy: Node{},
			obj: &corev1.Node{
				Metadata: &metav1.ObjectMeta{Name: "n1"},
				Spec:     &corev1.NodeSpec{Taints: []*corev1.Taint{{Key: "k", Effect: "NoWay"}}},
			},
			wantField: "spec.taints[0].effect", wantType: field.ErrorTypeNotSupported,
		},
		{
			name: "node podCIDR", strategy: Node{},
			obj: &corev1.Node{
				Metadata: &metav1.ObjectMeta{Name: "n1"},
				Spec:     &corev1.NodeSpec{PodCidr: "10.244.1.0"},
			},
			wantField: "spec.podCIDR", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "event type", strategy: Event{},
			obj: &corev1.Event{
				Metadata:       &metav1.ObjectMeta{Name: "e", Namespace: "default"},
				InvolvedObject: &corev1.ObjectReference{Kind: "Pod", Name: "web", Namespace: "default"},
				Type:           "Error",
			},
			wantField: "type", wantType: field.ErrorTypeNotSupported,
		},
		{
			name: "event without involved object", strategy: Event{},
			obj:       &corev1.Event{Metadata: &metav1.ObjectMeta{Name: "e", Namespace: "default"}},
			wantField: "involvedObject", wantType: field.ErrorTypeRequired,
		},
		{
			name: "event in another namespace than its object", strategy: Event{},
			obj: &corev1.Event{
				Metadata:       &metav1.ObjectMeta{Name: "e", Namespace: "default"},
				InvolvedObject: &corev1.ObjectReference{Kind: "Pod", Name: "web", Namespace: "team-a"},
			},
			wantField: "involvedObject.namespace", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "lease duration", strategy: Lease{},
			obj: &coordinationv1.Lease{
				Metadata: &metav1.ObjectMeta{Name: "l", Namespace: "default"},
				Spec:     &coordinationv1.LeaseSpec{LeaseDurationSeconds: ptr.To(int32(0))},
			},
			wantField: "spec.leaseDurationSeconds", wantType: field.ErrorTypeInvalid,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := create(tt.strategy, proto.Clone(tt.obj))
			checkErrors(t, errs, tt.wantField, tt.wantType)
		})
	}
}

func checkErrors(t *testing.T, errs field.ErrorList, wantField string, wantType field.ErrorType) {
	t.Helper()
	if wantField == "" {
		if len(errs) > 0 {
			t.Errorf("errors = %v, want none", errs.ToAggregate())
		}
		return
	}
	for _, e := range errs {
		if e.Field == wantField && e.Type == wantType {
			return
		}
	}
	t.Errorf("errors = %v, want a %q error at %s", errs.ToAggregate(), wantType, wantField)
}

func TestValidateUpdate(t *testing.T) {
	tests := []struct {
		name      string
		run       func(t *testing.T) field.ErrorList
		wantField string
		wantType  field.ErrorType
	}{
		{
			name: "pod image may change",
			run: func(t *testing.T) field.ErrorList {
				return update(t, Pod{}, simplePod().Obj(), func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:1.28" })
			},
		},
		{
			name: "pod activeDeadlineSeconds may be set, tolerations added",
			run: func(t *testing.T) field.ErrorList {
				return update(t, Pod{}, simplePod().Obj(), func(p *corev1.Pod) {
					p.Spec.ActiveDeadlineSeconds = ptr.To(int64(60))
					p.Spec.Tolerations = append(p.Spec.Tolerations, &corev1.Toleration{Key: "gpu", Operator: "Exists"})
				})
			},
		},
		{
			name: "immutable pod spec change",
			run: func(t *testing.T) field.ErrorList {
				return update(t, Pod{}, simplePod().Obj(), func(p *corev1.Pod) { p.Spec.RestartPolicy = "Never" })
			},
			wantField: "spec", wantType: field.ErrorTypeForbidden,
		},
		{
			name: "pod nodeName may not be changed by update",
			run: func(t *testing.T) field.ErrorList {
				return update(t, Pod{}, simplePod().Node("n1").Obj(), func(p *corev1.Pod) { p.Spec.NodeName = "n2" })
			},
			wantField: "spec", wantType: field.ErrorTypeForbidden,
		},
		{
			name: "pod activeDeadlineSeconds may not grow",
			run: func(t *testing.T) field.ErrorList {
				old := simplePod().Obj()
				old.Spec.ActiveDeadlineSeconds = ptr.To(int64(60))
				return update(t, Pod{}, old, func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To(int64(120)) })
			},
			wantField: "spec.activeDeadlineSeconds", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "pod tolerations may not be removed",
			run: func(t *testing.T) field.ErrorList {
				old := simplePod().Toleration(&corev1.Toleration{Key: "gpu", Operator: "Exists"}).Obj()
				return update(t, Pod{}, old, func(p *corev1.Pod) { p.Spec.Tolerations = p.Spec.Tolerations[1:] })
			},
			wantField: "spec.tolerations", wantType: field.ErrorTypeForbidden,
		},
		{
			name: "pod containers may not be added",
			run: func(t *testing.T) field.ErrorList {
				return update(t, Pod{}, simplePod().Obj(), func(p *corev1.Pod) {
					p.Spec.Containers = append(p.Spec.Containers, makeContainer("side", "busybox").Obj())
				})
			},
			wantField: "spec.containers", wantType: field.ErrorTypeForbidden,
		},
		{
			name: "deployment may scale and change its template",
			run: func(t *testing.T) field.ErrorList {
				return update(t, Deployment{}, makeDeployment(), func(d *appsv1.Deployment) {
					d.Spec.Replicas = ptr.To(int32(5))
					d.Spec.Template.Spec.Containers[0].Image = "nginx:1.28"
				})
			},
		},
		{
			name: "immutable selector change (deployment)",
			run: func(t *testing.T) field.ErrorList {
				return update(t, Deployment{}, makeDeployment(), func(d *appsv1.Deployment) {
					d.Spec.Selector = matchLabels("app", "web", "tier", "front")
					d.Spec.Template.Metadata.Labels = map[string]string{"app": "web", "tier": "front"}
				})
			},
			wantField: "spec.selector", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "immutable selector change (replicaset)",
			run: func(t *testing.T) field.ErrorList {
				return update(t, ReplicaSet{}, makeReplicaSet(), func(rs *appsv1.ReplicaSet) {
					rs.Spec.Selector = matchLabels("app", "web", "tier", "front")
					rs.Spec.Template.Metadata.Labels = map[string]string{"app": "web", "tier": "front"}
				})
			},
			wantField: "spec.selector", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "job may be suspended and scaled",
			run: func(t *testing.T) field.ErrorList {
				return update(t, Job{}, makeJob(), func(j *batchv1.Job) {
					j.Spec.Suspend = ptr.To(true)
					j.Spec.Parallelism = ptr.To(int32(3))
				})
			},
		},
		{
			name: "job template is immutable",
			run: func(t *testing.T) field.ErrorList {
				return update(t, Job{}, makeJob(), func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "perl" })
			},
			wantField: "spec.template", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "job completions are immutable",
			run: func(t *testing.T) field.ErrorList {
				return update(t, Job{}, makeJob(), func(j *batchv1.Job) { j.Spec.Completions = ptr.To(int32(3)) })
			},
			wantField: "spec.completions", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "job selector is immutable",
			run: func(t *testing.T) field.ErrorList {
				return update(t, Job{}, makeJob(), func(j *batchv1.Job) { j.Spec.Selector.MatchLabels["extra"] = "x" })
			},
			wantField: "spec.selector", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "service clusterIP is immutable once set",
			run: func(t *testing.T) field.ErrorList {
				old := makeService()
				old.Spec.ClusterIp = "10.96.0.10"
				return update(t, Service{}, old, func(s *corev1.Service) {
					s.Spec.ClusterIp = "10.96.0.11"
					s.Spec.ClusterIps = nil
				})
			},
			wantField: "spec.clusterIPs[0]", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "service type may change",
			run: func(t *testing.T) field.ErrorList {
				old := makeService()
				old.Spec.ClusterIp = "10.96.0.10"
				return update(t, Service{}, old, func(s *corev1.Service) { s.Spec.Type = "NodePort" })
			},
		},
		{
			name: "namespace finalizers may not change while active",
			run: func(t *testing.T) field.ErrorList {
				old := &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "a"}}
				return update(t, Namespace{}, old, func(ns *corev1.Namespace) { ns.Spec.Finalizers = nil })
			},
			wantField: "spec.finalizers", wantType: field.ErrorTypeForbidden,
		},
		{
			name: "namespace finalizers may be cleared while terminating",
			run: func(t *testing.T) field.ErrorList {
				old := &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "a"}}
				create(Namespace{}, old)
				Namespace{}.PrepareForDelete(old)
				obj := clone(old)
				obj.Spec.Finalizers = nil
				return Namespace{}.ValidateUpdate(obj, old)
			},
		},
		{
			name: "node podCIDR is immutable once set",
			run: func(t *testing.T) field.ErrorList {
				old := &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n1"}, Spec: &corev1.NodeSpec{PodCidr: "10.244.1.0/24"}}
				return update(t, Node{}, old, func(n *corev1.Node) {
					n.Spec.PodCidr = "10.244.2.0/24"
					n.Spec.PodCidrs = nil
				})
			},
			wantField: "spec.podCIDR", wantType: field.ErrorTypeForbidden,
		},
		{
			name: "node podCIDR may be set once",
			run: func(t *testing.T) field.ErrorList {
				old := &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n1"}}
				return update(t, Node{}, old, func(n *corev1.Node) { n.Spec.PodCidr = "10.244.2.0/24" })
			},
		},
		{
			name: "cronjob schedule may change but must stay valid",
			run: func(t *testing.T) field.ErrorList {
				return update(t, CronJob{}, makeCronJob(), func(cj *batchv1.CronJob) { cj.Spec.Schedule = "61 * * * *" })
			},
			wantField: "spec.schedule", wantType: field.ErrorTypeInvalid,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErrors(t, tt.run(t), tt.wantField, tt.wantType)
		})
	}
}

func TestValidateStatusUpdate(t *testing.T) {
	tests := []struct {
		name      string
		strategy  registry.Strategy
		old       proto.Message
		change    func(proto.Message)
		wantField string
		wantType  field.ErrorType
	}{
		{
			name: "pod becomes Running", strategy: Pod{}, old: simplePod().Node("n1").Obj(),
			change: func(m proto.Message) {
				st := m.(*corev1.Pod).Status
				st.Phase = "Running"
				st.PodIp = "10.244.1.5"
				st.PodIps = []*corev1.PodIP{{Ip: "10.244.1.5"}}
				st.ContainerStatuses = []*corev1.ContainerStatus{{Name: "web", RestartCount: 2, Ready: true}}
			},
		},
		{
			name: "bad pod phase", strategy: Pod{}, old: simplePod().Obj(),
			change:    func(m proto.Message) { m.(*corev1.Pod).Status.Phase = "Sleeping" },
			wantField: "status.phase", wantType: field.ErrorTypeNotSupported,
		},
		{
			name: "negative restartCount", strategy: Pod{}, old: simplePod().Obj(),
			change: func(m proto.Message) {
				m.(*corev1.Pod).Status.ContainerStatuses = []*corev1.ContainerStatus{{Name: "web", RestartCount: -1}}
			},
			wantField: "status.containerStatuses[0].restartCount", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "bad pod IP", strategy: Pod{}, old: simplePod().Obj(),
			change:    func(m proto.Message) { m.(*corev1.Pod).Status.PodIp = "10.244.1" },
			wantField: "status.podIP", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "negative job count", strategy: Job{}, old: makeJob(),
			change:    func(m proto.Message) { m.(*batchv1.Job).Status.Failed = -1 },
			wantField: "status.failed", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "negative deployment count", strategy: Deployment{}, old: makeDeployment(),
			change:    func(m proto.Message) { m.(*appsv1.Deployment).Status.AvailableReplicas = -1 },
			wantField: "status.availableReplicas", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "replicaset ready beyond replicas", strategy: ReplicaSet{}, old: makeReplicaSet(),
			change:    func(m proto.Message) { m.(*appsv1.ReplicaSet).Status.ReadyReplicas = 2 },
			wantField: "status.readyReplicas", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "active namespace may not say Terminating", strategy: Namespace{},
			old:       &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "a"}},
			change:    func(m proto.Message) { m.(*corev1.Namespace).Status.Phase = "Terminating" },
			wantField: "status.phase", wantType: field.ErrorTypeInvalid,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := proto.Clone(tt.old)
			if errs := create(tt.strategy, old); len(errs) > 0 {
				t.Fatalf("old object is invalid: %v", errs)
			}
			obj := proto.Clone(old)
			tt.change(obj)
			checkErrors(t, tt.strategy.ValidateStatusUpdate(obj, old), tt.wantField, tt.wantType)
		})
	}
}
