package alloc

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gantryhq/gantry/apiserver/internal/registry"
	"github.com/gantryhq/gantry/apiserver/internal/storage"
	"github.com/gantryhq/gantry/apiserver/internal/strategy"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Defaults of the ranges, as Kubernetes'.
const (
	DefaultServiceClusterIPRange = "10.96.0.0/12"
	DefaultServiceNodePortRange  = "30000-32767"
)

// Allocator hands out Services' cluster IPs and node ports.
type Allocator struct {
	ipRange   *IPRange
	portRange PortRange
	ips       *pool
	ports     *pool
}

// New returns an allocator keeping its values in store.
func New(store *storage.Store, ips *IPRange, ports PortRange) *Allocator {
	return &Allocator{
		ipRange:   ips,
		portRange: ports,
		ips: &pool{store: store, prefix: IPPrefix, size: ips.Size(), reserved: 1,
			name: func(i uint64) string { return ips.At(i).String() }},
		ports: &pool{store: store, prefix: PortPrefix, size: uint64(ports.Size),
			name: func(i uint64) string { return strconv.Itoa(ports.Base + int(i)) }},
	}
}

var (
	specPath       = field.NewPath("spec")
	clusterIPPath  = specPath.Child("clusterIP")
	healthPortPath = specPath.Child("healthCheckNodePort")
)

func needsClusterIP(s *corev1.ServiceSpec) bool {
	return s != nil && s.Type != "ExternalName"
}

func needsNodePorts(s *corev1.ServiceSpec) bool {
	return s != nil && (s.Type == "NodePort" || (s.Type == "LoadBalancer" && (s.AllocateLoadBalancerNodePorts == nil || *s.AllocateLoadBalancerNodePorts)))
}

func needsHealthCheckPort(s *corev1.ServiceSpec) bool {
	return s != nil && s.Type == "LoadBalancer" && s.ExternalTrafficPolicy == "Local"
}

// heldIP is the cluster IP a stored spec holds ("" for none).
func heldIP(s *corev1.ServiceSpec) string {
	if !needsClusterIP(s) || s.ClusterIp == "" || s.ClusterIp == "None" {
		return ""
	}
	return s.ClusterIp
}

// heldPorts are the node ports a stored spec holds.
func heldPorts(s *corev1.ServiceSpec) []int {
	if s == nil {
		return nil
	}
	var out []int
	for _, p := range s.Ports {
		if p.NodePort != 0 && !slices.Contains(out, int(p.NodePort)) {
			out = append(out, int(p.NodePort))
		}
	}
	if s.HealthCheckNodePort != 0 && !slices.Contains(out, int(s.HealthCheckNodePort)) {
		out = append(out, int(s.HealthCheckNodePort))
	}
	return out
}

func specOf(obj proto.Message) *corev1.ServiceSpec {
	if obj == nil {
		return nil
	}
	return obj.(*corev1.Service).GetSpec()
}

// Allocate implements registry.Allocator: it reserves the cluster IP and
// node ports obj needs and old (nil on create) does not hold, filling in the
// unset ones. A value out of range or taken is a field error. A dry run
// fills in free values and reserves none.
func (a *Allocator) Allocate(ctx context.Context, obj, old proto.Message, dryRun bool) (func(), field.ErrorList, error) {
	svc := obj.(*corev1.Service)
	spec, oldSpec := svc.GetSpec(), specOf(old)
	o := owner{uid: svc.GetMetadata().GetUid(), name: svc.GetMetadata().GetNamespace() + "/" + svc.GetMetadata().GetName()}
	var dry planned
	if dryRun {
		dry = planned{}
	}
	var got []taken
	undo := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		for _, t := range got {
			_ = t.undo(ctx) // What is left is held by no Service; see doc.go.
		}
	}
	fail := func(errs field.ErrorList, err error) (func(), field.ErrorList, error) {
		undo()
		return nil, errs, err
	}
	take := func(p *pool, name string, path *field.Path, value any, what string) (field.ErrorList, error) {
		t, err := p.reserve(ctx, name, o, dry)
		if errors.Is(err, errTaken) {
			return field.ErrorList{field.Invalid(path, value, fmt.Sprintf("failed to allocate %s %s: provided %s is already allocated", what, name, what))}, nil
		}
		if err != nil {
			return nil, err
		}
		got = append(got, t)
		return nil, nil
	}
	takeNext := func(p *pool, path *field.Path, what string) (string, field.ErrorList, error) {
		t, err := p.next(ctx, o, dry)
		if errors.Is(err, errFull) {
			return "", field.ErrorList{field.InternalError(path, fmt.Errorf("failed to allocate a %s: range is full", what))}, nil
		}
		if err != nil {
			return "", nil, err
		}
		got = append(got, t)
		return t.name, nil, nil
	}

	if needsClusterIP(spec) && spec.ClusterIp != "None" {
		if errs := a.checkFamilies(spec); len(errs) > 0 {
			return fail(errs, nil)
		}
		switch ip := spec.ClusterIp; {
		case ip == "":
			name, errs, err := takeNext(a.ips, clusterIPPath, "serviceIP")
			if len(errs) > 0 || err != nil {
				return fail(errs, err)
			}
			spec.ClusterIp, spec.ClusterIps = name, []string{name}
		case ip != heldIP(oldSpec):
			addr, err := netip.ParseAddr(ip)
			if err != nil || !a.ipRange.Contains(addr) {
				return fail(field.ErrorList{field.Invalid(clusterIPPath, ip, fmt.Sprintf(
					"failed to allocate IP %s: provided IP is not in the valid range. The range of valid IPs is %s", ip, a.ipRange))}, nil)
			}
			if errs, err := take(a.ips, addr.String(), clusterIPPath, ip, "IP"); len(errs) > 0 || err != nil {
				return fail(errs, err)
			}
		}
	}

	oldPorts := heldPorts(oldSpec)
	var claimed []int
	for i, p := range spec.Ports {
		n := int(p.NodePort)
		if n == 0 || slices.Contains(oldPorts, n) || slices.Contains(claimed, n) {
			continue
		}
		path := specPath.Child("ports").Index(i).Child("nodePort")
		if !a.portRange.Contains(n) {
			return fail(field.ErrorList{field.Invalid(path, n, fmt.Sprintf(
				"provided port is not in the valid range. The range of valid ports is %s", a.portRange))}, nil)
		}
		if errs, err := take(a.ports, strconv.Itoa(n), path, n, "port"); len(errs) > 0 || err != nil {
			return fail(errs, err)
		}
		claimed = append(claimed, n)
	}
	if needsNodePorts(spec) {
		for i, p := range spec.Ports {
			if p.NodePort != 0 {
				continue
			}
			name, errs, err := takeNext(a.ports, specPath.Child("ports").Index(i).Child("nodePort"), "nodePort")
			if len(errs) > 0 || err != nil {
				return fail(errs, err)
			}
			n, _ := strconv.Atoi(name)
			p.NodePort = int32(n)
		}
	}
	if n := int(spec.HealthCheckNodePort); needsHealthCheckPort(spec) {
		switch {
		case n == 0:
			name, errs, err := takeNext(a.ports, healthPortPath, "healthCheckNodePort")
			if len(errs) > 0 || err != nil {
				return fail(errs, err)
			}
			n, _ = strconv.Atoi(name)
			spec.HealthCheckNodePort = int32(n)
		case !slices.Contains(oldPorts, n) && !slices.Contains(claimed, n):
			if !a.portRange.Contains(n) {
				return fail(field.ErrorList{field.Invalid(healthPortPath, n, fmt.Sprintf(
					"provided port is not in the valid range. The range of valid ports is %s", a.portRange))}, nil)
			}
			if errs, err := take(a.ports, strconv.Itoa(n), healthPortPath, n, "port"); len(errs) > 0 || err != nil {
				return fail(errs, err)
			}
		}
	}
	return undo, nil, nil
}

// checkFamilies refuses IP families this single-stack cluster does not have.
func (a *Allocator) checkFamilies(spec *corev1.ServiceSpec) field.ErrorList {
	family := a.ipRange.Family()
	if spec.GetIpFamilyPolicy() == "RequireDualStack" {
		return field.ErrorList{field.Invalid(specPath.Child("ipFamilyPolicy"), spec.GetIpFamilyPolicy(),
			"this cluster is not configured for dual-stack services")}
	}
	if spec.GetIpFamilyPolicy() == "PreferDualStack" && len(spec.IpFamilies) > 1 {
		if spec.IpFamilies[0] == family && len(spec.ClusterIps) <= 1 {
			spec.IpFamilies = spec.IpFamilies[:1]
		}
	}
	if len(spec.ClusterIps) > 1 {
		return field.ErrorList{field.Invalid(specPath.Child("clusterIPs").Index(1), spec.ClusterIps[1],
			"this cluster is not configured for dual-stack services")}
	}
	if len(spec.IpFamilies) > 0 && spec.IpFamilies[0] != family {
		return field.ErrorList{field.Invalid(specPath.Child("ipFamilies").Index(0), spec.IpFamilies[0],
			fmt.Sprintf("not configured on this cluster: the service cluster IP range is %s", a.ipRange))}
	}
	return nil
}

// Release implements registry.Allocator: it frees what old holds and obj
// (nil after a delete) does not.
func (a *Allocator) Release(ctx context.Context, obj, old proto.Message) error {
	spec, oldSpec := specOf(obj), specOf(old)
	uid := old.(*corev1.Service).GetMetadata().GetUid()
	var errs []error
	if ip := heldIP(oldSpec); ip != "" && ip != heldIP(spec) {
		if addr, err := netip.ParseAddr(ip); err == nil {
			errs = append(errs, a.ips.free(ctx, addr.String(), uid))
		}
	}
	keep := heldPorts(spec)
	for _, n := range heldPorts(oldSpec) {
		if !slices.Contains(keep, n) {
			errs = append(errs, a.ports.free(ctx, strconv.Itoa(n), uid))
		}
	}
	return errors.Join(errs...)
}

// ServiceStrategy is the Service strategy with allocation.
type ServiceStrategy struct {
	strategy.Service
	*Allocator
}

var (
	_ registry.Strategy  = ServiceStrategy{}
	_ registry.Allocator = ServiceStrategy{}
)

// PrepareForUpdate carries allocated values over (the Service strategy's
// PrepareForUpdate) and drops those the new type no longer uses when the
// client left them as they were, as Kubernetes' dropTypeDependentFields:
// a NodePort service changed to ClusterIP loses its node ports, one changed
// to ExternalName its cluster IP.
func (s ServiceStrategy) PrepareForUpdate(obj, old proto.Message) {
	s.Service.PrepareForUpdate(obj, old)
	spec, oldSpec := specOf(obj), specOf(old)
	if spec == nil || oldSpec == nil {
		return
	}
	if needsClusterIP(oldSpec) && !needsClusterIP(spec) {
		if spec.ClusterIp == oldSpec.ClusterIp && slices.Equal(spec.ClusterIps, oldSpec.ClusterIps) {
			spec.ClusterIp, spec.ClusterIps = "", nil
		}
		if slices.Equal(spec.IpFamilies, oldSpec.IpFamilies) {
			spec.IpFamilies = nil
		}
		if spec.GetIpFamilyPolicy() == oldSpec.GetIpFamilyPolicy() {
			spec.IpFamilyPolicy = nil
		}
	}
	if needsNodePorts(oldSpec) && !needsNodePorts(spec) && sameNodePorts(spec, oldSpec) {
		for _, p := range spec.Ports {
			p.NodePort = 0
		}
	}
	if needsHealthCheckPort(oldSpec) && spec.HealthCheckNodePort == oldSpec.HealthCheckNodePort &&
		!(spec.Type == "LoadBalancer" && (spec.ExternalTrafficPolicy == "Local" || spec.ExternalTrafficPolicy == "")) {
		spec.HealthCheckNodePort = 0
	}
	if oldSpec.Type == "LoadBalancer" && spec.Type != "LoadBalancer" {
		if (spec.AllocateLoadBalancerNodePorts == nil) == (oldSpec.AllocateLoadBalancerNodePorts == nil) &&
			spec.GetAllocateLoadBalancerNodePorts() == oldSpec.GetAllocateLoadBalancerNodePorts() {
			spec.AllocateLoadBalancerNodePorts = nil
		}
	}
	if !externallyAccessible(spec) && spec.ExternalTrafficPolicy == oldSpec.ExternalTrafficPolicy {
		spec.ExternalTrafficPolicy = ""
	}
}

func externallyAccessible(s *corev1.ServiceSpec) bool {
	return s.Type == "LoadBalancer" || s.Type == "NodePort" || (s.Type == "ClusterIP" && len(s.ExternalIps) > 0)
}

// sameNodePorts: every port of spec that has a node port has the one old
// gave the same port.
func sameNodePorts(spec, old *corev1.ServiceSpec) bool {
	for _, p := range spec.Ports {
		if p.NodePort == 0 {
			continue
		}
		found := false
		for _, o := range old.Ports {
			if o.Port == p.Port && o.NodePort == p.NodePort {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
