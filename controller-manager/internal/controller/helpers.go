package controller

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	apismetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/client/scheme"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// Selector converts a label selector to a labels.Selector. A nil selector
// selects nothing; an empty one selects everything, as in Kubernetes.
func Selector(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil {
		return labels.Nothing(), nil
	}
	ls := &apismetav1.LabelSelector{MatchLabels: s.GetMatchLabels()}
	for _, r := range s.GetMatchExpressions() {
		ls.MatchExpressions = append(ls.MatchExpressions, apismetav1.LabelSelectorRequirement{
			Key: r.GetKey(), Operator: apismetav1.LabelSelectorOperator(r.GetOperator()), Values: r.GetValues(),
		})
	}
	sel, err := apismetav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return nil, fmt.Errorf("invalid selector: %w", err)
	}
	return sel, nil
}

// ControllerOf returns the owner reference with controller=true, or nil.
func ControllerOf(m *metav1.ObjectMeta) *metav1.OwnerReference {
	for _, r := range m.GetOwnerReferences() {
		if r.GetController() {
			return r
		}
	}
	return nil
}

// NewControllerRef returns a controller owner reference to owner, blocking
// the owner's foreground deletion.
func NewControllerRef(owner scheme.Object) *metav1.OwnerReference {
	res, ok := scheme.ForMessage(owner)
	if !ok {
		panic(fmt.Sprintf("controller: %T is not a kind", owner))
	}
	m := owner.GetMetadata()
	return &metav1.OwnerReference{
		ApiVersion: res.APIVersion(), Kind: res.Kind, Name: m.GetName(), Uid: m.GetUid(),
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}
}

// IsPodActive reports whether a pod is neither finished nor being deleted.
func IsPodActive(p *corev1.Pod) bool {
	ph := p.GetStatus().GetPhase()
	return ph != "Succeeded" && ph != "Failed" && p.GetMetadata().GetDeletionTimestamp() == nil
}

// IsPodTerminating reports whether a pod is being deleted but not yet
// finished.
func IsPodTerminating(p *corev1.Pod) bool {
	ph := p.GetStatus().GetPhase()
	return p.GetMetadata().GetDeletionTimestamp() != nil && ph != "Succeeded" && ph != "Failed"
}

// PodReadyCondition returns the pod's Ready condition, or nil.
func PodReadyCondition(p *corev1.Pod) *corev1.PodCondition {
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c
		}
	}
	return nil
}

// IsPodReady reports whether the pod's Ready condition is True.
func IsPodReady(p *corev1.Pod) bool {
	c := PodReadyCondition(p)
	return c != nil && c.GetStatus() == "True"
}

// IsPodAvailable reports whether the pod has been ready for at least
// minReadySeconds at now.
func IsPodAvailable(p *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	c := PodReadyCondition(p)
	if c == nil || c.GetStatus() != "True" {
		return false
	}
	if minReadySeconds <= 0 {
		return true
	}
	t := c.GetLastTransitionTime()
	if t == nil {
		return false
	}
	return !t.AsTime().Add(time.Duration(minReadySeconds) * time.Second).After(now)
}

// ScaledValue resolves an int-or-percent against total, rounding a percent
// up or down. Nil is 0.
func ScaledValue(v *metav1.IntOrString, total int, roundUp bool) (int, error) {
	switch x := v.GetValue().(type) {
	case nil:
		return 0, nil
	case *metav1.IntOrString_IntVal:
		return int(x.IntVal), nil
	case *metav1.IntOrString_StrVal:
		s := x.StrVal
		if !strings.HasSuffix(s, "%") {
			n, err := strconv.Atoi(s)
			if err != nil {
				return 0, fmt.Errorf("invalid value %q: an integer or a percentage", s)
			}
			return n, nil
		}
		p, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
		if err != nil {
			return 0, fmt.Errorf("invalid percentage %q", s)
		}
		f := float64(p) * float64(total) / 100
		if roundUp {
			return int(math.Ceil(f)), nil
		}
		return int(math.Floor(f)), nil
	}
	return 0, fmt.Errorf("invalid int-or-string %v", v)
}

// HasFinalizer reports whether m has finalizer f.
func HasFinalizer(m *metav1.ObjectMeta, f string) bool {
	for _, x := range m.GetFinalizers() {
		if x == f {
			return true
		}
	}
	return false
}

// RemoveFinalizer returns fs without f.
func RemoveFinalizer(fs []string, f string) []string {
	out := make([]string, 0, len(fs))
	for _, x := range fs {
		if x != f {
			out = append(out, x)
		}
	}
	return out
}
