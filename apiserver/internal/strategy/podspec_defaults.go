package strategy

import (
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// Kubernetes' default values.
const (
	defaultTerminationGracePeriod = int64(30)
	defaultSchedulerName          = "default-scheduler"
	defaultTerminationMessagePath = "/dev/termination-log"
	defaultTolerationSeconds      = int64(300)
	defaultClientIPTimeout        = int32(10800)

	taintNodeNotReady    = "node.kubernetes.io/not-ready"
	taintNodeUnreachable = "node.kubernetes.io/unreachable"
)

// defaultPodSpec applies the defaults every pod spec gets, in a pod or in a
// template (SetDefaults_PodSpec and the defaults of its parts).
func defaultPodSpec(spec *corev1.PodSpec) {
	if spec.DnsPolicy == "" {
		spec.DnsPolicy = "ClusterFirst"
	}
	if spec.RestartPolicy == "" {
		spec.RestartPolicy = "Always"
	}
	if spec.SecurityContext == nil {
		spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	if spec.TerminationGracePeriodSeconds == nil {
		spec.TerminationGracePeriodSeconds = ptr.To(defaultTerminationGracePeriod)
	}
	if spec.SchedulerName == "" {
		spec.SchedulerName = defaultSchedulerName
	}
	for _, v := range spec.Volumes {
		defaultVolume(v)
	}
	for _, c := range spec.InitContainers {
		defaultContainer(c)
	}
	for _, c := range spec.Containers {
		defaultContainer(c)
	}
}

func defaultVolume(v *corev1.Volume) {
	if v.HostPath == nil && v.EmptyDir == nil && v.DownwardApi == nil {
		v.EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
	if v.HostPath != nil && v.HostPath.Type == nil {
		v.HostPath.Type = ptr.To("")
	}
	if d := v.DownwardApi; d != nil {
		if d.DefaultMode == nil {
			d.DefaultMode = ptr.To(int32(0o644))
		}
		for _, item := range d.Items {
			if item.FieldRef != nil && item.FieldRef.ApiVersion == "" {
				item.FieldRef.ApiVersion = "v1"
			}
			defaultResourceFieldRef(item.ResourceFieldRef)
		}
	}
}

func defaultResourceFieldRef(r *corev1.ResourceFieldSelector) {
	if r != nil && r.Divisor == nil {
		r.Divisor = &metav1.Quantity{Value: "0"}
	}
}

func defaultContainer(c *corev1.Container) {
	if c.ImagePullPolicy == "" {
		if imageTag(c.Image) == "latest" {
			c.ImagePullPolicy = "Always"
		} else {
			c.ImagePullPolicy = "IfNotPresent"
		}
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = defaultTerminationMessagePath
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = "File"
	}
	for _, p := range c.Ports {
		if p.Protocol == "" {
			p.Protocol = "TCP"
		}
	}
	for _, e := range c.Env {
		if f := e.GetValueFrom().GetFieldRef(); f != nil && f.ApiVersion == "" {
			f.ApiVersion = "v1"
		}
		defaultResourceFieldRef(e.GetValueFrom().GetResourceFieldRef())
	}
	defaultProbe(c.LivenessProbe)
	defaultProbe(c.ReadinessProbe)
	defaultProbe(c.StartupProbe)
	if l := c.Lifecycle; l != nil {
		defaultHTTPGet(l.PostStart.GetHttpGet())
		defaultHTTPGet(l.PreStop.GetHttpGet())
	}
}

func defaultProbe(p *corev1.Probe) {
	if p == nil {
		return
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	defaultHTTPGet(p.HttpGet)
	if p.Grpc != nil && p.Grpc.Service == nil {
		p.Grpc.Service = ptr.To("")
	}
}

func defaultHTTPGet(h *corev1.HTTPGetAction) {
	if h == nil {
		return
	}
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Scheme == "" {
		h.Scheme = "HTTP"
	}
}

// imageTag returns the tag of an image reference as Kubernetes' image
// parser does: "latest" when neither a tag nor a digest is given, "" when
// only a digest is.
func imageTag(image string) string {
	digest := false
	if i := strings.Index(image, "@"); i >= 0 {
		image, digest = image[:i], true
	}
	if colon := strings.LastIndex(image, ":"); colon > strings.LastIndex(image, "/") {
		return image[colon+1:]
	}
	if digest {
		return ""
	}
	return "latest"
}

// defaultPodOnly applies what Kubernetes applies to pods but not to pod
// templates: requests defaulted from limits, enableServiceLinks, host ports
// on the host network (SetDefaults_Pod), the service account (the
// ServiceAccount admission plugin), priority (the Priority admission
// plugin) and the not-ready/unreachable tolerations (DefaultTolerationSeconds).
func defaultPodOnly(spec *corev1.PodSpec) {
	for _, c := range append(append([]*corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		r := c.Resources
		if r == nil || len(r.Limits) == 0 {
			continue
		}
		if r.Requests == nil {
			r.Requests = map[string]*metav1.Quantity{}
		}
		for name, q := range r.Limits {
			if _, err := resource.ParseQuantity(q.GetValue()); err != nil {
				continue // validation reports it once, at the limit
			}
			if _, ok := r.Requests[name]; !ok {
				r.Requests[name] = &metav1.Quantity{Value: q.GetValue()}
			}
		}
	}
	if spec.EnableServiceLinks == nil {
		spec.EnableServiceLinks = ptr.To(true)
	}
	if spec.HostNetwork {
		for _, c := range append(append([]*corev1.Container{}, spec.InitContainers...), spec.Containers...) {
			for _, p := range c.Ports {
				if p.HostPort == 0 {
					p.HostPort = p.ContainerPort
				}
			}
		}
	}
	if spec.ServiceAccountName == "" {
		spec.ServiceAccountName = "default"
	}
	if spec.Priority == nil {
		spec.Priority = ptr.To(builtinPriorityClasses[spec.PriorityClassName])
	}
	if spec.PreemptionPolicy == nil {
		spec.PreemptionPolicy = ptr.To("PreemptLowerPriority")
	}
	defaultTolerations(spec)
}

// builtinPriorityClasses are the priority classes every Kubernetes cluster
// has; "" is a pod without one (no global default class exists).
var builtinPriorityClasses = map[string]int32{
	"":                        0,
	"system-cluster-critical": 2000000000,
	"system-node-critical":    2000001000,
}

// defaultTolerations adds Kubernetes' DefaultTolerationSeconds admission:
// a pod tolerates the not-ready and unreachable NoExecute taints for 300s
// unless it already tolerates them.
func defaultTolerations(spec *corev1.PodSpec) {
	notReady, unreachable := false, false
	for _, t := range spec.Tolerations {
		if t.Effect != "" && t.Effect != "NoExecute" {
			continue
		}
		if t.Key == "" || t.Key == taintNodeNotReady {
			notReady = true
		}
		if t.Key == "" || t.Key == taintNodeUnreachable {
			unreachable = true
		}
	}
	if !notReady {
		spec.Tolerations = append(spec.Tolerations, &corev1.Toleration{
			Key: taintNodeNotReady, Operator: "Exists", Effect: "NoExecute", TolerationSeconds: ptr.To(defaultTolerationSeconds),
		})
	}
	if !unreachable {
		spec.Tolerations = append(spec.Tolerations, &corev1.Toleration{
			Key: taintNodeUnreachable, Operator: "Exists", Effect: "NoExecute", TolerationSeconds: ptr.To(defaultTolerationSeconds),
		})
	}
}
