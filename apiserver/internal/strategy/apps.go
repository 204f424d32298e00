package strategy

import (
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// defaultTemplate applies pod spec defaults to a workload's template.
func defaultTemplate(t *corev1.PodTemplateSpec) {
	if t == nil {
		return
	}
	if t.Spec == nil {
		t.Spec = &corev1.PodSpec{}
	}
	defaultPodSpec(t.Spec)
}

// validateReplicatedTemplate checks a ReplicaSet's or Deployment's template
// (ValidatePodTemplateSpecForReplicaSet): restartPolicy Always, no active
// deadline.
func validateReplicatedTemplate(t *corev1.PodTemplateSpec, p *field.Path) field.ErrorList {
	errs := validatePodTemplate(t, p)
	if t == nil || t.Spec == nil {
		return errs
	}
	if rp := t.Spec.RestartPolicy; rp != "Always" {
		errs = append(errs, field.NotSupported(p.Child("spec", "restartPolicy"), rp, []string{"Always"}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Invalid(p.Child("spec", "activeDeadlineSeconds"), *t.Spec.ActiveDeadlineSeconds, "activeDeadlineSeconds in ReplicaSet is not Supported"))
	}
	return errs
}

// ReplicaSet is the strategy of replica sets.
type ReplicaSet struct{}

// PrepareForCreate clears the status.
func (ReplicaSet) PrepareForCreate(obj proto.Message) {
	obj.(*appsv1.ReplicaSet).Status = &appsv1.ReplicaSetStatus{}
}

// Default sets replicas 1 and the template's pod defaults.
func (ReplicaSet) Default(obj proto.Message) {
	rs := obj.(*appsv1.ReplicaSet)
	if rs.Spec == nil {
		rs.Spec = &appsv1.ReplicaSetSpec{}
	}
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = ptr.To(int32(1))
	}
	defaultTemplate(rs.Spec.Template)
}

// Validate checks replicas, the selector and the template.
func (ReplicaSet) Validate(obj proto.Message) field.ErrorList {
	spec := obj.(*appsv1.ReplicaSet).GetSpec()
	if spec == nil {
		return field.ErrorList{field.Required(specPath, "")}
	}
	var errs field.ErrorList
	errs = append(errs, nonNegativePtr(spec.Replicas, specPath.Child("replicas"))...)
	errs = append(errs, nonNegative(int64(spec.MinReadySeconds), specPath.Child("minReadySeconds"))...)
	errs = append(errs, validateWorkloadSelector(spec.Selector, spec.GetTemplate().GetMetadata().GetLabels(), "replicaset", specPath)...)
	errs = append(errs, validateReplicatedTemplate(spec.Template, specPath.Child("template"))...)
	return errs
}

// ValidateUpdate checks the new replica set; the selector is immutable.
func (r ReplicaSet) ValidateUpdate(obj, old proto.Message) field.ErrorList {
	errs := r.Validate(obj)
	sel, oldSel := obj.(*appsv1.ReplicaSet).GetSpec().GetSelector(), old.(*appsv1.ReplicaSet).GetSpec().GetSelector()
	return append(errs, immutable(!proto.Equal(sel, oldSel), selectorString(sel), specPath.Child("selector"))...)
}

// ValidateStatusUpdate checks that counts are non-negative and consistent.
func (ReplicaSet) ValidateStatusUpdate(obj, _ proto.Message) field.ErrorList {
	st := obj.(*appsv1.ReplicaSet).GetStatus()
	var errs field.ErrorList
	errs = append(errs, nonNegative(int64(st.GetReplicas()), statusPath.Child("replicas"))...)
	errs = append(errs, nonNegative(int64(st.GetFullyLabeledReplicas()), statusPath.Child("fullyLabeledReplicas"))...)
	errs = append(errs, nonNegative(int64(st.GetReadyReplicas()), statusPath.Child("readyReplicas"))...)
	errs = append(errs, nonNegative(int64(st.GetAvailableReplicas()), statusPath.Child("availableReplicas"))...)
	errs = append(errs, nonNegative(st.GetObservedGeneration(), statusPath.Child("observedGeneration"))...)
	const gt = "cannot be greater than status.replicas"
	if st.GetFullyLabeledReplicas() > st.GetReplicas() {
		errs = append(errs, field.Invalid(statusPath.Child("fullyLabeledReplicas"), st.GetFullyLabeledReplicas(), gt))
	}
	if st.GetReadyReplicas() > st.GetReplicas() {
		errs = append(errs, field.Invalid(statusPath.Child("readyReplicas"), st.GetReadyReplicas(), gt))
	}
	if st.GetAvailableReplicas() > st.GetReplicas() {
		errs = append(errs, field.Invalid(statusPath.Child("availableReplicas"), st.GetAvailableReplicas(), gt))
	}
	if st.GetAvailableReplicas() > st.GetReadyReplicas() {
		errs = append(errs, field.Invalid(statusPath.Child("availableReplicas"), st.GetAvailableReplicas(), "cannot be greater than readyReplicas"))
	}
	for i, c := range st.GetConditions() {
		cp := statusPath.Child("conditions").Index(i)
		if c.Type == "" {
			errs = append(errs, field.Required(cp.Child("type"), ""))
		}
		errs = append(errs, conditionStatus(c.Status, cp.Child("status"))...)
	}
	return errs
}

// Deployment is the strategy of deployments.
type Deployment struct{}

// PrepareForCreate clears the status.
func (Deployment) PrepareForCreate(obj proto.Message) {
	obj.(*appsv1.Deployment).Status = &appsv1.DeploymentStatus{}
}

// Default applies SetDefaults_Deployment: replicas 1, RollingUpdate with
// 25%/25%, revisionHistoryLimit 10, progressDeadlineSeconds 600, and the
// template's pod defaults.
func (Deployment) Default(obj proto.Message) {
	d := obj.(*appsv1.Deployment)
	if d.Spec == nil {
		d.Spec = &appsv1.DeploymentSpec{}
	}
	spec := d.Spec
	if spec.Replicas == nil {
		spec.Replicas = ptr.To(int32(1))
	}
	if spec.Strategy == nil {
		spec.Strategy = &appsv1.DeploymentStrategy{}
	}
	if spec.Strategy.Type == "" {
		spec.Strategy.Type = "RollingUpdate"
	}
	if spec.Strategy.Type == "RollingUpdate" {
		if spec.Strategy.RollingUpdate == nil {
			spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		ru := spec.Strategy.RollingUpdate
		if ru.MaxUnavailable == nil {
			ru.MaxUnavailable = percent("25%")
		}
		if ru.MaxSurge == nil {
			ru.MaxSurge = percent("25%")
		}
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = ptr.To(int32(10))
	}
	if spec.ProgressDeadlineSeconds == nil {
		spec.ProgressDeadlineSeconds = ptr.To(int32(600))
	}
	defaultTemplate(spec.Template)
}

func percent(s string) *metav1.IntOrString {
	return &metav1.IntOrString{Value: &metav1.IntOrString_StrVal{StrVal: s}}
}

// Validate checks replicas, the selector, the template and the strategy.
func (Deployment) Validate(obj proto.Message) field.ErrorList {
	spec := obj.(*appsv1.Deployment).GetSpec()
	if spec == nil {
		return field.ErrorList{field.Required(specPath, "")}
	}
	var errs field.ErrorList
	errs = append(errs, nonNegativePtr(spec.Replicas, specPath.Child("replicas"))...)
	errs = append(errs, validateWorkloadSelector(spec.Selector, spec.GetTemplate().GetMetadata().GetLabels(), "deployment", specPath)...)
	errs = append(errs, validateReplicatedTemplate(spec.Template, specPath.Child("template"))...)
	errs = append(errs, validateDeploymentStrategy(spec.Strategy, specPath.Child("strategy"))...)
	errs = append(errs, nonNegative(int64(spec.MinReadySeconds), specPath.Child("minReadySeconds"))...)
	errs = append(errs, nonNegativePtr(spec.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))...)
	if v := spec.ProgressDeadlineSeconds; v != nil {
		pp := specPath.Child("progressDeadlineSeconds")
		errs = append(errs, nonNegative(int64(*v), pp)...)
		if *v <= spec.MinReadySeconds {
			errs = append(errs, field.Invalid(pp, *v, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

func validateDeploymentStrategy(s *appsv1.DeploymentStrategy, p *field.Path) field.ErrorList {
	switch s.GetType() {
	case "Recreate":
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Forbidden(p.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")}
		}
	case "RollingUpdate":
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(p.Child("rollingUpdate"), "this should be defaulted and never be nil")}
		}
		return validateRollingUpdate(s.RollingUpdate, p.Child("rollingUpdate"))
	default:
		return oneOf(s.GetType(), p.Child("type"), "Recreate", "RollingUpdate")
	}
	return nil
}

func validateRollingUpdate(ru *appsv1.RollingUpdateDeployment, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	mu, ms := p.Child("maxUnavailable"), p.Child("maxSurge")
	errs = append(errs, intOrPercent(ru.MaxUnavailable, mu)...)
	errs = append(errs, intOrPercent(ru.MaxSurge, ms)...)
	if intOrPercentValue(ru.MaxUnavailable) == 0 && intOrPercentValue(ru.MaxSurge) == 0 {
		errs = append(errs, field.Invalid(mu, intOrStringValue(ru.MaxUnavailable), "may not be 0 when `maxSurge` is 0"))
	}
	if v, isPercent := percentValue(ru.MaxUnavailable); isPercent && v > 100 {
		errs = append(errs, field.Invalid(mu, intOrStringValue(ru.MaxUnavailable), "must not be greater than 100%"))
	}
	return errs
}

// intOrPercent checks a non-negative integer or a percentage ("25%").
func intOrPercent(v *metav1.IntOrString, p *field.Path) field.ErrorList {
	switch x := v.GetValue().(type) {
	case *metav1.IntOrString_StrVal:
		return invalidMsgs(p, x.StrVal, validation.IsValidPercent(x.StrVal))
	case *metav1.IntOrString_IntVal:
		return nonNegative(int64(x.IntVal), p)
	}
	return field.ErrorList{field.Invalid(p, "", "must be an integer or percentage (e.g '5%')")}
}

func percentValue(v *metav1.IntOrString) (int, bool) {
	s, ok := v.GetValue().(*metav1.IntOrString_StrVal)
	if !ok || !strings.HasSuffix(s.StrVal, "%") {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(s.StrVal, "%"))
	if err != nil {
		return 0, false
	}
	return n, true
}

// intOrPercentValue is the number in an int or percentage, -1 when it is
// neither.
func intOrPercentValue(v *metav1.IntOrString) int {
	if n, ok := percentValue(v); ok {
		return n
	}
	if x, ok := v.GetValue().(*metav1.IntOrString_IntVal); ok {
		return int(x.IntVal)
	}
	return -1
}

// ValidateUpdate checks the new deployment; the selector is immutable.
func (d Deployment) ValidateUpdate(obj, old proto.Message) field.ErrorList {
	errs := d.Validate(obj)
	sel, oldSel := obj.(*appsv1.Deployment).GetSpec().GetSelector(), old.(*appsv1.Deployment).GetSpec().GetSelector()
	return append(errs, immutable(!proto.Equal(sel, oldSel), selectorString(sel), specPath.Child("selector"))...)
}

// ValidateStatusUpdate checks that counts are non-negative and consistent,
// and that collisionCount never decreases.
func (Deployment) ValidateStatusUpdate(obj, old proto.Message) field.ErrorList {
	st, oldSt := obj.(*appsv1.Deployment).GetStatus(), old.(*appsv1.Deployment).GetStatus()
	var errs field.ErrorList
	errs = append(errs, nonNegative(st.GetObservedGeneration(), statusPath.Child("observedGeneration"))...)
	errs = append(errs, nonNegative(int64(st.GetReplicas()), statusPath.Child("replicas"))...)
	errs = append(errs, nonNegative(int64(st.GetUpdatedReplicas()), statusPath.Child("updatedReplicas"))...)
	errs = append(errs, nonNegative(int64(st.GetReadyReplicas()), statusPath.Child("readyReplicas"))...)
	errs = append(errs, nonNegative(int64(st.GetAvailableReplicas()), statusPath.Child("availableReplicas"))...)
	errs = append(errs, nonNegative(int64(st.GetUnavailableReplicas()), statusPath.Child("unavailableReplicas"))...)
	errs = append(errs, nonNegativePtr(st.CollisionCount, statusPath.Child("collisionCount"))...)
	const gt = "cannot be greater than status.replicas"
	if st.GetUpdatedReplicas() > st.GetReplicas() {
		errs = append(errs, field.Invalid(statusPath.Child("updatedReplicas"), st.GetUpdatedReplicas(), gt))
	}
	if st.GetReadyReplicas() > st.GetReplicas() {
		errs = append(errs, field.Invalid(statusPath.Child("readyReplicas"), st.GetReadyReplicas(), gt))
	}
	if st.GetAvailableReplicas() > st.GetReplicas() {
		errs = append(errs, field.Invalid(statusPath.Child("availableReplicas"), st.GetAvailableReplicas(), gt))
	}
	if st.GetAvailableReplicas() > st.GetReadyReplicas() {
		errs = append(errs, field.Invalid(statusPath.Child("availableReplicas"), st.GetAvailableReplicas(), "cannot be greater than readyReplicas"))
	}
	if oldSt.CollisionCount != nil && (st.CollisionCount == nil || *st.CollisionCount < *oldSt.CollisionCount) {
		errs = append(errs, field.Invalid(statusPath.Child("collisionCount"), ptrString(st.CollisionCount), "cannot be decremented"))
	}
	for i, c := range st.GetConditions() {
		cp := statusPath.Child("conditions").Index(i)
		if c.Type == "" {
			errs = append(errs, field.Required(cp.Child("type"), ""))
		}
		errs = append(errs, conditionStatus(c.Status, cp.Child("status"))...)
	}
	return errs
}
