package defaultbinder_test

import (
	"context"
	"testing"

	"github.com/gantryhq/gantry/client/clienttest"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/config"
	"github.com/gantryhq/gantry/scheduler/internal/plugins"
	"github.com/gantryhq/gantry/scheduler/internal/runtime"
	"github.com/gantryhq/gantry/scheduler/internal/schedtest"
)

func TestBind(t *testing.T) {
	pod := schedtest.MakePod("p").Obj()
	cs, srv := clienttest.New(t, pod)
	ctx := context.Background()
	fwk, err := runtime.New(ctx, plugins.NewInTreeRegistry(), config.Profile{SchedulerName: "default-scheduler"}, runtime.Options{ClientSet: cs})
	if err != nil {
		t.Fatal(err)
	}
	pi := framework.NewPodInfo(pod)
	if st := fwk.RunBindPlugins(ctx, framework.NewCycleState(), pi, "n1"); !st.IsSuccess() {
		t.Fatal(st)
	}
	if got := srv.Object("pods", "default", "p").(*corev1.Pod).GetSpec().GetNodeName(); got != "n1" {
		t.Errorf("nodeName = %q, want n1", got)
	}
	// A second bind fails: the pod has a node.
	if st := fwk.RunBindPlugins(ctx, framework.NewCycleState(), pi, "n2"); st.IsSuccess() {
		t.Error("second bind succeeded")
	}
	// A pod deleted and created again (new uid) is not bound by mistake.
	stale := framework.NewPodInfo(schedtest.MakePod("q").UID("old").Obj())
	if err := srv.Add(schedtest.MakePod("q").UID("new").Obj()); err != nil {
		t.Fatal(err)
	}
	if st := fwk.RunBindPlugins(ctx, framework.NewCycleState(), stale, "n1"); st.IsSuccess() {
		t.Error("bind with a stale uid succeeded")
	}
}
