package noderesources

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/schedtest"
)

func nodeWith(cpu, mem, pods string, podsOn ...*schedtest.PodWrapper) *framework.NodeInfo {
	ni := framework.NewNodeInfo()
	ni.SetNode(schedtest.MakeNode("n").Capacity(cpu, mem, pods).Obj())
	for _, p := range podsOn {
		ni.AddPod(framework.NewPodInfo(p.Obj()))
	}
	return ni
}

func newFit(t *testing.T, args string) *Fit {
	t.Helper()
	p, err := NewFit(context.Background(), json.RawMessage(args), nil)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Fit)
}

func TestFitFilter(t *testing.T) {
	for _, tc := range []struct {
		desc    string
		node    *framework.NodeInfo
		pod     *schedtest.PodWrapper
		args    string
		reasons []string
	}{
		{"fits", nodeWith("2", "4Gi", "10"), schedtest.MakePod("p").Req("1", "1Gi"), "", nil},
		{"fits exactly", nodeWith("2", "4Gi", "10", schedtest.MakePod("a").Req("1", "3Gi")), schedtest.MakePod("p").Req("1", "1Gi"), "", nil},
		{"cpu", nodeWith("2", "4Gi", "10", schedtest.MakePod("a").Req("1500m", "")), schedtest.MakePod("p").Req("600m", ""), "", []string{"Insufficient cpu"}},
		{"memory", nodeWith("2", "4Gi", "10"), schedtest.MakePod("p").Req("", "5Gi"), "", []string{"Insufficient memory"}},
		{"cpu and memory", nodeWith("1", "1Gi", "10"), schedtest.MakePod("p").Req("2", "2Gi"), "", []string{"Insufficient cpu", "Insufficient memory"}},
		{"too many pods", nodeWith("8", "8Gi", "1", schedtest.MakePod("a")), schedtest.MakePod("p"), "", []string{"Too many pods"}},
		{"best-effort pod fits a full node", nodeWith("1", "1Gi", "10", schedtest.MakePod("a").Req("1", "1Gi")), schedtest.MakePod("p"), "", nil},
		{"ignored resource", nodeWith("1", "1Gi", "10"), schedtest.MakePod("p").Req("2", ""), `{"ignoredResources":["cpu"]}`, nil},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			st := newFit(t, tc.args).Filter(context.Background(), nil, framework.NewPodInfo(tc.pod.Obj()), tc.node)
			if d := cmp.Diff(tc.reasons, st.Reasons()); d != "" {
				t.Errorf("reasons (-want +got):\n%s", d)
			}
			if tc.reasons != nil && st.Code() != framework.Unschedulable {
				t.Errorf("code = %v, want Unschedulable", st.Code())
			}
		})
	}
}

func TestFitArgs(t *testing.T) {
	for _, args := range []string{`{"scoringStrategy":{"type":"Random"}}`, `{"unknown":1}`, `{"scoringStrategy":{"type":"LeastAllocated","resources":[{"name":"cpu","weight":0}]}}`} {
		if _, err := NewFit(context.Background(), json.RawMessage(args), nil); err == nil {
			t.Errorf("args %s: no error", args)
		}
	}
}

func TestScores(t *testing.T) {
	pod := framework.NewPodInfo(schedtest.MakePod("p").Req("1", "1Gi").Obj())
	for _, tc := range []struct {
		desc                  string
		node                  *framework.NodeInfo
		least, most, balanced int64
	}{
		// requested with the pod: cpu 1/4, memory 1/4.
		{"empty node", nodeWith("4", "4Gi", "10"), 75, 25, 100},
		// cpu 3/4, memory 2/4: less balanced.
		{"cpu-heavy node", nodeWith("4", "4Gi", "10", schedtest.MakePod("a").Req("2", "1Gi")), (25 + 50) / 2, (75 + 50) / 2, 87},
		// a pod without requests counts 100m and 200Mi for scoring.
		{"best-effort pod counts", nodeWith("1", "1000Mi", "10", schedtest.MakePod("a")), 0, 100, 100},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if tc.desc == "best-effort pod counts" {
				pod := framework.NewPodInfo(schedtest.MakePod("p").Req("900m", "800Mi").Obj())
				got, _ := newFit(t, "").Score(context.Background(), nil, pod, tc.node)
				if got != tc.least {
					t.Errorf("least-allocated = %d, want %d", got, tc.least)
				}
				return
			}
			got, _ := newFit(t, "").Score(context.Background(), nil, pod, tc.node)
			if got != tc.least {
				t.Errorf("least-allocated = %d, want %d", got, tc.least)
			}
			got, _ = newFit(t, `{"scoringStrategy":{"type":"MostAllocated"}}`).Score(context.Background(), nil, pod, tc.node)
			if got != tc.most {
				t.Errorf("most-allocated = %d, want %d", got, tc.most)
			}
			ba, _ := NewBalancedAllocation(context.Background(), nil, nil)
			got, _ = ba.(*BalancedAllocation).Score(context.Background(), nil, pod, tc.node)
			if got != tc.balanced {
				t.Errorf("balanced = %d, want %d", got, tc.balanced)
			}
		})
	}
}
