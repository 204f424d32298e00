package nodename

import (
	"context"
	"testing"

	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/schedtest"
)

func TestFilter(t *testing.T) {
	node := framework.NewNodeInfo()
	node.SetNode(schedtest.MakeNode("n1").Obj())
	for _, tc := range []struct {
		name, want string
		code       framework.Code
	}{
		{"", "no node named", framework.Success},
		{"n1", "same node", framework.Success},
		{"n2", "other node", framework.UnschedulableAndUnresolvable},
	} {
		t.Run(tc.want, func(t *testing.T) {
			pod := framework.NewPodInfo(schedtest.MakePod("p").Node(tc.name).Obj())
			st := NodeName{}.Filter(context.Background(), framework.NewCycleState(), pod, node)
			if st.Code() != tc.code {
				t.Fatalf("code = %v, want %v", st.Code(), tc.code)
			}
			if tc.code != framework.Success && st.Message() != ErrReason {
				t.Errorf("reason = %q", st.Message())
			}
		})
	}
}
