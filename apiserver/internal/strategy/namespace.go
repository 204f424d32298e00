package strategy

import (
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/util/validation/field"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// FinalizerKubernetes is the namespace finalizer the namespace controller
// removes once the namespace is empty.
const FinalizerKubernetes = "kubernetes"

// Namespace is the strategy of namespaces. It implements
// registry.DeletionHolder: a namespace stays, Terminating, until its
// spec.finalizers are empty.
type Namespace struct{}

// PrepareForCreate sets phase Active and adds the "kubernetes" finalizer.
func (Namespace) PrepareForCreate(obj proto.Message) {
	ns := obj.(*corev1.Namespace)
	ns.Status = &corev1.NamespaceStatus{Phase: "Active"}
	if ns.Spec == nil {
		ns.Spec = &corev1.NamespaceSpec{}
	}
	if !slices.Contains(ns.Spec.Finalizers, FinalizerKubernetes) {
		ns.Spec.Finalizers = append(ns.Spec.Finalizers, FinalizerKubernetes)
	}
}

// Default does nothing: the finalizer is added on create only, since the
// namespace controller removes it later.
func (Namespace) Default(proto.Message) {}

// Validate checks the finalizer names.
func (Namespace) Validate(obj proto.Message) field.ErrorList {
	ns := obj.(*corev1.Namespace)
	var errs field.ErrorList
	for i, f := range ns.GetSpec().GetFinalizers() {
		fp := specPath.Child("finalizers").Index(i)
		if e := qualifiedName(f, fp); e != nil {
			errs = append(errs, e...)
		} else if !strings.Contains(f, "/") && f != FinalizerKubernetes {
			errs = append(errs, field.Invalid(fp, f, "name is neither a standard finalizer name nor is it fully qualified"))
		}
	}
	return errs
}

// PrepareForUpdate keeps spec.finalizers of a namespace that is not
// terminating, as Kubernetes does on update (they change through the
// finalize subresource there): applying a manifest again, which has no
// finalizers, then leaves them alone. Once the namespace is terminating the
// update's finalizers are taken, so that the namespace controller can clear
// them. The registry calls it, when it supports it, before Default.
func (Namespace) PrepareForUpdate(obj, old proto.Message) {
	ns, oldNs := obj.(*corev1.Namespace), old.(*corev1.Namespace)
	if terminating(oldNs) {
		return
	}
	if ns.Spec == nil {
		ns.Spec = &corev1.NamespaceSpec{}
	}
	ns.Spec.Finalizers = slices.Clone(oldNs.GetSpec().GetFinalizers())
}

func terminating(ns *corev1.Namespace) bool {
	return ns.GetStatus().GetPhase() == "Terminating" || ns.GetMetadata().GetDeletionTimestamp() != nil
}

// ValidateUpdate allows spec.finalizers to change only once the namespace is
// terminating (the namespace controller clears them).
func (n Namespace) ValidateUpdate(obj, old proto.Message) field.ErrorList {
	ns, oldNs := obj.(*corev1.Namespace), old.(*corev1.Namespace)
	errs := n.Validate(obj)
	if !terminating(oldNs) && !slices.Equal(ns.GetSpec().GetFinalizers(), oldNs.GetSpec().GetFinalizers()) {
		errs = append(errs, field.Forbidden(specPath.Child("finalizers"), "may only be changed while the namespace is terminating"))
	}
	return errs
}

// ValidateStatusUpdate checks that the phase agrees with deletion: Active
// until deletion is requested, Terminating after.
func (Namespace) ValidateStatusUpdate(obj, old proto.Message) field.ErrorList {
	ns := obj.(*corev1.Namespace)
	pp := statusPath.Child("phase")
	phase := ns.GetStatus().GetPhase()
	var errs field.ErrorList
	if ns.GetMetadata().GetDeletionTimestamp() == nil {
		if phase != "Active" {
			errs = append(errs, field.Invalid(pp, phase, "may only be 'Active' if `deletionTimestamp` is empty"))
		}
	} else if phase != "Terminating" {
		errs = append(errs, field.Invalid(pp, phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"))
	}
	for i, c := range ns.GetStatus().GetConditions() {
		cp := statusPath.Child("conditions").Index(i)
		if c.Type == "" {
			errs = append(errs, field.Required(cp.Child("type"), ""))
		}
		errs = append(errs, conditionStatus(c.Status, cp.Child("status"))...)
	}
	return errs
}

// PrepareForDelete marks the namespace Terminating.
func (Namespace) PrepareForDelete(obj proto.Message) {
	ns := obj.(*corev1.Namespace)
	if ns.Status == nil {
		ns.Status = &corev1.NamespaceStatus{}
	}
	ns.Status.Phase = "Terminating"
}

// HoldsDeletion reports whether spec.finalizers still hold the namespace.
func (Namespace) HoldsDeletion(obj proto.Message) bool {
	return len(obj.(*corev1.Namespace).GetSpec().GetFinalizers()) > 0
}
