package selectorspread

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/schedtest"
)

func node(name string, pods ...*schedtest.PodWrapper) *framework.NodeInfo {
	ni := framework.NewNodeInfo()
	ni.SetNode(schedtest.MakeNode(name).Obj())
	for _, p := range pods {
		ni.AddPod(framework.NewPodInfo(p.Obj()))
	}
	return ni
}

func TestScore(t *testing.T) {
	nodes := []*framework.NodeInfo{
		node("empty"),
		node("one", schedtest.MakePod("a").Owner("rs-1")),
		node("two", schedtest.MakePod("b").Owner("rs-1"), schedtest.MakePod("c").Owner("rs-1"), schedtest.MakePod("x").Owner("rs-2")),
		node("other-ns", schedtest.MakePod("d").Owner("rs-1").Namespace("kube-system")),
	}
	p := &SelectorSpread{}
	for _, tc := range []struct {
		desc string
		pod  *schedtest.PodWrapper
		want framework.NodeScoreList
	}{
		{"spreads a workload", schedtest.MakePod("new").Owner("rs-1"),
			framework.NodeScoreList{{Name: "empty", Score: 100}, {Name: "one", Score: 50}, {Name: "two", Score: 0}, {Name: "other-ns", Score: 100}}},
		{"first pod of a workload", schedtest.MakePod("new").Owner("rs-9"),
			framework.NodeScoreList{{Name: "empty", Score: 100}, {Name: "one", Score: 100}, {Name: "two", Score: 100}, {Name: "other-ns", Score: 100}}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			pod := framework.NewPodInfo(tc.pod.Obj())
			state := framework.NewCycleState()
			if st := p.PreScore(context.Background(), state, pod, nodes); !st.IsSuccess() {
				t.Fatal(st)
			}
			var scores framework.NodeScoreList
			for _, n := range nodes {
				s, st := p.Score(context.Background(), state, pod, n)
				if !st.IsSuccess() {
					t.Fatal(st)
				}
				scores = append(scores, framework.NodeScore{Name: n.Name(), Score: s})
			}
			p.NormalizeScore(context.Background(), state, pod, scores)
			if d := cmp.Diff(tc.want, scores); d != "" {
				t.Errorf("scores (-want +got):\n%s", d)
			}
		})
	}
	if st := p.PreScore(context.Background(), framework.NewCycleState(), framework.NewPodInfo(schedtest.MakePod("bare").Obj()), nodes); !st.IsSkip() {
		t.Errorf("PreScore of a pod without controller = %v, want Skip", st)
	}
}

func TestFilterHostnameSpread(t *testing.T) {
	app := map[string]string{"app": "web"}
	nodes := []*framework.NodeInfo{
		node("n0"),
		node("n1", schedtest.MakePod("a").Labels(app)),
		node("n2", schedtest.MakePod("b").Labels(app), schedtest.MakePod("c").Labels(app)),
	}
	pod := framework.NewPodInfo(schedtest.MakePod("new").Labels(app).SpreadHostname(1, app).Obj())
	p := &SelectorSpread{}
	state := framework.NewCycleState()
	if _, st := p.PreFilter(context.Background(), state, pod, nodes); !st.IsSuccess() {
		t.Fatal(st)
	}
	got := map[string]framework.Code{}
	for _, n := range nodes {
		got[n.Name()] = p.Filter(context.Background(), state, pod, n).Code()
	}
	want := map[string]framework.Code{"n0": framework.Success, "n1": framework.Unschedulable, "n2": framework.Unschedulable}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("filter codes (-want +got):\n%s", d)
	}
	if _, st := p.PreFilter(context.Background(), framework.NewCycleState(), framework.NewPodInfo(schedtest.MakePod("x").Obj()), nodes); !st.IsSkip() {
		t.Errorf("PreFilter without constraints = %v, want Skip", st)
	}
}
