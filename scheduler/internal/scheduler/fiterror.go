package scheduler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gantryhq/gantry/scheduler/framework"
)

// FitError says why no node fits a pod, in kube-scheduler's words.
type FitError struct {
	Pod         *framework.PodInfo
	NumAllNodes int
	// Statuses are the rejections of the nodes examined.
	Statuses framework.NodeToStatus
	// PreFilterMsg is set when a PreFilter plugin rejected the pod.
	PreFilterMsg string
	// PostFilterMsg is what preemption found.
	PostFilterMsg string
}

// Error is "0/3 nodes are available: 2 Insufficient cpu, 1 node(s) had
// untolerated taint {k: v}." with the most frequent reasons first, then
// what preemption said.
func (f *FitError) Error() string {
	msg := fmt.Sprintf("0/%d nodes are available", f.NumAllNodes)
	if f.PreFilterMsg != "" {
		msg += ": " + f.PreFilterMsg
	} else if len(f.Statuses) > 0 {
		msg += ": " + strings.Join(f.Histogram(), ", ")
	}
	msg += "."
	if f.PostFilterMsg != "" {
		msg += " preemption: " + f.PostFilterMsg
	}
	return msg
}

// Histogram counts the reasons ("2 Insufficient cpu"), most frequent first,
// then alphabetically.
func (f *FitError) Histogram() []string {
	counts := map[string]int{}
	for _, s := range f.Statuses {
		for _, r := range s.Reasons() {
			counts[r]++
		}
	}
	type rc struct {
		reason string
		count  int
	}
	var list []rc
	for r, c := range counts {
		list = append(list, rc{r, c})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].count != list[j].count {
			return list[i].count > list[j].count
		}
		return list[i].reason < list[j].reason
	})
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = fmt.Sprintf("%d %s", x.count, x.reason)
	}
	return out
}

// UnschedulablePlugins names the plugins that rejected the pod.
func (f *FitError) UnschedulablePlugins() map[string]struct{} {
	out := map[string]struct{}{}
	for _, s := range f.Statuses {
		if p := s.Plugin(); p != "" {
			out[p] = struct{}{}
		}
	}
	return out
}
