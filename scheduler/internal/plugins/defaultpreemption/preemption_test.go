package defaultpreemption_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gantryhq/gantry/client/clienttest"
	"github.com/gantryhq/gantry/client/record/recordtest"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/cache"
	"github.com/gantryhq/gantry/scheduler/internal/config"
	"github.com/gantryhq/gantry/scheduler/internal/plugins"
	"github.com/gantryhq/gantry/scheduler/internal/plugins/defaultpreemption"
	"github.com/gantryhq/gantry/scheduler/internal/runtime"
	"github.com/gantryhq/gantry/scheduler/internal/schedtest"
)

func TestPostFilter(t *testing.T) {
	type placed struct {
		pod  *schedtest.PodWrapper
		node string
	}
	for _, tc := range []struct {
		desc        string
		nodes       []*schedtest.NodeWrapper
		placed      []placed
		pod         *schedtest.PodWrapper
		wantNode    string
		wantVictims []string
	}{
		{
			desc:  "evicts the fewest, least important pods",
			nodes: []*schedtest.NodeWrapper{schedtest.MakeNode("n1").Capacity("2", "8Gi", "110"), schedtest.MakeNode("n2").Capacity("2", "8Gi", "110")},
			placed: []placed{
				{schedtest.MakePod("n1-a").Req("1", "").Priority(10), "n1"},
				{schedtest.MakePod("n1-b").Req("1", "").Priority(10), "n1"},
				{schedtest.MakePod("n2-a").Req("1", "").Priority(1), "n2"},
				{schedtest.MakePod("n2-b").Req("1", "").Priority(20), "n2"},
			},
			pod:         schedtest.MakePod("high").Req("1", "").Priority(100),
			wantNode:    "n2",
			wantVictims: []string{"n2-a"},
		},
		{
			desc:   "no lower-priority pods: nothing to do",
			nodes:  []*schedtest.NodeWrapper{schedtest.MakeNode("n1").Capacity("1", "8Gi", "110")},
			placed: []placed{{schedtest.MakePod("same").Req("1", "").Priority(100), "n1"}},
			pod:    schedtest.MakePod("high").Req("1", "").Priority(100),
		},
		{
			desc:   "untolerated taint: preemption does not help",
			nodes:  []*schedtest.NodeWrapper{schedtest.MakeNode("n1").Capacity("1", "8Gi", "110").Taint("k", "v", "NoSchedule")},
			placed: []placed{{schedtest.MakePod("low").Req("1", "").Priority(0), "n1"}},
			pod:    schedtest.MakePod("high").Req("1", "").Priority(100),
		},
		{
			desc:  "evicts two small pods",
			nodes: []*schedtest.NodeWrapper{schedtest.MakeNode("n1").Capacity("2", "8Gi", "110")},
			placed: []placed{
				{schedtest.MakePod("a").Req("500m", "").Priority(1), "n1"},
				{schedtest.MakePod("b").Req("500m", "").Priority(2), "n1"},
				{schedtest.MakePod("c").Req("1", "").Priority(50), "n1"},
			},
			pod:         schedtest.MakePod("high").Req("1", "").Priority(100),
			wantNode:    "n1",
			wantVictims: []string{"a", "b"},
		},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			c := cache.New()
			cs, srv := clienttest.New(t)
			ctx := context.Background()
			for _, n := range tc.nodes {
				c.AddNode(n.Obj())
			}
			for _, p := range tc.placed {
				pod := p.pod.Node(p.node).Obj()
				if err := c.AddPod(pod); err != nil {
					t.Fatal(err)
				}
				if err := srv.Add(pod); err != nil {
					t.Fatal(err)
				}
			}
			preemptor := tc.pod.Obj()
			if err := srv.Add(preemptor); err != nil {
				t.Fatal(err)
			}
			snap := cache.NewEmptySnapshot()
			c.UpdateSnapshot(snap)
			fwk, err := runtime.New(ctx, plugins.NewInTreeRegistry(), config.Profile{SchedulerName: "default-scheduler"},
				runtime.Options{ClientSet: cs, Snapshot: snap, EventRecorder: &recordtest.Recorder{}})
			if err != nil {
				t.Fatal(err)
			}
			pod := framework.NewPodInfo(preemptor)
			state := framework.NewCycleState()
			if _, st := fwk.RunPreFilterPlugins(ctx, state, pod); !st.IsSuccess() {
				t.Fatal(st)
			}
			filtered := framework.NodeToStatus{}
			for _, n := range snap.List() {
				if st := fwk.RunFilterPlugins(ctx, state, pod, n); !st.IsSuccess() {
					filtered[n.Name()] = st
				}
			}
			r, st := fwk.RunPostFilterPlugins(ctx, state, pod, filtered)
			if tc.wantNode == "" {
				if st.IsSuccess() {
					t.Fatalf("PostFilter succeeded on %s, want no candidate", r.NominatedNodeName)
				}
				return
			}
			if !st.IsSuccess() || r.NominatedNodeName != tc.wantNode {
				t.Fatalf("PostFilter = %v, %v; want node %s", r, st, tc.wantNode)
			}
			var deleted []string
			for _, a := range srv.Actions() {
				if a.Verb == "delete" {
					deleted = append(deleted, a.Name)
				}
			}
			slices.Sort(deleted)
			if d := cmp.Diff(tc.wantVictims, deleted); d != "" {
				t.Errorf("victims (-want +got):\n%s", d)
			}
			got := srv.Object("pods", "default", preemptor.GetMetadata().GetName()).(*corev1.Pod)
			if got.GetStatus().GetNominatedNodeName() != tc.wantNode {
				t.Errorf("nominatedNodeName = %q, want %q", got.GetStatus().GetNominatedNodeName(), tc.wantNode)
			}
		})
	}
	_ = defaultpreemption.Name
}
