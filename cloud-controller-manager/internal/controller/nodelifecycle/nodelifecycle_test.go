package nodelifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gantryhq/gantry/client/clienttest"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/controller/nodelifecycle"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/nodeutil"
	. "github.com/gantryhq/gantry/cloud-controller-manager/internal/testutil"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider/fake"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

func TestMonitorNodes(t *testing.T) {
	p := fake.New()
	p.SetInstance("ready", fake.Instance{})
	p.SetInstance("notready-exists", fake.Instance{})
	p.SetInstance("shutdown", fake.Instance{Shutdown: true})
	p.SetInstance("back-up", fake.Instance{})
	// "ready-gone" and "notready-gone" have no instance.
	cs, srv := clienttest.New(t,
		MakeNode("ready").Obj(),
		MakeNode("ready-gone").Obj(), // Ready nodes are not asked about
		MakeNode("notready-exists").NotReady("Unknown").Obj(),
		MakeNode("notready-gone").NotReady("Unknown").Obj(),
		MakeNode("shutdown").NotReady("False").Obj(),
		MakeNode("back-up").Taint(nodeutil.TaintShutdown).Obj(),
	)
	f := informer.NewFactory(cs)
	c := nodelifecycle.New(nodelifecycle.Config{Client: cs, Informers: f, Instances: p})
	ctx := start(t, f)
	c.MonitorNodes(ctx)

	var names []string
	taints := map[string]bool{}
	for _, o := range srv.Objects("nodes") {
		n := o.(*corev1.Node)
		names = append(names, n.GetMetadata().GetName())
		taints[n.GetMetadata().GetName()] = nodeutil.HasTaint(n, nodeutil.TaintShutdown)
	}
	sort.Strings(names)
	if diff := cmp.Diff([]string{"back-up", "notready-exists", "ready", "ready-gone", "shutdown"}, names); diff != "" {
		t.Errorf("nodes left (-want +got):\n%s", diff)
	}
	wantTaints := map[string]bool{"back-up": false, "notready-exists": false, "ready": false, "ready-gone": false, "shutdown": true}
	if diff := cmp.Diff(wantTaints, taints); diff != "" {
		t.Errorf("shutdown taints (-want +got):\n%s", diff)
	}
	for _, call := range p.Calls() {
		if call == "InstanceExists ready" || call == "InstanceExists ready-gone" {
			t.Errorf("provider asked about a Ready node: %s", call)
		}
	}

	// A second pass, once the cache has caught up, changes nothing more.
	Eventually(t, "cache sees the deletion", func() (bool, string) {
		return f.Nodes().Indexer().Len() == 5, fmt.Sprint(f.Nodes().Indexer().ListKeys())
	})
	srv.ClearActions()
	c.MonitorNodes(ctx)
	for _, a := range srv.Actions() {
		if a.Verb != "get" && a.Verb != "list" && a.Verb != "watch" {
			t.Errorf("second pass wrote: %s %s", a.Verb, a.Name)
		}
	}
}

func TestProviderErrorsKeepNode(t *testing.T) {
	p := fake.New()
	p.SetError("InstanceExists", errors.New("cloud API down"))
	cs, srv := clienttest.New(t, MakeNode("n1").NotReady("Unknown").Obj())
	f := informer.NewFactory(cs)
	c := nodelifecycle.New(nodelifecycle.Config{Client: cs, Informers: f, Instances: p})
	ctx := start(t, f)
	c.MonitorNodes(ctx)
	if srv.Object("nodes", "", "n1") == nil {
		t.Fatal("node deleted though the provider could not say whether its instance exists")
	}
	if got := p.CallCount("InstanceExists"); got != 1 {
		t.Fatalf("InstanceExists called %d times, want 1: %s", got, fmt.Sprint(p.Calls()))
	}
}

// start starts f's informers until the test ends and waits for their caches.
func start(t *testing.T, f *informer.Factory) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	f.Start(ctx)
	t.Cleanup(func() { cancel(); f.Shutdown() })
	if !f.WaitForCacheSync(ctx) {
		t.Fatal("caches did not sync")
	}
	return ctx
}
