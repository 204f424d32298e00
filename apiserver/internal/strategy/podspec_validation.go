package strategy

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

var (
	portProtocols    = []string{"SCTP", "TCP", "UDP"}
	restartPolicies  = []string{"Always", "OnFailure", "Never"}
	pullPolicies     = []string{"Always", "IfNotPresent", "Never"}
	dnsPolicies      = []string{"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"}
	taintEffects     = []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}
	hostPathTypes    = []string{"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"}
	nodeSelectorOps  = []string{"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"}
	envFieldPaths    = []string{"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"}
	volumeFieldPaths = []string{"metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"}
	resourceFields   = []string{"limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"}
	sysctlRegexp     = regexp.MustCompile(`^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$`)
	subscriptRegexp  = regexp.MustCompile(`^(metadata\.(?:labels|annotations))\['(.*)'\]$`)
)

// validatePodSpec checks a pod spec, in a pod or a template, at path p.
func validatePodSpec(spec *corev1.PodSpec, p *field.Path) field.ErrorList {
	if spec == nil {
		return field.ErrorList{field.Required(p, "")}
	}
	var errs field.ErrorList
	volumes, verrs := validateVolumes(spec.Volumes, p.Child("volumes"))
	errs = append(errs, verrs...)
	errs = append(errs, validateContainers(spec, volumes, p)...)
	errs = append(errs, oneOf(spec.RestartPolicy, p.Child("restartPolicy"), restartPolicies...)...)
	errs = append(errs, oneOf(spec.DnsPolicy, p.Child("dnsPolicy"), dnsPolicies...)...)
	errs = append(errs, validateDNSConfig(spec, p.Child("dnsConfig"))...)
	errs = append(errs, metavalidation.ValidateLabels(spec.NodeSelector, p.Child("nodeSelector"))...)
	if spec.ServiceAccountName != "" {
		errs = append(errs, dns1123Subdomain(spec.ServiceAccountName, p.Child("serviceAccountName"))...)
	}
	if spec.NodeName != "" {
		errs = append(errs, dns1123Subdomain(spec.NodeName, p.Child("nodeName"))...)
	}
	if spec.Hostname != "" {
		errs = append(errs, dns1123Label(spec.Hostname, p.Child("hostname"))...)
	}
	if spec.Subdomain != "" {
		errs = append(errs, dns1123Label(spec.Subdomain, p.Child("subdomain"))...)
	}
	if spec.SchedulerName != "" {
		errs = append(errs, dns1123Subdomain(spec.SchedulerName, p.Child("schedulerName"))...)
	}
	errs = append(errs, nonNegativePtr(spec.TerminationGracePeriodSeconds, p.Child("terminationGracePeriodSeconds"))...)
	if v := spec.ActiveDeadlineSeconds; v != nil && (*v < 1 || *v > math.MaxInt32) {
		errs = append(errs, field.Invalid(p.Child("activeDeadlineSeconds"), *v, validation.InclusiveRangeError(1, math.MaxInt32)))
	}
	if spec.GetShareProcessNamespace() && spec.HostPid {
		errs = append(errs, field.Invalid(p.Child("shareProcessNamespace"), true, "ShareProcessNamespace and HostPID cannot both be enabled"))
	}
	errs = append(errs, validatePodSecurityContext(spec.SecurityContext, p.Child("securityContext"))...)
	errs = append(errs, validateAffinity(spec.Affinity, p.Child("affinity"))...)
	errs = append(errs, validateTolerations(spec.Tolerations, p.Child("tolerations"))...)
	for i, a := range spec.HostAliases {
		ap := p.Child("hostAliases").Index(i)
		errs = append(errs, validation.IsValidIP(ap.Child("ip"), a.Ip)...)
		for j, h := range a.Hostnames {
			errs = append(errs, dns1123Subdomain(h, ap.Child("hostnames").Index(j))...)
		}
	}
	if spec.PriorityClassName != "" {
		errs = append(errs, dns1123Subdomain(spec.PriorityClassName, p.Child("priorityClassName"))...)
	}
	if spec.PreemptionPolicy != nil {
		errs = append(errs, oneOf(*spec.PreemptionPolicy, p.Child("preemptionPolicy"), "PreemptLowerPriority", "Never")...)
	}
	for i, g := range spec.ReadinessGates {
		errs = append(errs, qualifiedName(g.ConditionType, p.Child("readinessGates").Index(i).Child("conditionType"))...)
	}
	errs = append(errs, validateSchedulingGates(spec.SchedulingGates, p.Child("schedulingGates"))...)
	errs = append(errs, validateTopologySpread(spec.TopologySpreadConstraints, p.Child("topologySpreadConstraints"))...)
	return errs
}

func validateSchedulingGates(gates []*corev1.PodSchedulingGate, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, g := range gates {
		errs = append(errs, qualifiedName(g.Name, p.Index(i))...)
		if seen.Has(g.Name) {
			errs = append(errs, field.Duplicate(p.Index(i), g.Name))
		}
		seen.Insert(g.Name)
	}
	return errs
}

// validateVolumes checks the volumes and returns the set of their names.
func validateVolumes(volumes []*corev1.Volume, p *field.Path) (sets.Set[string], field.ErrorList) {
	var errs field.ErrorList
	names := sets.New[string]()
	for i, v := range volumes {
		vp := p.Index(i)
		if v.Name == "" {
			errs = append(errs, field.Required(vp.Child("name"), ""))
		} else {
			errs = append(errs, dns1123Label(v.Name, vp.Child("name"))...)
		}
		if names.Has(v.Name) {
			errs = append(errs, field.Duplicate(vp.Child("name"), v.Name))
		}
		names.Insert(v.Name)
		errs = append(errs, validateVolumeSource(v, vp)...)
	}
	return names, errs
}

func validateVolumeSource(v *corev1.Volume, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	if h := v.HostPath; h != nil {
		n++
		hp := p.Child("hostPath")
		if h.Path == "" {
			errs = append(errs, field.Required(hp.Child("path"), ""))
		} else if slices.Contains(strings.Split(h.Path, "/"), "..") {
			errs = append(errs, field.Invalid(hp.Child("path"), h.Path, "must not contain '..'"))
		}
		if h.Type != nil && !slices.Contains(hostPathTypes, *h.Type) {
			errs = append(errs, field.NotSupported(hp.Child("type"), *h.Type, hostPathTypes))
		}
	}
	if e := v.EmptyDir; e != nil {
		if n > 0 {
			errs = append(errs, field.Forbidden(p.Child("emptyDir"), "may not specify more than 1 volume type"))
		} else {
			n++
			ep := p.Child("emptyDir")
			if e.Medium != "" && e.Medium != "Memory" && e.Medium != "HugePages" && !strings.HasPrefix(e.Medium, "HugePages-") {
				errs = append(errs, field.NotSupported(ep.Child("medium"), e.Medium, []string{"", "Memory", "HugePages"}))
			}
			if e.SizeLimit != nil {
				errs = append(errs, nonNegativeQuantity(e.SizeLimit, ep.Child("sizeLimit"))...)
			}
		}
	}
	if d := v.DownwardApi; d != nil {
		if n > 0 {
			errs = append(errs, field.Forbidden(p.Child("downwardAPI"), "may not specify more than 1 volume type"))
		} else {
			n++
			errs = append(errs, validateDownwardAPIVolume(d, p.Child("downwardAPI"))...)
		}
	}
	if n == 0 {
		errs = append(errs, field.Required(p, "must specify a volume type"))
	}
	return errs
}

func validateFileMode(mode *int32, p *field.Path) field.ErrorList {
	if mode != nil && (*mode < 0 || *mode > 0o777) {
		return field.ErrorList{field.Invalid(p, *mode, "must be a number between 0 and 0777 (octal), both inclusive")}
	}
	return nil
}

func validateDownwardAPIVolume(d *corev1.DownwardAPIVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateFileMode(d.DefaultMode, p.Child("defaultMode"))...)
	for i, item := range d.Items {
		ip := p.Child("items").Index(i)
		if item.Path == "" {
			errs = append(errs, field.Required(ip.Child("path"), ""))
		} else {
			errs = append(errs, localDescendingPath(item.Path, ip.Child("path"))...)
			if strings.HasPrefix(item.Path, "..") {
				errs = append(errs, field.Invalid(ip.Child("path"), item.Path, "must not start with '..'"))
			}
		}
		errs = append(errs, validateFileMode(item.Mode, ip.Child("mode"))...)
		switch {
		case item.FieldRef != nil && item.ResourceFieldRef != nil:
			errs = append(errs, field.Invalid(ip, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
		case item.FieldRef != nil:
			errs = append(errs, validateFieldSelector(item.FieldRef, volumeFieldPaths, ip.Child("fieldRef"))...)
		case item.ResourceFieldRef != nil:
			errs = append(errs, validateResourceFieldSelector(item.ResourceFieldRef, true, ip.Child("resourceFieldRef"))...)
		default:
			errs = append(errs, field.Required(ip, "one of fieldRef and resourceFieldRef is required"))
		}
	}
	return errs
}

func validateFieldSelector(f *corev1.ObjectFieldSelector, allowed []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if f.ApiVersion == "" {
		errs = append(errs, field.Required(p.Child("apiVersion"), ""))
	} else if f.ApiVersion != "v1" {
		errs = append(errs, field.NotSupported(p.Child("apiVersion"), f.ApiVersion, []string{"v1"}))
	}
	if f.FieldPath == "" {
		return append(errs, field.Required(p.Child("fieldPath"), ""))
	}
	if m := subscriptRegexp.FindStringSubmatch(f.FieldPath); m != nil {
		key := m[2]
		if m[1] == "metadata.annotations" {
			key = strings.ToLower(key)
		}
		return append(errs, invalidMsgs(p.Child("fieldPath"), f.FieldPath, validation.IsQualifiedName(key))...)
	}
	if !slices.Contains(allowed, f.FieldPath) {
		errs = append(errs, field.NotSupported(p.Child("fieldPath"), f.FieldPath, allowed))
	}
	return errs
}

func validateResourceFieldSelector(r *corev1.ResourceFieldSelector, containerRequired bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if containerRequired && r.ContainerName == "" {
		errs = append(errs, field.Required(p.Child("containerName"), ""))
	}
	switch {
	case r.Resource == "":
		errs = append(errs, field.Required(p.Child("resource"), ""))
	case slices.Contains(resourceFields, r.Resource), strings.HasPrefix(r.Resource, "limits.hugepages-"), strings.HasPrefix(r.Resource, "requests.hugepages-"):
	default:
		errs = append(errs, field.NotSupported(p.Child("resource"), r.Resource, resourceFields))
	}
	if r.Divisor != nil {
		errs = append(errs, nonNegativeQuantity(r.Divisor, p.Child("divisor"))...)
	}
	return errs
}

// validateContainers checks init containers and containers, whose names are
// unique across both.
func validateContainers(spec *corev1.PodSpec, volumes sets.Set[string], p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	hostPorts := sets.New[string]()
	for i, c := range spec.InitContainers {
		cp := p.Child("initContainers").Index(i)
		errs = append(errs, validateContainer(c, spec, volumes, names, cp)...)
		sidecar := c.RestartPolicy != nil && *c.RestartPolicy == "Always"
		if c.RestartPolicy != nil {
			errs = append(errs, oneOf(*c.RestartPolicy, cp.Child("restartPolicy"), "Always")...)
		}
		if !sidecar {
			const why = "may not be set for init containers without restartPolicy=Always"
			if c.Lifecycle != nil {
				errs = append(errs, field.Forbidden(cp.Child("lifecycle"), why))
			}
			if c.LivenessProbe != nil {
				errs = append(errs, field.Forbidden(cp.Child("livenessProbe"), why))
			}
			if c.ReadinessProbe != nil {
				errs = append(errs, field.Forbidden(cp.Child("readinessProbe"), why))
			}
			if c.StartupProbe != nil {
				errs = append(errs, field.Forbidden(cp.Child("startupProbe"), why))
			}
		}
		errs = append(errs, uniqueHostPorts(c, hostPorts, cp)...)
	}
	if len(spec.Containers) == 0 {
		errs = append(errs, field.Required(p.Child("containers"), ""))
	}
	for i, c := range spec.Containers {
		cp := p.Child("containers").Index(i)
		errs = append(errs, validateContainer(c, spec, volumes, names, cp)...)
		if c.RestartPolicy != nil {
			errs = append(errs, field.Forbidden(cp.Child("restartPolicy"), "may not be set for non-init containers"))
		}
		errs = append(errs, uniqueHostPorts(c, hostPorts, cp)...)
	}
	return errs
}

// uniqueHostPorts reports a host port (with its protocol and address) used
// twice in the pod.
func uniqueHostPorts(c *corev1.Container, seen sets.Set[string], p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, port := range c.Ports {
		if port.HostPort == 0 {
			continue
		}
		key := fmt.Sprintf("%s/%s/%d", port.Protocol, port.HostIp, port.HostPort)
		if seen.Has(key) {
			errs = append(errs, field.Duplicate(p.Child("ports").Index(i).Child("hostPort"), key))
		}
		seen.Insert(key)
	}
	return errs
}

func validateContainer(c *corev1.Container, spec *corev1.PodSpec, volumes, names sets.Set[string], p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case c.Name == "":
		errs = append(errs, field.Required(p.Child("name"), ""))
	case names.Has(c.Name):
		errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
	default:
		errs = append(errs, dns1123Label(c.Name, p.Child("name"))...)
	}
	names.Insert(c.Name)
	if c.Image == "" {
		errs = append(errs, field.Required(p.Child("image"), ""))
	} else if strings.TrimSpace(c.Image) != c.Image {
		errs = append(errs, field.Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	errs = append(errs, oneOf(c.ImagePullPolicy, p.Child("imagePullPolicy"), pullPolicies...)...)
	errs = append(errs, oneOf(c.TerminationMessagePolicy, p.Child("terminationMessagePolicy"), "File", "FallbackToLogsOnError")...)
	errs = append(errs, validateContainerPorts(c.Ports, spec.HostNetwork, p.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, p.Child("env"))...)
	errs = append(errs, validateResources(c.Resources, p.Child("resources"))...)
	errs = append(errs, validateVolumeMounts(c.VolumeMounts, volumes, p.Child("volumeMounts"))...)
	grace := spec.TerminationGracePeriodSeconds
	errs = append(errs, validateProbe(c.LivenessProbe, true, p.Child("livenessProbe"))...)
	errs = append(errs, validateProbe(c.ReadinessProbe, false, p.Child("readinessProbe"))...)
	errs = append(errs, validateProbe(c.StartupProbe, true, p.Child("startupProbe"))...)
	if l := c.Lifecycle; l != nil {
		if l.PostStart != nil {
			errs = append(errs, validateLifecycleHandler(l.PostStart, grace, p.Child("lifecycle", "postStart"))...)
		}
		if l.PreStop != nil {
			errs = append(errs, validateLifecycleHandler(l.PreStop, grace, p.Child("lifecycle", "preStop"))...)
		}
	}
	errs = append(errs, validateSecurityContext(c.SecurityContext, p.Child("securityContext"))...)
	if c.StdinOnce && !c.Stdin {
		errs = append(errs, field.Invalid(p.Child("stdinOnce"), true, "must be false when `stdin` is false"))
	}
	return errs
}

func validateContainerPorts(ports []*corev1.ContainerPort, hostNetwork bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for i, port := range ports {
		pp := p.Index(i)
		if port.Name != "" {
			if msgs := validation.IsValidPortName(port.Name); len(msgs) > 0 {
				errs = append(errs, invalidMsgs(pp.Child("name"), port.Name, msgs)...)
			} else if names.Has(port.Name) {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			names.Insert(port.Name)
		}
		if port.ContainerPort == 0 {
			errs = append(errs, field.Required(pp.Child("containerPort"), ""))
		} else {
			errs = append(errs, validPort(port.ContainerPort, pp.Child("containerPort"))...)
		}
		if port.HostPort != 0 {
			errs = append(errs, validPort(port.HostPort, pp.Child("hostPort"))...)
		}
		if hostNetwork && port.HostPort != 0 && port.HostPort != port.ContainerPort {
			errs = append(errs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, "must match `hostPort` when `hostNetwork` is true"))
		}
		errs = append(errs, oneOf(port.Protocol, pp.Child("protocol"), portProtocols...)...)
		if port.HostIp != "" {
			errs = append(errs, validation.IsValidIP(pp.Child("hostIP"), port.HostIp)...)
		}
	}
	return errs
}

func validateEnv(env []*corev1.EnvVar, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, e := range env {
		ep := p.Index(i)
		if e.Name == "" {
			errs = append(errs, field.Required(ep.Child("name"), ""))
		} else {
			errs = append(errs, invalidMsgs(ep.Child("name"), e.Name, validation.IsRelaxedEnvVarName(e.Name))...)
		}
		from := e.ValueFrom
		if from == nil {
			continue
		}
		fp := ep.Child("valueFrom")
		n := 0
		if from.FieldRef != nil {
			n++
			errs = append(errs, validateFieldSelector(from.FieldRef, envFieldPaths, fp.Child("fieldRef"))...)
		}
		if from.ResourceFieldRef != nil {
			n++
			errs = append(errs, validateResourceFieldSelector(from.ResourceFieldRef, false, fp.Child("resourceFieldRef"))...)
		}
		switch {
		case n == 0:
			errs = append(errs, field.Invalid(fp, "", "must specify one of: `fieldRef` or `resourceFieldRef`"))
		case e.Value != "":
			errs = append(errs, field.Invalid(fp, "", "may not be specified when `value` is not empty"))
		case n > 1:
			errs = append(errs, field.Invalid(fp, "", "may not have more than one field specified at a time"))
		}
	}
	return errs
}

// Resource names as Kubernetes' helpers classify them.
func isNativeResource(name string) bool {
	return !strings.Contains(name, "/") || strings.Contains(name, "kubernetes.io/")
}

func isHugePages(name string) bool { return strings.HasPrefix(name, "hugepages-") }

func isOvercommitAllowed(name string) bool { return isNativeResource(name) && !isHugePages(name) }

func validateResourceName(name string, p *field.Path) field.ErrorList {
	errs := qualifiedName(name, p)
	if len(errs) > 0 {
		return errs
	}
	if !strings.Contains(name, "/") {
		if name != "cpu" && name != "memory" && name != "ephemeral-storage" && !isHugePages(name) {
			errs = append(errs, field.Invalid(p, name, "must be a standard resource for containers"))
		}
	} else if !isNativeResource(name) && strings.HasPrefix(name, "requests.") {
		errs = append(errs, field.Invalid(p, name, "doesn't follow extended resource name standard"))
	}
	return errs
}

func validateResourceQuantity(name string, q *metav1.Quantity, p *field.Path) (resource.Quantity, field.ErrorList) {
	v, errs := parseQuantity(q, p)
	if errs != nil {
		return v, errs
	}
	if v.Sign() < 0 {
		return v, field.ErrorList{field.Invalid(p, q.GetValue(), msgNegative)}
	}
	if !isNativeResource(name) && v.MilliValue()%1000 != 0 {
		return v, field.ErrorList{field.Invalid(p, q.GetValue(), "must be an integer")}
	}
	return v, nil
}

// validateResources checks names, quantities and requests <= limits.
func validateResources(r *corev1.ResourceRequirements, p *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	limPath, reqPath := p.Child("limits"), p.Child("requests")
	limits := map[string]resource.Quantity{}
	for _, name := range sortedKeys(r.Limits) {
		kp := limPath.Key(name)
		errs = append(errs, validateResourceName(name, kp)...)
		v, qerrs := validateResourceQuantity(name, r.Limits[name], kp)
		errs = append(errs, qerrs...)
		if qerrs == nil {
			limits[name] = v
		}
	}
	for _, name := range sortedKeys(r.Requests) {
		kp := reqPath.Key(name)
		errs = append(errs, validateResourceName(name, kp)...)
		v, qerrs := validateResourceQuantity(name, r.Requests[name], kp)
		errs = append(errs, qerrs...)
		if qerrs != nil {
			continue
		}
		if lim, ok := limits[name]; ok {
			if v.Cmp(lim) != 0 && !isOvercommitAllowed(name) {
				errs = append(errs, field.Invalid(reqPath, v.String(), fmt.Sprintf("must be equal to %s limit of %s", name, lim.String())))
			} else if v.Cmp(lim) > 0 {
				errs = append(errs, field.Invalid(reqPath, v.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, lim.String())))
			}
		} else if _, given := r.Limits[name]; !given && !isOvercommitAllowed(name) {
			errs = append(errs, field.Required(limPath, "Limit must be set for non overcommitable resources"))
		}
	}
	return errs
}

func validateVolumeMounts(mounts []*corev1.VolumeMount, volumes sets.Set[string], p *field.Path) field.ErrorList {
	var errs field.ErrorList
	paths := sets.New[string]()
	for i, m := range mounts {
		mp := p.Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(mp.Child("name"), ""))
		} else if !volumes.Has(m.Name) {
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(mp.Child("mountPath"), ""))
		} else if paths.Has(m.MountPath) {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		paths.Insert(m.MountPath)
		if m.SubPath != "" {
			errs = append(errs, localDescendingPath(m.SubPath, mp.Child("subPath"))...)
		}
		if m.SubPathExpr != "" {
			if m.SubPath != "" {
				errs = append(errs, field.Invalid(mp.Child("subPathExpr"), m.SubPathExpr, "subPathExpr and subPath are mutually exclusive"))
			}
			errs = append(errs, localDescendingPath(m.SubPathExpr, mp.Child("subPathExpr"))...)
		}
	}
	return errs
}

func validateProbe(pr *corev1.Probe, mustSucceedOnce bool, p *field.Path) field.ErrorList {
	if pr == nil {
		return nil
	}
	var errs field.ErrorList
	n := 0
	handler := func(set bool, name string, check func(*field.Path) field.ErrorList) {
		if !set {
			return
		}
		if n > 0 {
			errs = append(errs, field.Forbidden(p.Child(name), "may not specify more than 1 handler type"))
			return
		}
		n++
		errs = append(errs, check(p.Child(name))...)
	}
	handler(pr.Exec != nil, "exec", func(hp *field.Path) field.ErrorList { return validateExec(pr.Exec, hp) })
	handler(pr.HttpGet != nil, "httpGet", func(hp *field.Path) field.ErrorList { return validateHTTPGet(pr.HttpGet, hp) })
	handler(pr.TcpSocket != nil, "tcpSocket", func(hp *field.Path) field.ErrorList { return portNumOrName(pr.TcpSocket.Port, hp.Child("port")) })
	handler(pr.Grpc != nil, "grpc", func(hp *field.Path) field.ErrorList { return validPort(pr.Grpc.Port, hp.Child("port")) })
	if n == 0 {
		errs = append(errs, field.Required(p, "must specify a handler type"))
	}
	errs = append(errs, nonNegative(int64(pr.InitialDelaySeconds), p.Child("initialDelaySeconds"))...)
	errs = append(errs, nonNegative(int64(pr.TimeoutSeconds), p.Child("timeoutSeconds"))...)
	errs = append(errs, nonNegative(int64(pr.PeriodSeconds), p.Child("periodSeconds"))...)
	errs = append(errs, nonNegative(int64(pr.SuccessThreshold), p.Child("successThreshold"))...)
	errs = append(errs, nonNegative(int64(pr.FailureThreshold), p.Child("failureThreshold"))...)
	if mustSucceedOnce && pr.SuccessThreshold != 1 {
		errs = append(errs, field.Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
	}
	if g := pr.TerminationGracePeriodSeconds; g != nil {
		if !mustSucceedOnce {
			errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *g, "must not be set for readinessProbes"))
		} else if *g <= 0 {
			errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *g, "must be greater than 0"))
		}
	}
	return errs
}

func validateLifecycleHandler(h *corev1.LifecycleHandler, grace *int64, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	handler := func(set bool, name string, check func(*field.Path) field.ErrorList) {
		if !set {
			return
		}
		if n > 0 {
			errs = append(errs, field.Forbidden(p.Child(name), "may not specify more than 1 handler type"))
			return
		}
		n++
		errs = append(errs, check(p.Child(name))...)
	}
	handler(h.Exec != nil, "exec", func(hp *field.Path) field.ErrorList { return validateExec(h.Exec, hp) })
	handler(h.HttpGet != nil, "httpGet", func(hp *field.Path) field.ErrorList { return validateHTTPGet(h.HttpGet, hp) })
	handler(h.TcpSocket != nil, "tcpSocket", func(hp *field.Path) field.ErrorList { return portNumOrName(h.TcpSocket.Port, hp.Child("port")) })
	handler(h.Sleep != nil, "sleep", func(hp *field.Path) field.ErrorList {
		max := defaultTerminationGracePeriod
		if grace != nil {
			max = *grace
		}
		if s := h.Sleep.Seconds; s < 0 || s > max {
			return field.ErrorList{field.Invalid(hp.Child("seconds"), s, fmt.Sprintf("must be non-negative and less than terminationGracePeriodSeconds (%d)", max))}
		}
		return nil
	})
	if n == 0 {
		errs = append(errs, field.Required(p, "must specify a handler type"))
	}
	return errs
}

func validateExec(e *corev1.ExecAction, p *field.Path) field.ErrorList {
	if len(e.Command) == 0 {
		return field.ErrorList{field.Required(p.Child("command"), "")}
	}
	return nil
}

func validateHTTPGet(h *corev1.HTTPGetAction, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if h.Path == "" {
		errs = append(errs, field.Required(p.Child("path"), ""))
	}
	errs = append(errs, portNumOrName(h.Port, p.Child("port"))...)
	errs = append(errs, oneOf(h.Scheme, p.Child("scheme"), "HTTP", "HTTPS")...)
	for i, hdr := range h.HttpHeaders {
		errs = append(errs, invalidMsgs(p.Child("httpHeaders").Index(i).Child("name"), hdr.Name, validation.IsHTTPHeaderName(hdr.Name))...)
	}
	return errs
}

func validateSecurityContext(sc *corev1.SecurityContext, p *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	var errs field.ErrorList
	if sc.RunAsUser != nil {
		errs = append(errs, invalidMsgs(p.Child("runAsUser"), *sc.RunAsUser, validation.IsValidUserID(*sc.RunAsUser))...)
	}
	if sc.RunAsGroup != nil {
		errs = append(errs, invalidMsgs(p.Child("runAsGroup"), *sc.RunAsGroup, validation.IsValidGroupID(*sc.RunAsGroup))...)
	}
	if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		if sc.GetPrivileged() {
			errs = append(errs, field.Invalid(p, sc.String(), "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
		}
		if sc.Capabilities != nil && slices.Contains(sc.Capabilities.Add, "CAP_SYS_ADMIN") {
			errs = append(errs, field.Invalid(p, sc.String(), "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
		}
	}
	return errs
}

func validatePodSecurityContext(sc *corev1.PodSecurityContext, p *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	var errs field.ErrorList
	if sc.RunAsUser != nil {
		errs = append(errs, invalidMsgs(p.Child("runAsUser"), *sc.RunAsUser, validation.IsValidUserID(*sc.RunAsUser))...)
	}
	if sc.RunAsGroup != nil {
		errs = append(errs, invalidMsgs(p.Child("runAsGroup"), *sc.RunAsGroup, validation.IsValidGroupID(*sc.RunAsGroup))...)
	}
	if sc.FsGroup != nil {
		errs = append(errs, invalidMsgs(p.Child("fsGroup"), *sc.FsGroup, validation.IsValidGroupID(*sc.FsGroup))...)
	}
	for i, g := range sc.SupplementalGroups {
		errs = append(errs, invalidMsgs(p.Child("supplementalGroups").Index(i), g, validation.IsValidGroupID(g))...)
	}
	if sc.FsGroupChangePolicy != nil {
		errs = append(errs, oneOf(*sc.FsGroupChangePolicy, p.Child("fsGroupChangePolicy"), "OnRootMismatch", "Always")...)
	}
	names := sets.New[string]()
	for i, s := range sc.Sysctls {
		sp := p.Child("sysctls").Index(i)
		switch {
		case s.Name == "":
			errs = append(errs, field.Required(sp.Child("name"), ""))
		case len(s.Name) > 253 || !sysctlRegexp.MatchString(s.Name):
			errs = append(errs, field.Invalid(sp.Child("name"), s.Name, fmt.Sprintf("must have at most 253 characters and match regex %s", sysctlRegexp)))
		case names.Has(s.Name):
			errs = append(errs, field.Duplicate(sp.Child("name"), s.Name))
		}
		names.Insert(s.Name)
	}
	return errs
}

func validateDNSConfig(spec *corev1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	c := spec.DnsConfig
	if spec.DnsPolicy == "None" {
		if c == nil {
			return field.ErrorList{field.Required(p, "must provide `dnsConfig` when `dnsPolicy` is None")}
		}
		if len(c.Nameservers) == 0 {
			return field.ErrorList{field.Required(p.Child("nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None")}
		}
	}
	if c == nil {
		return nil
	}
	if len(c.Nameservers) > 3 {
		errs = append(errs, field.Invalid(p.Child("nameservers"), c.Nameservers, "must not have more than 3 nameservers"))
	}
	for i, ns := range c.Nameservers {
		errs = append(errs, validation.IsValidIP(p.Child("nameservers").Index(i), ns)...)
	}
	if len(c.Searches) > 32 {
		errs = append(errs, field.Invalid(p.Child("searches"), c.Searches, "must not have more than 32 search paths"))
	}
	if len(strings.Join(c.Searches, " ")) > 2048 {
		errs = append(errs, field.Invalid(p.Child("searches"), c.Searches, "must not have more than 2048 characters (including spaces) in the search list"))
	}
	for i, s := range c.Searches {
		if s == "." {
			continue
		}
		errs = append(errs, dns1123Subdomain(strings.TrimSuffix(s, "."), p.Child("searches").Index(i))...)
	}
	for i, o := range c.Options {
		if o.Name == "" {
			errs = append(errs, field.Required(p.Child("options").Index(i), "Option.Name must not be empty"))
		}
	}
	return errs
}

func validateTolerations(tolerations []*corev1.Toleration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, t := range tolerations {
		tp := p.Index(i)
		if t.Key != "" {
			errs = append(errs, metavalidation.ValidateLabelName(t.Key, tp.Child("key"))...)
		}
		if t.Key == "" && t.Operator != "Exists" {
			errs = append(errs, field.Invalid(tp.Child("operator"), t.Operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		if t.TolerationSeconds != nil && t.Effect != "NoExecute" {
			errs = append(errs, field.Invalid(tp.Child("effect"), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
		}
		switch t.Operator {
		case "Equal", "":
			errs = append(errs, invalidMsgs(tp.Child("operator"), t.Value, validation.IsValidLabelValue(t.Value))...)
		case "Exists":
			if t.Value != "" {
				errs = append(errs, field.Invalid(tp.Child("operator"), t.Value, "value must be empty when `operator` is 'Exists'"))
			}
		default:
			errs = append(errs, field.NotSupported(tp.Child("operator"), t.Operator, []string{"Equal", "Exists"}))
		}
		errs = append(errs, oneOfOrEmpty(t.Effect, tp.Child("effect"), taintEffects...)...)
	}
	return errs
}

func validateAffinity(a *corev1.Affinity, p *field.Path) field.ErrorList {
	if a == nil {
		return nil
	}
	var errs field.ErrorList
	if na := a.NodeAffinity; na != nil {
		np := p.Child("nodeAffinity")
		if req := na.RequiredDuringSchedulingIgnoredDuringExecution; req != nil {
			rp := np.Child("requiredDuringSchedulingIgnoredDuringExecution")
			if len(req.NodeSelectorTerms) == 0 {
				errs = append(errs, field.Required(rp.Child("nodeSelectorTerms"), "must have at least one node selector term"))
			}
			for i, term := range req.NodeSelectorTerms {
				errs = append(errs, validateNodeSelectorTerm(term, rp.Child("nodeSelectorTerms").Index(i))...)
			}
		}
		for i, pref := range na.PreferredDuringSchedulingIgnoredDuringExecution {
			pp := np.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
			errs = append(errs, validateWeight(pref.Weight, pp.Child("weight"))...)
			if pref.Preference == nil {
				errs = append(errs, field.Required(pp.Child("preference"), ""))
			} else {
				errs = append(errs, validateNodeSelectorTerm(pref.Preference, pp.Child("preference"))...)
			}
		}
	}
	podTerms := func(required []*corev1.PodAffinityTerm, preferred []*corev1.WeightedPodAffinityTerm, pp *field.Path) {
		for i, t := range required {
			errs = append(errs, validatePodAffinityTerm(t, pp.Child("requiredDuringSchedulingIgnoredDuringExecution").Index(i))...)
		}
		for i, w := range preferred {
			wp := pp.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
			errs = append(errs, validateWeight(w.Weight, wp.Child("weight"))...)
			if w.PodAffinityTerm == nil {
				errs = append(errs, field.Required(wp.Child("podAffinityTerm"), ""))
			} else {
				errs = append(errs, validatePodAffinityTerm(w.PodAffinityTerm, wp.Child("podAffinityTerm"))...)
			}
		}
	}
	if pa := a.PodAffinity; pa != nil {
		podTerms(pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution, p.Child("podAffinity"))
	}
	if pa := a.PodAntiAffinity; pa != nil {
		podTerms(pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution, p.Child("podAntiAffinity"))
	}
	return errs
}

func validateWeight(w int32, p *field.Path) field.ErrorList {
	if w < 1 || w > 100 {
		return field.ErrorList{field.Invalid(p, w, "must be in the range 1-100")}
	}
	return nil
}

func validateNodeSelectorTerm(t *corev1.NodeSelectorTerm, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, r := range t.MatchExpressions {
		rp := p.Child("matchExpressions").Index(i)
		switch r.Operator {
		case "In", "NotIn":
			if len(r.Values) == 0 {
				errs = append(errs, field.Required(rp.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
			}
		case "Exists", "DoesNotExist":
			if len(r.Values) > 0 {
				errs = append(errs, field.Forbidden(rp.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
			}
		case "Gt", "Lt":
			if len(r.Values) != 1 {
				errs = append(errs, field.Required(rp.Child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"))
			} else if _, err := strconv.ParseInt(r.Values[0], 10, 64); err != nil {
				errs = append(errs, field.Invalid(rp.Child("values").Index(0), r.Values[0], "must be an integer when `operator` is 'Lt' or 'Gt'"))
			}
		default:
			errs = append(errs, field.NotSupported(rp.Child("operator"), r.Operator, nodeSelectorOps))
		}
		errs = append(errs, metavalidation.ValidateLabelName(r.Key, rp.Child("key"))...)
	}
	for i, r := range t.MatchFields {
		rp := p.Child("matchFields").Index(i)
		if r.Key != "metadata.name" {
			errs = append(errs, field.NotSupported(rp.Child("key"), r.Key, []string{"metadata.name"}))
		}
		switch r.Operator {
		case "In", "NotIn":
			if len(r.Values) != 1 {
				errs = append(errs, field.Required(rp.Child("values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"))
			}
		default:
			errs = append(errs, field.NotSupported(rp.Child("operator"), r.Operator, []string{"In", "NotIn"}))
		}
	}
	return errs
}

func validatePodAffinityTerm(t *corev1.PodAffinityTerm, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateLabelSelector(t.LabelSelector, p.Child("labelSelector"))...)
	errs = append(errs, validateLabelSelector(t.NamespaceSelector, p.Child("namespaceSelector"))...)
	for i, ns := range t.Namespaces {
		errs = append(errs, dns1123Label(ns, p.Child("namespaces").Index(i))...)
	}
	if t.TopologyKey == "" {
		errs = append(errs, field.Required(p.Child("topologyKey"), "can not be empty"))
	} else {
		errs = append(errs, metavalidation.ValidateLabelName(t.TopologyKey, p.Child("topologyKey"))...)
	}
	for i, k := range t.MatchLabelKeys {
		errs = append(errs, metavalidation.ValidateLabelName(k, p.Child("matchLabelKeys").Index(i))...)
	}
	for i, k := range t.MismatchLabelKeys {
		errs = append(errs, metavalidation.ValidateLabelName(k, p.Child("mismatchLabelKeys").Index(i))...)
	}
	return errs
}

func validateTopologySpread(cs []*corev1.TopologySpreadConstraint, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, c := range cs {
		cp := p.Index(i)
		if c.MaxSkew <= 0 {
			errs = append(errs, field.Invalid(cp.Child("maxSkew"), c.MaxSkew, "must be greater than zero"))
		}
		if c.TopologyKey == "" {
			errs = append(errs, field.Required(cp.Child("topologyKey"), "can not be empty"))
		} else {
			errs = append(errs, metavalidation.ValidateLabelName(c.TopologyKey, cp.Child("topologyKey"))...)
		}
		errs = append(errs, oneOf(c.WhenUnsatisfiable, cp.Child("whenUnsatisfiable"), "DoNotSchedule", "ScheduleAnyway")...)
		if c.MinDomains != nil {
			if *c.MinDomains <= 0 {
				errs = append(errs, field.Invalid(cp.Child("minDomains"), *c.MinDomains, "must be greater than 0"))
			}
			if c.WhenUnsatisfiable != "DoNotSchedule" {
				errs = append(errs, field.Invalid(cp.Child("minDomains"), *c.MinDomains, "can only use minDomains if whenUnsatisfiable=DoNotSchedule"))
			}
		}
		if c.NodeAffinityPolicy != nil {
			errs = append(errs, oneOf(*c.NodeAffinityPolicy, cp.Child("nodeAffinityPolicy"), "Honor", "Ignore")...)
		}
		if c.NodeTaintsPolicy != nil {
			errs = append(errs, oneOf(*c.NodeTaintsPolicy, cp.Child("nodeTaintsPolicy"), "Honor", "Ignore")...)
		}
		errs = append(errs, validateLabelSelector(c.LabelSelector, cp.Child("labelSelector"))...)
		for j, k := range c.MatchLabelKeys {
			errs = append(errs, metavalidation.ValidateLabelName(k, cp.Child("matchLabelKeys").Index(j))...)
		}
		pair := c.TopologyKey + "," + c.WhenUnsatisfiable
		if seen.Has(pair) {
			errs = append(errs, field.Duplicate(cp.Child("{topologyKey, whenUnsatisfiable}"), pair))
		}
		seen.Insert(pair)
	}
	return errs
}

// validatePodTemplate checks a pod template's metadata and spec at p
// ("spec.template").
func validatePodTemplate(t *corev1.PodTemplateSpec, p *field.Path) field.ErrorList {
	if t == nil {
		return field.ErrorList{field.Required(p, "")}
	}
	errs := validateTemplateMeta(t.Metadata, p.Child("metadata"))
	return append(errs, validatePodSpec(t.Spec, p.Child("spec"))...)
}
