package nodeaffinity

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"

	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/schedtest"
)

func TestFilter(t *testing.T) {
	node := schedtest.MakeNode("n1").Label("zone", "a").Label("disk", "ssd").Label("cores", "8")
	for _, tc := range []struct {
		desc string
		pod  *schedtest.PodWrapper
		code framework.Code
	}{
		{"nothing asked: skip", schedtest.MakePod("p"), framework.Skip},
		{"nodeSelector matches", schedtest.MakePod("p").NodeSelector(map[string]string{"zone": "a"}), framework.Success},
		{"nodeSelector does not match", schedtest.MakePod("p").NodeSelector(map[string]string{"zone": "b"}), framework.UnschedulableAndUnresolvable},
		{"nodeSelector key missing", schedtest.MakePod("p").NodeSelector(map[string]string{"gpu": "yes"}), framework.UnschedulableAndUnresolvable},
		{"In", schedtest.MakePod("p").RequiredNodeAffinity("zone", "In", "a", "b"), framework.Success},
		{"NotIn", schedtest.MakePod("p").RequiredNodeAffinity("zone", "NotIn", "a"), framework.UnschedulableAndUnresolvable},
		{"Exists", schedtest.MakePod("p").RequiredNodeAffinity("disk", "Exists"), framework.Success},
		{"DoesNotExist", schedtest.MakePod("p").RequiredNodeAffinity("disk", "DoesNotExist"), framework.UnschedulableAndUnresolvable},
		{"Gt", schedtest.MakePod("p").RequiredNodeAffinity("cores", "Gt", "4"), framework.Success},
		{"Lt", schedtest.MakePod("p").RequiredNodeAffinity("cores", "Lt", "4"), framework.UnschedulableAndUnresolvable},
		{"terms are ORed", schedtest.MakePod("p").RequiredNodeAffinity("zone", "In", "b").RequiredNodeAffinity("disk", "In", "ssd"), framework.Success},
		{"selector and affinity both needed", schedtest.MakePod("p").NodeSelector(map[string]string{"zone": "b"}).RequiredNodeAffinity("disk", "In", "ssd"), framework.UnschedulableAndUnresolvable},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			state := framework.NewCycleState()
			pod := framework.NewPodInfo(tc.pod.Obj())
			ni := framework.NewNodeInfo()
			ni.SetNode(node.Obj())
			_, st := NodeAffinity{}.PreFilter(context.Background(), state, pod, nil)
			if st.IsSkip() {
				if tc.code != framework.Skip {
					t.Fatalf("PreFilter skipped, want %v", tc.code)
				}
				return
			}
			st = NodeAffinity{}.Filter(context.Background(), state, pod, ni)
			if st.Code() != tc.code {
				t.Errorf("code = %v, want %v", st.Code(), tc.code)
			}
			if st.IsRejected() && st.Message() != ErrReason {
				t.Errorf("reason = %q", st.Message())
			}
		})
	}
}

func TestPreFilterNodeNames(t *testing.T) {
	pod := schedtest.MakePod("p").Obj()
	pod.Spec.Affinity = nil
	w := schedtest.MakePod("p").RequiredNodeAffinity("zone", "In", "a")
	w.Obj().Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields = nil
	p := w.Obj()
	term := p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0]
	term.MatchExpressions = nil
	term.MatchFields = append(term.MatchFields, &corev1.NodeSelectorRequirement{Key: "metadata.name", Operator: "In", Values: []string{"n1", "n2"}})
	r, st := NodeAffinity{}.PreFilter(context.Background(), framework.NewCycleState(), framework.NewPodInfo(p), nil)
	if !st.IsSuccess() || r == nil {
		t.Fatalf("PreFilter = %v, %v", r, st)
	}
	if d := cmp.Diff(map[string]struct{}{"n1": {}, "n2": {}}, r.NodeNames); d != "" {
		t.Errorf("node names (-want +got):\n%s", d)
	}
}

func TestScore(t *testing.T) {
	pod := framework.NewPodInfo(schedtest.MakePod("p").PreferredNodeAffinity(10, "zone", "In", "a").PreferredNodeAffinity(30, "disk", "In", "ssd").Obj())
	state := framework.NewCycleState()
	if st := (NodeAffinity{}).PreScore(context.Background(), state, pod, nil); !st.IsSuccess() {
		t.Fatal(st)
	}
	var scores framework.NodeScoreList
	for _, n := range []*schedtest.NodeWrapper{
		schedtest.MakeNode("both").Label("zone", "a").Label("disk", "ssd"),
		schedtest.MakeNode("zone").Label("zone", "a"),
		schedtest.MakeNode("disk").Label("disk", "ssd"),
		schedtest.MakeNode("none"),
	} {
		ni := framework.NewNodeInfo()
		ni.SetNode(n.Obj())
		s, st := NodeAffinity{}.Score(context.Background(), state, pod, ni)
		if !st.IsSuccess() {
			t.Fatal(st)
		}
		scores = append(scores, framework.NodeScore{Name: ni.Name(), Score: s})
	}
	NodeAffinity{}.NormalizeScore(context.Background(), state, pod, scores)
	want := framework.NodeScoreList{{Name: "both", Score: 100}, {Name: "zone", Score: 25}, {Name: "disk", Score: 75}, {Name: "none", Score: 0}}
	if d := cmp.Diff(want, scores); d != "" {
		t.Errorf("scores (-want +got):\n%s", d)
	}
}
