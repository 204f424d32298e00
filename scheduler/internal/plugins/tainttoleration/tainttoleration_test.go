package tainttoleration

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/schedtest"
)

func TestFilter(t *testing.T) {
	for _, tc := range []struct {
		desc   string
		node   *schedtest.NodeWrapper
		pod    *schedtest.PodWrapper
		code   framework.Code
		reason string
	}{
		{"no taints", schedtest.MakeNode("n"), schedtest.MakePod("p"), framework.Success, ""},
		{"untolerated NoSchedule", schedtest.MakeNode("n").Taint("dedicated", "gpu", "NoSchedule"), schedtest.MakePod("p"),
			framework.UnschedulableAndUnresolvable, "node(s) had untolerated taint {dedicated: gpu}"},
		{"untolerated NoExecute", schedtest.MakeNode("n").Taint("k", "v", "NoExecute"), schedtest.MakePod("p"),
			framework.UnschedulableAndUnresolvable, "node(s) had untolerated taint {k: v}"},
		{"PreferNoSchedule does not filter", schedtest.MakeNode("n").Taint("k", "v", "PreferNoSchedule"), schedtest.MakePod("p"), framework.Success, ""},
		{"tolerated by Equal", schedtest.MakeNode("n").Taint("dedicated", "gpu", "NoSchedule"),
			schedtest.MakePod("p").Toleration("dedicated", "Equal", "gpu", "NoSchedule"), framework.Success, ""},
		{"Equal with another value", schedtest.MakeNode("n").Taint("dedicated", "gpu", "NoSchedule"),
			schedtest.MakePod("p").Toleration("dedicated", "Equal", "cpu", "NoSchedule"), framework.UnschedulableAndUnresolvable, "node(s) had untolerated taint {dedicated: gpu}"},
		{"tolerated by Exists, any effect", schedtest.MakeNode("n").Taint("dedicated", "gpu", "NoSchedule"),
			schedtest.MakePod("p").Toleration("dedicated", "Exists", "", ""), framework.Success, ""},
		{"toleration for another effect", schedtest.MakeNode("n").Taint("dedicated", "gpu", "NoSchedule"),
			schedtest.MakePod("p").Toleration("dedicated", "Exists", "", "NoExecute"), framework.UnschedulableAndUnresolvable, "node(s) had untolerated taint {dedicated: gpu}"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			ni := framework.NewNodeInfo()
			ni.SetNode(tc.node.Obj())
			st := TaintToleration{}.Filter(context.Background(), framework.NewCycleState(), framework.NewPodInfo(tc.pod.Obj()), ni)
			if st.Code() != tc.code || st.Message() != tc.reason {
				t.Errorf("got %v %q, want %v %q", st.Code(), st.Message(), tc.code, tc.reason)
			}
		})
	}
}

func TestScore(t *testing.T) {
	nodes := []*schedtest.NodeWrapper{
		schedtest.MakeNode("clean"),
		schedtest.MakeNode("one").Taint("a", "1", "PreferNoSchedule"),
		schedtest.MakeNode("two").Taint("a", "1", "PreferNoSchedule").Taint("b", "2", "PreferNoSchedule"),
		schedtest.MakeNode("tolerated").Taint("c", "3", "PreferNoSchedule"),
	}
	pod := framework.NewPodInfo(schedtest.MakePod("p").Toleration("c", "Exists", "", "PreferNoSchedule").Obj())
	var scores framework.NodeScoreList
	for _, n := range nodes {
		ni := framework.NewNodeInfo()
		ni.SetNode(n.Obj())
		s, st := TaintToleration{}.Score(context.Background(), nil, pod, ni)
		if !st.IsSuccess() {
			t.Fatal(st)
		}
		scores = append(scores, framework.NodeScore{Name: ni.Name(), Score: s})
	}
	TaintToleration{}.NormalizeScore(context.Background(), nil, pod, scores)
	want := framework.NodeScoreList{{Name: "clean", Score: 100}, {Name: "one", Score: 50}, {Name: "two", Score: 0}, {Name: "tolerated", Score: 100}}
	if d := cmp.Diff(want, scores); d != "" {
		t.Errorf("scores (-want +got):\n%s", d)
	}
}
