package scheduler

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/scheduler/app"
	"github.com/gantryhq/gantry/scheduler/example/labelpreference"
	"github.com/gantryhq/gantry/test/integration/framework"
)

// TestSecondScheduler runs the example my-scheduler (with its out-of-tree
// plugin and the config.yaml shipped beside it) next to the default
// scheduler: each binds only the pods that name it.
func TestSecondScheduler(t *testing.T) {
	cfg, err := os.ReadFile("../../../scheduler/example/my-scheduler/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, srv)
	ctx := context.Background()
	for _, n := range []struct{ name, label string }{{"hdd-0", "hdd"}, {"hdd-1", "hdd"}, {"ssd-0", "ssd"}, {"ssd-1", "ssd"}} {
		node := makeNode(n.name, "8", "16Gi", "110")
		node.Metadata.Labels["disk"] = n.label
		if n.name == "ssd-1" {
			node.Metadata.Labels["maintenance"] = "true"
		}
		if _, err := cs.Nodes().Create(ctx, node); err != nil {
			t.Fatal(err)
		}
	}
	startScheduler(t, srv, schedOpts{identity: "default", leaderElect: true})
	startScheduler(t, srv, schedOpts{identity: "mine", leaderElect: true, config: string(cfg),
		plugins: []app.Option{app.WithPlugin(labelpreference.Name, labelpreference.New)}})

	for i := range 10 {
		p := makePod("mine-"+string(rune('a'+i)), "100m", "64Mi")
		p.Spec.SchedulerName = "my-scheduler"
		if _, err := cs.Pods("default").Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Pods("default").Create(ctx, makePod("default-"+string(rune('a'+i)), "100m", "64Mi")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "all pods bound", func() bool {
		l, err := cs.Pods("default").List(ctx, clientListAll())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range l.Items {
			if p.GetSpec().GetNodeName() == "" {
				return false
			}
		}
		return len(l.Items) == 20
	})
	l, err := cs.Pods("default").List(ctx, clientListAll())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range l.Items {
		if p.GetSpec().GetSchedulerName() == "my-scheduler" && p.GetSpec().GetNodeName() != "ssd-0" {
			t.Errorf("pod %s of my-scheduler on %s, want ssd-0 (the preferred label, the other ssd node avoided)", p.GetMetadata().GetName(), p.GetSpec().GetNodeName())
		}
	}
	by := map[string]string{}
	evs, err := cs.Events("default").List(ctx, clientListAll())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs.Items {
		if e.GetReason() == "Scheduled" {
			by[e.GetInvolvedObject().GetName()] = e.GetReportingInstance() + "/" + e.GetReportingComponent() + "/" + e.GetSource().GetComponent()
		}
	}
	// Each event names the scheduler instance and, as its source, the
	// profile's schedulerName.
	for name, got := range by {
		want := "default/default-scheduler/default-scheduler"
		if name[:4] == "mine" {
			want = "mine/my-scheduler/my-scheduler"
		}
		if got != want {
			t.Errorf("pod %s scheduled by %q, want %q (instance/reportingComponent/source.component)", name, got, want)
		}
	}
	if len(by) != 20 {
		t.Errorf("%d Scheduled events, want 20", len(by))
	}
}
