package strategy

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	apismetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// Messages Kubernetes uses for common failures.
const (
	msgImmutable      = "field is immutable"
	msgNegative       = "must be greater than or equal to 0"
	msgSelectorLabels = "`selector` does not match template `labels`"
)

var (
	specPath   = field.NewPath("spec")
	statusPath = field.NewPath("status")
)

// sortedKeys returns a map's keys in order, so that errors come out in a
// stable order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func nonNegative(v int64, p *field.Path) field.ErrorList {
	return apivalidation.ValidateNonnegativeField(v, p)
}

func nonNegativePtr[T ~int32 | ~int64](v *T, p *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	return nonNegative(int64(*v), p)
}

// oneOf checks that v is one of the allowed values; empty is Required.
func oneOf(v string, p *field.Path, allowed ...string) field.ErrorList {
	if v == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	if !slices.Contains(allowed, v) {
		return field.ErrorList{field.NotSupported(p, v, allowed)}
	}
	return nil
}

// oneOfOrEmpty is oneOf where empty is allowed.
func oneOfOrEmpty(v string, p *field.Path, allowed ...string) field.ErrorList {
	if v == "" {
		return nil
	}
	return oneOf(v, p, allowed...)
}

func invalidMsgs(p *field.Path, value any, msgs []string) field.ErrorList {
	var errs field.ErrorList
	for _, m := range msgs {
		errs = append(errs, field.Invalid(p, value, m))
	}
	return errs
}

func dns1123Label(v string, p *field.Path) field.ErrorList {
	return invalidMsgs(p, v, validation.IsDNS1123Label(v))
}

func dns1123Subdomain(v string, p *field.Path) field.ErrorList {
	return invalidMsgs(p, v, validation.IsDNS1123Subdomain(v))
}

func qualifiedName(v string, p *field.Path) field.ErrorList {
	return invalidMsgs(p, v, validation.IsQualifiedName(v))
}

func validPort(port int32, p *field.Path) field.ErrorList {
	return invalidMsgs(p, port, validation.IsValidPortNum(int(port)))
}

// conditionStatus checks a condition's status: True, False or Unknown.
func conditionStatus(s string, p *field.Path) field.ErrorList {
	return oneOf(s, p, "True", "False", "Unknown")
}

// intOrStringValue renders an IntOrString for error values.
func intOrStringValue(v *metav1.IntOrString) any {
	if s, ok := v.GetValue().(*metav1.IntOrString_StrVal); ok {
		return s.StrVal
	}
	return v.GetIntVal()
}

func isZeroIntOrString(v *metav1.IntOrString) bool {
	switch x := v.GetValue().(type) {
	case *metav1.IntOrString_StrVal:
		return x.StrVal == ""
	case *metav1.IntOrString_IntVal:
		return x.IntVal == 0
	}
	return true
}

// portNumOrName checks a port given as a number (1-65535) or as the name of
// a container port (IANA_SVC_NAME).
func portNumOrName(v *metav1.IntOrString, p *field.Path) field.ErrorList {
	switch x := v.GetValue().(type) {
	case *metav1.IntOrString_StrVal:
		return invalidMsgs(p, x.StrVal, validation.IsValidPortName(x.StrVal))
	case *metav1.IntOrString_IntVal:
		return validPort(x.IntVal, p)
	}
	return field.ErrorList{field.Required(p, "")}
}

// parseQuantity parses a quantity, reporting a syntax error at p.
func parseQuantity(q *metav1.Quantity, p *field.Path) (resource.Quantity, field.ErrorList) {
	v, err := resource.ParseQuantity(q.GetValue())
	if err != nil {
		return resource.Quantity{}, field.ErrorList{field.Invalid(p, q.GetValue(), err.Error())}
	}
	return v, nil
}

// nonNegativeQuantity parses a quantity and checks that it is >= 0.
func nonNegativeQuantity(q *metav1.Quantity, p *field.Path) field.ErrorList {
	v, errs := parseQuantity(q, p)
	if errs != nil {
		return errs
	}
	if v.Sign() < 0 {
		return field.ErrorList{field.Invalid(p, q.GetValue(), msgNegative)}
	}
	return nil
}

// apiSelector converts a proto label selector to apimachinery's; nil stays
// nil.
func apiSelector(s *metav1.LabelSelector) *apismetav1.LabelSelector {
	if s == nil {
		return nil
	}
	out := &apismetav1.LabelSelector{MatchLabels: s.MatchLabels}
	for _, e := range s.MatchExpressions {
		out.MatchExpressions = append(out.MatchExpressions, apismetav1.LabelSelectorRequirement{
			Key:      e.Key,
			Operator: apismetav1.LabelSelectorOperator(e.Operator),
			Values:   e.Values,
		})
	}
	return out
}

// validateLabelSelector checks a selector's keys, values and operators.
func validateLabelSelector(s *metav1.LabelSelector, p *field.Path) field.ErrorList {
	return metavalidation.ValidateLabelSelector(apiSelector(s), metavalidation.LabelSelectorValidationOptions{}, p)
}

// selectorString renders a selector in kubectl's form ("app=web").
func selectorString(s *metav1.LabelSelector) string {
	if s == nil {
		return "<none>"
	}
	return apismetav1.FormatLabelSelector(apiSelector(s))
}

// validateWorkloadSelector checks a required, non-empty selector and that it
// selects the template's labels (ReplicaSet and Deployment).
func validateWorkloadSelector(sel *metav1.LabelSelector, templateLabels map[string]string, kind string, sp *field.Path) field.ErrorList {
	var errs field.ErrorList
	if sel == nil {
		return field.ErrorList{field.Required(sp.Child("selector"), "")}
	}
	errs = append(errs, validateLabelSelector(sel, sp.Child("selector"))...)
	if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(sp.Child("selector"), selectorString(sel), "empty selector is invalid for "+kind))
	}
	selector, err := apismetav1.LabelSelectorAsSelector(apiSelector(sel))
	if err != nil {
		return append(errs, field.Invalid(sp.Child("selector"), selectorString(sel), "invalid label selector"))
	}
	if !selector.Empty() && !selector.Matches(labels.Set(templateLabels)) {
		errs = append(errs, field.Invalid(sp.Child("template", "metadata", "labels"), templateLabels, msgSelectorLabels))
	}
	return errs
}

// validateTemplateMeta checks the metadata of an embedded template (the
// registry validates only the object's own): labels and annotations.
func validateTemplateMeta(m *metav1.ObjectMeta, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, metavalidation.ValidateLabels(m.GetLabels(), p.Child("labels"))...)
	errs = append(errs, apivalidation.ValidateAnnotations(m.GetAnnotations(), p.Child("annotations"))...)
	return errs
}

// localDescendingPath checks a path that must stay inside its root: relative
// and without "..".
func localDescendingPath(v string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if strings.HasPrefix(v, "/") {
		errs = append(errs, field.Invalid(p, v, "must be a relative path"))
	}
	for _, part := range strings.Split(v, "/") {
		if part == ".." {
			errs = append(errs, field.Invalid(p, v, "must not contain '..'"))
			break
		}
	}
	return errs
}

// immutable reports a changed field as Kubernetes' ValidateImmutableField
// does.
func immutable(changed bool, value any, p *field.Path) field.ErrorList {
	if !changed {
		return nil
	}
	return field.ErrorList{field.Invalid(p, value, msgImmutable)}
}

func ptrString[T any](v *T) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprint(*v)
}

func ptrEqual[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
