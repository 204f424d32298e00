package nodeunschedulable

import (
	"context"
	"testing"

	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/schedtest"
)

func TestFilter(t *testing.T) {
	for _, tc := range []struct {
		desc string
		node *schedtest.NodeWrapper
		pod  *schedtest.PodWrapper
		code framework.Code
	}{
		{"schedulable node", schedtest.MakeNode("n"), schedtest.MakePod("p"), framework.Success},
		{"cordoned node", schedtest.MakeNode("n").Unschedulable(), schedtest.MakePod("p"), framework.UnschedulableAndUnresolvable},
		{"cordoned node, tolerated", schedtest.MakeNode("n").Unschedulable(),
			schedtest.MakePod("p").Toleration(TaintKey, "Exists", "", "NoSchedule"), framework.Success},
		{"cordoned node, tolerate everything", schedtest.MakeNode("n").Unschedulable(),
			schedtest.MakePod("p").Toleration("", "Exists", "", ""), framework.Success},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			ni := framework.NewNodeInfo()
			ni.SetNode(tc.node.Obj())
			st := NodeUnschedulable{}.Filter(context.Background(), framework.NewCycleState(), framework.NewPodInfo(tc.pod.Obj()), ni)
			if st.Code() != tc.code {
				t.Errorf("code = %v (%s), want %v", st.Code(), st.Message(), tc.code)
			}
		})
	}
}
