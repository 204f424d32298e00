package helper

import (
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"github.com/gantryhq/gantry/scheduler/framework"
)

// Tolerates reports whether t tolerates taint, as Kubernetes'
// Toleration.ToleratesTaint.
func Tolerates(t *corev1.Toleration, taint *corev1.Taint) bool {
	if t.GetEffect() != "" && t.GetEffect() != taint.GetEffect() {
		return false
	}
	if t.GetKey() != "" && t.GetKey() != taint.GetKey() {
		return false
	}
	switch t.GetOperator() {
	case "Exists":
		return true
	case "", "Equal":
		return t.GetValue() == taint.GetValue()
	}
	return false
}

// TolerationsTolerate reports whether any of ts tolerates taint.
func TolerationsTolerate(ts []*corev1.Toleration, taint *corev1.Taint) bool {
	for _, t := range ts {
		if Tolerates(t, taint) {
			return true
		}
	}
	return false
}

// DefaultNormalizeScore scales scores so the largest is MaxNodeScore
// (reversed: the largest becomes 0 and 0 becomes MaxNodeScore).
func DefaultNormalizeScore(reverse bool, scores framework.NodeScoreList) {
	var top int64
	for _, s := range scores {
		top = max(top, s.Score)
	}
	if top == 0 {
		if reverse {
			for i := range scores {
				scores[i].Score = framework.MaxNodeScore
			}
		}
		return
	}
	for i := range scores {
		s := scores[i].Score * framework.MaxNodeScore / top
		if reverse {
			s = framework.MaxNodeScore - s
		}
		scores[i].Score = s
	}
}
