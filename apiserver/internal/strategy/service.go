package strategy

import (
	"fmt"
	"net/netip"
	"strings"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

var (
	serviceTypes     = []string{"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"}
	ipFamilyPolicies = []string{"SingleStack", "PreferDualStack", "RequireDualStack"}
)

// Service is the strategy of services. ClusterIPs and node ports are
// allocated elsewhere (the registry); this strategy only checks the ones a
// client gives.
type Service struct{}

// PrepareForCreate clears the status.
func (Service) PrepareForCreate(obj proto.Message) {
	obj.(*corev1.Service).Status = &corev1.ServiceStatus{}
}

// Default applies SetDefaults_Service and the IP-family defaults Kubernetes'
// service storage applies to single-stack clusters.
func (Service) Default(obj proto.Message) {
	svc := obj.(*corev1.Service)
	if svc.Spec == nil {
		svc.Spec = &corev1.ServiceSpec{}
	}
	spec := svc.Spec
	if spec.SessionAffinity == "" {
		spec.SessionAffinity = "None"
	}
	switch spec.SessionAffinity {
	case "None":
		spec.SessionAffinityConfig = nil
	case "ClientIP":
		if c := spec.SessionAffinityConfig.GetClientIp(); c == nil || c.TimeoutSeconds == nil {
			spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{
				ClientIp: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To(defaultClientIPTimeout)},
			}
		}
	}
	if spec.Type == "" {
		spec.Type = "ClusterIP"
	}
	for _, p := range spec.Ports {
		if p.Protocol == "" {
			p.Protocol = "TCP"
		}
		if isZeroIntOrString(p.TargetPort) {
			p.TargetPort = &metav1.IntOrString{Value: &metav1.IntOrString_IntVal{IntVal: p.Port}}
		}
	}
	if externallyAccessible(spec) && spec.ExternalTrafficPolicy == "" {
		spec.ExternalTrafficPolicy = "Cluster"
	}
	if spec.InternalTrafficPolicy == nil && spec.Type != "ExternalName" {
		spec.InternalTrafficPolicy = ptr.To("Cluster")
	}
	if spec.Type == "LoadBalancer" && spec.AllocateLoadBalancerNodePorts == nil {
		spec.AllocateLoadBalancerNodePorts = ptr.To(true)
	}
	if spec.ClusterIp != "" && len(spec.ClusterIps) == 0 {
		spec.ClusterIps = []string{spec.ClusterIp}
	}
	if spec.Type != "ExternalName" {
		if len(spec.IpFamilies) == 0 {
			for _, ip := range spec.ClusterIps {
				if a, err := netip.ParseAddr(ip); err == nil {
					spec.IpFamilies = append(spec.IpFamilies, ipFamily(a))
				}
			}
			if len(spec.IpFamilies) == 0 {
				spec.IpFamilies = []string{"IPv4"}
			}
		}
		if spec.IpFamilyPolicy == nil {
			if len(spec.IpFamilies) > 1 {
				spec.IpFamilyPolicy = ptr.To("RequireDualStack")
			} else {
				spec.IpFamilyPolicy = ptr.To("SingleStack")
			}
		}
	}
	if spec.Type == "LoadBalancer" {
		for _, ing := range svc.GetStatus().GetLoadBalancer().GetIngress() {
			if ing.Ip != "" && ing.IpMode == nil {
				ing.IpMode = ptr.To("VIP")
			}
		}
	}
}

func ipFamily(a netip.Addr) string {
	if a.Is4() || a.Is4In6() {
		return "IPv4"
	}
	return "IPv6"
}

// externallyAccessible is Kubernetes' service.ExternallyAccessible.
func externallyAccessible(spec *corev1.ServiceSpec) bool {
	return spec.Type == "LoadBalancer" || spec.Type == "NodePort" ||
		(spec.Type == "ClusterIP" && len(spec.ExternalIps) > 0)
}

func isHeadless(spec *corev1.ServiceSpec) bool { return spec.GetClusterIp() == "None" }

// PrepareForUpdate carries over what the server allocated and the client
// left out (clusterIP(s), node ports, the health-check node port), as
// Kubernetes' service storage does, so that applying a manifest again does
// not trip the immutability of clusterIP. The registry calls it, when it
// supports it, before Default (it also works on a defaulted object).
func (Service) PrepareForUpdate(obj, old proto.Message) {
	spec, oldSpec := obj.(*corev1.Service).GetSpec(), old.(*corev1.Service).GetSpec()
	if spec == nil || oldSpec == nil {
		return
	}
	needsClusterIP := func(s *corev1.ServiceSpec) bool { return s.Type != "ExternalName" }
	if needsClusterIP(spec) && needsClusterIP(oldSpec) {
		if spec.ClusterIp == "" {
			spec.ClusterIp = oldSpec.ClusterIp
		}
		if len(spec.ClusterIps) == 0 {
			spec.ClusterIps = oldSpec.ClusterIps
		}
	}
	// obj may not be defaulted yet: read unset values as their defaults.
	needsNodePort := func(s *corev1.ServiceSpec) bool {
		return s.Type == "NodePort" || (s.Type == "LoadBalancer" && (s.AllocateLoadBalancerNodePorts == nil || *s.AllocateLoadBalancerNodePorts))
	}
	protocol := func(p *corev1.ServicePort) string {
		if p.Protocol == "" {
			return "TCP"
		}
		return p.Protocol
	}
	if needsNodePort(spec) && needsNodePort(oldSpec) {
		for _, p := range spec.Ports {
			if p.NodePort != 0 {
				continue
			}
			for _, o := range oldSpec.Ports {
				if o.Port == p.Port && protocol(o) == protocol(p) {
					p.NodePort = o.NodePort
					break
				}
			}
		}
	}
	if spec.HealthCheckNodePort == 0 && spec.Type == "LoadBalancer" && spec.ExternalTrafficPolicy == "Local" {
		spec.HealthCheckNodePort = oldSpec.HealthCheckNodePort
	}
}

// Validate checks a service as Kubernetes' ValidateService does.
func (Service) Validate(obj proto.Message) field.ErrorList {
	return validateServiceSpec(obj.(*corev1.Service).GetSpec())
}

func validateServiceSpec(spec *corev1.ServiceSpec) field.ErrorList {
	if spec == nil {
		return field.ErrorList{field.Required(specPath, "")}
	}
	var errs field.ErrorList
	errs = append(errs, oneOf(spec.Type, specPath.Child("type"), serviceTypes...)...)
	headless := isHeadless(spec)
	if len(spec.Ports) == 0 && !headless && spec.Type != "ExternalName" {
		errs = append(errs, field.Required(specPath.Child("ports"), ""))
	}
	portsPath := specPath.Child("ports")
	names := sets.New[string]()
	seen := sets.New[string]()
	nodePorts := sets.New[string]()
	for i, p := range spec.Ports {
		pp := portsPath.Index(i)
		if len(spec.Ports) > 1 && p.Name == "" {
			errs = append(errs, field.Required(pp.Child("name"), ""))
		} else if p.Name != "" {
			errs = append(errs, dns1123Label(p.Name, pp.Child("name"))...)
			if names.Has(p.Name) {
				errs = append(errs, field.Duplicate(pp.Child("name"), p.Name))
			}
			names.Insert(p.Name)
		}
		errs = append(errs, validPort(p.Port, pp.Child("port"))...)
		errs = append(errs, oneOf(p.Protocol, pp.Child("protocol"), portProtocols...)...)
		errs = append(errs, portNumOrName(p.TargetPort, pp.Child("targetPort"))...)
		if p.AppProtocol != nil {
			errs = append(errs, qualifiedName(*p.AppProtocol, pp.Child("appProtocol"))...)
		}
		key := fmt.Sprintf("%s/%d", p.Protocol, p.Port)
		if seen.Has(key) {
			errs = append(errs, field.Duplicate(pp, key))
		}
		seen.Insert(key)
		if p.NodePort != 0 {
			errs = append(errs, validPort(p.NodePort, pp.Child("nodePort"))...)
			if spec.Type != "NodePort" && spec.Type != "LoadBalancer" {
				errs = append(errs, field.Forbidden(pp.Child("nodePort"), fmt.Sprintf("may not be used when `type` is '%s'", spec.Type)))
			}
			nk := fmt.Sprintf("%s/%d", p.Protocol, p.NodePort)
			if nodePorts.Has(nk) {
				errs = append(errs, field.Duplicate(pp.Child("nodePort"), p.NodePort))
			}
			nodePorts.Insert(nk)
		}
	}
	errs = append(errs, validateSelectorLabels(spec.Selector, specPath.Child("selector"))...)
	errs = append(errs, validateClusterIPs(spec)...)

	if spec.Type == "ExternalName" {
		if len(spec.IpFamilies) > 0 {
			errs = append(errs, field.Forbidden(specPath.Child("ipFamilies"), "may not be set for ExternalName services"))
		}
		if spec.IpFamilyPolicy != nil {
			errs = append(errs, field.Forbidden(specPath.Child("ipFamilyPolicy"), "may not be set for ExternalName services"))
		}
		if cname := strings.TrimSuffix(spec.ExternalName, "."); cname == "" {
			errs = append(errs, field.Required(specPath.Child("externalName"), ""))
		} else {
			errs = append(errs, dns1123Subdomain(cname, specPath.Child("externalName"))...)
		}
	} else {
		errs = append(errs, validateIPFamilies(spec)...)
	}

	errs = append(errs, oneOf(spec.SessionAffinity, specPath.Child("sessionAffinity"), "None", "ClientIP")...)
	sap := specPath.Child("sessionAffinityConfig")
	switch {
	case spec.SessionAffinity == "ClientIP":
		t := spec.GetSessionAffinityConfig().GetClientIp().GetTimeoutSeconds()
		if t <= 0 || t > 86400 {
			errs = append(errs, field.Invalid(sap.Child("clientIP", "timeoutSeconds"), t, "must be greater than 0 and less than 86400"))
		}
	case spec.SessionAffinityConfig != nil:
		errs = append(errs, field.Invalid(sap, spec.SessionAffinityConfig.String(), fmt.Sprintf("must not be set when session affinity is %s", spec.SessionAffinity)))
	}

	for i, ip := range spec.ExternalIps {
		errs = append(errs, validation.IsValidIP(specPath.Child("externalIPs").Index(i), ip)...)
	}
	lb := spec.Type == "LoadBalancer"
	if spec.LoadBalancerIp != "" {
		if lb {
			errs = append(errs, validation.IsValidIP(specPath.Child("loadBalancerIP"), spec.LoadBalancerIp)...)
		} else {
			errs = append(errs, field.Forbidden(specPath.Child("loadBalancerIP"), "may only be used when `type` is 'LoadBalancer'"))
		}
	}
	if len(spec.LoadBalancerSourceRanges) > 0 && !lb {
		errs = append(errs, field.Forbidden(specPath.Child("loadBalancerSourceRanges"), "may only be used when `type` is 'LoadBalancer'"))
	}
	for i, r := range spec.LoadBalancerSourceRanges {
		errs = append(errs, validation.IsValidCIDR(specPath.Child("loadBalancerSourceRanges").Index(i), strings.TrimSpace(r))...)
	}
	if spec.AllocateLoadBalancerNodePorts != nil && !lb {
		errs = append(errs, field.Forbidden(specPath.Child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"))
	}
	if lb && spec.AllocateLoadBalancerNodePorts == nil {
		errs = append(errs, field.Required(specPath.Child("allocateLoadBalancerNodePorts"), ""))
	}
	if spec.LoadBalancerClass != nil {
		if !lb {
			errs = append(errs, field.Forbidden(specPath.Child("loadBalancerClass"), "may only be used when `type` is 'LoadBalancer'"))
		} else {
			errs = append(errs, qualifiedName(*spec.LoadBalancerClass, specPath.Child("loadBalancerClass"))...)
		}
	}

	etp := specPath.Child("externalTrafficPolicy")
	if externallyAccessible(spec) {
		errs = append(errs, oneOf(spec.ExternalTrafficPolicy, etp, "Cluster", "Local")...)
	} else if spec.ExternalTrafficPolicy != "" {
		errs = append(errs, field.Invalid(etp, spec.ExternalTrafficPolicy, "may only be set for externally-accessible services"))
	}
	if spec.HealthCheckNodePort != 0 {
		hp := specPath.Child("healthCheckNodePort")
		if !lb || spec.ExternalTrafficPolicy != "Local" {
			errs = append(errs, field.Invalid(hp, spec.HealthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
		} else {
			errs = append(errs, validPort(spec.HealthCheckNodePort, hp)...)
		}
	}
	if spec.Type != "ExternalName" {
		itp := specPath.Child("internalTrafficPolicy")
		if spec.InternalTrafficPolicy == nil {
			errs = append(errs, field.Required(itp, ""))
		} else {
			errs = append(errs, oneOf(*spec.InternalTrafficPolicy, itp, "Cluster", "Local")...)
		}
	}
	if spec.TrafficDistribution != nil {
		errs = append(errs, oneOf(*spec.TrafficDistribution, specPath.Child("trafficDistribution"),
			"PreferClose", "PreferSameZone", "PreferSameNode")...)
	}
	return errs
}

// validateSelectorLabels checks a map selector like labels.
func validateSelectorLabels(sel map[string]string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedKeys(sel) {
		errs = append(errs, qualifiedName(k, p)...)
		errs = append(errs, invalidMsgs(p, sel[k], validation.IsValidLabelValue(sel[k]))...)
	}
	return errs
}

// validateClusterIPs checks the format of given cluster IPs (allocation is
// not this strategy's job): valid IPs, or "None" for a headless ClusterIP
// service, and clusterIPs[0] equal to clusterIP.
func validateClusterIPs(spec *corev1.ServiceSpec) field.ErrorList {
	var errs field.ErrorList
	p := specPath.Child("clusterIPs")
	if spec.Type == "ExternalName" {
		if spec.ClusterIp != "" || len(spec.ClusterIps) > 0 {
			errs = append(errs, field.Forbidden(p, "may not be set for ExternalName services"))
		}
		return errs
	}
	if len(spec.ClusterIps) > 0 && spec.ClusterIps[0] != spec.ClusterIp {
		errs = append(errs, field.Invalid(p, spec.ClusterIps, "first value must match `clusterIP`"))
	}
	if len(spec.ClusterIps) > 2 {
		errs = append(errs, field.Invalid(p, spec.ClusterIps, "may only hold up to 2 values"))
	}
	families := sets.New[string]()
	for i, ip := range spec.ClusterIps {
		ipp := p.Index(i)
		if ip == "None" {
			if i > 0 || len(spec.ClusterIps) > 1 {
				errs = append(errs, field.Invalid(ipp, ip, "'None' must be the first and only value"))
			} else if spec.Type != "ClusterIP" {
				errs = append(errs, field.Invalid(ipp, ip, fmt.Sprintf("may not be set to 'None' for %s services", spec.Type)))
			}
			continue
		}
		if ip == "" {
			errs = append(errs, field.Invalid(ipp, ip, "must be empty when all clusterIPs are empty"))
			continue
		}
		if e := validation.IsValidIP(ipp, ip); e != nil {
			errs = append(errs, e...)
			continue
		}
		a, _ := netip.ParseAddr(ip)
		if families.Has(ipFamily(a)) {
			errs = append(errs, field.Invalid(p, spec.ClusterIps, "may specify no more than one IP for each IP family"))
		}
		families.Insert(ipFamily(a))
	}
	return errs
}

func validateIPFamilies(spec *corev1.ServiceSpec) field.ErrorList {
	var errs field.ErrorList
	fp := specPath.Child("ipFamilies")
	seen := sets.New[string]()
	for i, f := range spec.IpFamilies {
		errs = append(errs, oneOf(f, fp.Index(i), "IPv4", "IPv6")...)
		if seen.Has(f) {
			errs = append(errs, field.Duplicate(fp.Index(i), f))
		}
		seen.Insert(f)
	}
	if len(spec.IpFamilies) > 2 {
		errs = append(errs, field.Invalid(fp, spec.IpFamilies, "may be at most 2 values"))
	}
	pp := specPath.Child("ipFamilyPolicy")
	if spec.IpFamilyPolicy == nil {
		return append(errs, field.Required(pp, ""))
	}
	errs = append(errs, oneOf(*spec.IpFamilyPolicy, pp, ipFamilyPolicies...)...)
	if *spec.IpFamilyPolicy == "SingleStack" && (len(spec.IpFamilies) > 1 || len(spec.ClusterIps) > 1) {
		errs = append(errs, field.Invalid(pp, *spec.IpFamilyPolicy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"))
	}
	// The families must agree with the given cluster IPs, in order.
	for i, ip := range spec.ClusterIps {
		a, err := netip.ParseAddr(ip)
		if err != nil || i >= len(spec.IpFamilies) {
			continue
		}
		if ipFamily(a) != spec.IpFamilies[i] {
			errs = append(errs, field.Invalid(specPath.Child("clusterIPs").Index(i), ip, fmt.Sprintf("expected an %s value as indicated by `ipFamilies[%d]`", spec.IpFamilies[i], i)))
		}
	}
	return errs
}

// ValidateUpdate checks the new service and that a set clusterIP does not
// change (changes to or from ExternalName excepted).
func (s Service) ValidateUpdate(obj, old proto.Message) field.ErrorList {
	spec, oldSpec := obj.(*corev1.Service).GetSpec(), old.(*corev1.Service).GetSpec()
	errs := s.Validate(obj)
	if spec == nil || oldSpec == nil || spec.Type == "ExternalName" || oldSpec.Type == "ExternalName" {
		return errs
	}
	if isHeadless(spec) && isHeadless(oldSpec) {
		return errs
	}
	p := specPath.Child("clusterIPs")
	newIPs, oldIPs := spec.ClusterIps, oldSpec.ClusterIps
	switch {
	case len(oldIPs) == len(newIPs):
		for i := range oldIPs {
			if oldIPs[i] != newIPs[i] {
				errs = append(errs, field.Invalid(p.Index(i), newIPs[i], "may not change once set"))
			}
		}
	case len(oldIPs) > len(newIPs):
		if len(newIPs) == 0 {
			errs = append(errs, field.Invalid(p.Index(0), newIPs, "primary clusterIP can not be unset"))
		} else if newIPs[0] != oldIPs[0] {
			errs = append(errs, field.Invalid(p.Index(0), newIPs[0], "may not change once set"))
		} else if spec.GetIpFamilyPolicy() != "SingleStack" {
			errs = append(errs, field.Invalid(p.Index(0), newIPs, "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary clusterIP"))
		}
	default:
		if len(oldIPs) > 0 && newIPs[0] != oldIPs[0] {
			errs = append(errs, field.Invalid(p.Index(0), newIPs[0], "may not change once set"))
		}
	}
	return errs
}

// ValidateStatusUpdate checks the load balancer status and conditions.
func (Service) ValidateStatusUpdate(obj, _ proto.Message) field.ErrorList {
	st := obj.(*corev1.Service).GetStatus()
	var errs field.ErrorList
	ip := statusPath.Child("loadBalancer", "ingress")
	for i, ing := range st.GetLoadBalancer().GetIngress() {
		p := ip.Index(i)
		if ing.Ip != "" {
			errs = append(errs, validation.IsValidIP(p.Child("ip"), ing.Ip)...)
		}
		if ing.Hostname != "" {
			errs = append(errs, dns1123Subdomain(ing.Hostname, p.Child("hostname"))...)
			if _, err := netip.ParseAddr(ing.Hostname); err == nil {
				errs = append(errs, field.Invalid(p.Child("hostname"), ing.Hostname, "must be a DNS name, not an IP address"))
			}
		}
		if ing.IpMode != nil {
			if ing.Ip == "" {
				errs = append(errs, field.Forbidden(p.Child("ipMode"), "may not be specified when `ip` is not set"))
			} else {
				errs = append(errs, oneOf(*ing.IpMode, p.Child("ipMode"), "VIP", "Proxy")...)
			}
		}
		for j, port := range ing.Ports {
			pp := p.Child("ports").Index(j)
			errs = append(errs, validPort(port.Port, pp.Child("port"))...)
			errs = append(errs, oneOf(port.Protocol, pp.Child("protocol"), portProtocols...)...)
		}
	}
	for i, c := range st.GetConditions() {
		cp := statusPath.Child("conditions").Index(i)
		errs = append(errs, qualifiedName(c.Type, cp.Child("type"))...)
		errs = append(errs, conditionStatus(c.Status, cp.Child("status"))...)
	}
	return errs
}

// Endpoints is the strategy of endpoints.
type Endpoints struct{}

// PrepareForCreate does nothing.
func (Endpoints) PrepareForCreate(proto.Message) {}

// Default sets ports' protocol TCP.
func (Endpoints) Default(obj proto.Message) {
	for _, s := range obj.(*corev1.Endpoints).Subsets {
		for _, p := range s.Ports {
			if p.Protocol == "" {
				p.Protocol = "TCP"
			}
		}
	}
}

// Validate checks addresses and ports of every subset.
func (Endpoints) Validate(obj proto.Message) field.ErrorList {
	var errs field.ErrorList
	for i, s := range obj.(*corev1.Endpoints).Subsets {
		sp := field.NewPath("subsets").Index(i)
		if len(s.Addresses) == 0 && len(s.NotReadyAddresses) == 0 {
			errs = append(errs, field.Required(sp, "must specify `addresses` or `notReadyAddresses`"))
		}
		for j, a := range s.Addresses {
			errs = append(errs, validateEndpointAddress(a, sp.Child("addresses").Index(j))...)
		}
		for j, a := range s.NotReadyAddresses {
			errs = append(errs, validateEndpointAddress(a, sp.Child("notReadyAddresses").Index(j))...)
		}
		names := sets.New[string]()
		for j, p := range s.Ports {
			pp := sp.Child("ports").Index(j)
			if len(s.Ports) > 1 && p.Name == "" {
				errs = append(errs, field.Required(pp.Child("name"), ""))
			} else if p.Name != "" {
				errs = append(errs, dns1123Label(p.Name, pp.Child("name"))...)
				if names.Has(p.Name) {
					errs = append(errs, field.Duplicate(pp.Child("name"), p.Name))
				}
				names.Insert(p.Name)
			}
			errs = append(errs, validPort(p.Port, pp.Child("port"))...)
			errs = append(errs, oneOf(p.Protocol, pp.Child("protocol"), portProtocols...)...)
			if p.AppProtocol != nil {
				errs = append(errs, qualifiedName(*p.AppProtocol, pp.Child("appProtocol"))...)
			}
		}
	}
	return errs
}

func validateEndpointAddress(a *corev1.EndpointAddress, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if e := validation.IsValidIP(p.Child("ip"), a.Ip); e != nil {
		errs = append(errs, e...)
	} else if addr, _ := netip.ParseAddr(a.Ip); addr.IsUnspecified() || addr.IsLoopback() || addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() {
		errs = append(errs, field.Invalid(p.Child("ip"), a.Ip, "may not be unspecified, loopback or link-local"))
	}
	if a.Hostname != "" {
		errs = append(errs, dns1123Label(a.Hostname, p.Child("hostname"))...)
	}
	if a.NodeName != nil && *a.NodeName != "" {
		errs = append(errs, dns1123Subdomain(*a.NodeName, p.Child("nodeName"))...)
	}
	return errs
}

// ValidateUpdate checks the new endpoints; everything may change.
func (e Endpoints) ValidateUpdate(obj, _ proto.Message) field.ErrorList { return e.Validate(obj) }

// ValidateStatusUpdate accepts anything: endpoints have no status.
func (Endpoints) ValidateStatusUpdate(_, _ proto.Message) field.ErrorList { return nil }
