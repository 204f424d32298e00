package strategy

import (
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// now is the clock of server-set timestamps; tests replace it.
var now = time.Now

// Node is the strategy of nodes. The kubelet registers its node with a
// status, so create keeps it.
type Node struct{}

var nodeAddressTypes = []string{"Hostname", "InternalIP", "ExternalIP", "InternalDNS", "ExternalDNS"}

// PrepareForCreate keeps the status (a kubelet registers its node with one)
// and defaults allocatable to capacity.
func (Node) PrepareForCreate(obj proto.Message) {
	node := obj.(*corev1.Node)
	if st := node.Status; st != nil && st.Allocatable == nil && st.Capacity != nil {
		st.Allocatable = map[string]*metav1.Quantity{}
		for k, v := range st.Capacity {
			st.Allocatable[k] = &metav1.Quantity{Value: v.GetValue()}
		}
	}
}

// Default keeps podCIDR and podCIDRs[0] in step and stamps timeAdded on new
// NoExecute taints.
func (Node) Default(obj proto.Message) {
	node := obj.(*corev1.Node)
	if node.Spec == nil {
		node.Spec = &corev1.NodeSpec{}
	}
	spec := node.Spec
	if spec.PodCidr != "" && len(spec.PodCidrs) == 0 {
		spec.PodCidrs = []string{spec.PodCidr}
	}
	if spec.PodCidr == "" && len(spec.PodCidrs) > 0 {
		spec.PodCidr = spec.PodCidrs[0]
	}
	for _, t := range spec.Taints {
		if t.Effect == "NoExecute" && t.TimeAdded == nil {
			t.TimeAdded = timestamppb.New(now().Truncate(time.Second))
		}
	}
}

// Validate checks taints, pod CIDRs and the status.
func (Node) Validate(obj proto.Message) field.ErrorList {
	node := obj.(*corev1.Node)
	spec := node.GetSpec()
	var errs field.ErrorList
	errs = append(errs, validateTaints(spec.GetTaints(), specPath.Child("taints"))...)
	if spec.GetPodCidr() != "" {
		errs = append(errs, validation.IsValidCIDR(specPath.Child("podCIDR"), spec.PodCidr)...)
	}
	if len(spec.GetPodCidrs()) > 2 {
		errs = append(errs, field.TooMany(specPath.Child("podCIDRs"), len(spec.PodCidrs), 2))
	}
	for i, c := range spec.GetPodCidrs() {
		errs = append(errs, validation.IsValidCIDR(specPath.Child("podCIDRs").Index(i), c)...)
	}
	if len(spec.GetPodCidrs()) > 0 && spec.PodCidrs[0] != spec.PodCidr {
		errs = append(errs, field.Invalid(specPath.Child("podCIDRs").Index(0), spec.PodCidrs[0], "must match `podCIDR`"))
	}
	errs = append(errs, validateNodeStatus(node.GetStatus())...)
	return errs
}

func validateTaints(taints []*corev1.Taint, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, t := range taints {
		tp := p.Index(i)
		if t.Key == "" {
			errs = append(errs, field.Required(tp.Child("key"), ""))
		} else {
			errs = append(errs, qualifiedName(t.Key, tp.Child("key"))...)
		}
		errs = append(errs, invalidMsgs(tp.Child("value"), t.Value, validation.IsValidLabelValue(t.Value))...)
		errs = append(errs, oneOf(t.Effect, tp.Child("effect"), taintEffects...)...)
		key := t.Key + ":" + t.Effect
		if seen.Has(key) {
			errs = append(errs, field.Duplicate(tp, fmt.Sprintf("%s:%s", t.Key, t.Effect)))
		}
		seen.Insert(key)
	}
	return errs
}

func validateNodeStatus(st *corev1.NodeStatus) field.ErrorList {
	var errs field.ErrorList
	for _, name := range sortedKeys(st.GetCapacity()) {
		errs = append(errs, nonNegativeQuantity(st.Capacity[name], statusPath.Child("capacity").Key(name))...)
	}
	for _, name := range sortedKeys(st.GetAllocatable()) {
		errs = append(errs, nonNegativeQuantity(st.Allocatable[name], statusPath.Child("allocatable").Key(name))...)
	}
	for i, c := range st.GetConditions() {
		cp := statusPath.Child("conditions").Index(i)
		if c.Type == "" {
			errs = append(errs, field.Required(cp.Child("type"), ""))
		}
		errs = append(errs, conditionStatus(c.Status, cp.Child("status"))...)
	}
	for i, a := range st.GetAddresses() {
		ap := statusPath.Child("addresses").Index(i)
		errs = append(errs, oneOf(a.Type, ap.Child("type"), nodeAddressTypes...)...)
		if a.Address == "" {
			errs = append(errs, field.Required(ap.Child("address"), ""))
		}
	}
	if port := st.GetDaemonEndpoints().GetKubeletEndpoint().GetPort(); port != 0 {
		errs = append(errs, validPort(port, statusPath.Child("daemonEndpoints", "kubeletEndpoint", "Port"))...)
	}
	return errs
}

// ValidateUpdate checks the new node; podCIDR(s) and providerID may be set
// once, not changed.
func (n Node) ValidateUpdate(obj, old proto.Message) field.ErrorList {
	spec, oldSpec := obj.(*corev1.Node).GetSpec(), old.(*corev1.Node).GetSpec()
	errs := n.Validate(obj)
	const why = "node updates may not change podCIDR except from \"\" to valid"
	if oldSpec.GetPodCidr() != "" && spec.GetPodCidr() != oldSpec.GetPodCidr() {
		errs = append(errs, field.Forbidden(specPath.Child("podCIDR"), why))
	}
	if len(oldSpec.GetPodCidrs()) > 0 && !slices.Equal(spec.GetPodCidrs(), oldSpec.GetPodCidrs()) {
		errs = append(errs, field.Forbidden(specPath.Child("podCIDRs"), why))
	}
	if oldSpec.GetProviderId() != "" && spec.GetProviderId() != oldSpec.GetProviderId() {
		errs = append(errs, field.Forbidden(specPath.Child("providerID"), "node updates may not change providerID except from \"\" to valid"))
	}
	return errs
}

// ValidateStatusUpdate checks quantities, conditions and addresses.
func (Node) ValidateStatusUpdate(obj, _ proto.Message) field.ErrorList {
	return validateNodeStatus(obj.(*corev1.Node).GetStatus())
}
