package route_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/clienttest"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/controller/route"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/nodeutil"
	. "github.com/gantryhq/gantry/cloud-controller-manager/internal/testutil"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider/fake"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

func TestRoutesFollowPodCIDRs(t *testing.T) {
	p := fake.New()
	p.AddRoute(provider.Route{Name: "test-gone", TargetNode: "gone", DestinationCIDR: "10.244.9.0/24"})
	p.AddRoute(provider.Route{Name: "test-n2", TargetNode: "n2", DestinationCIDR: "10.244.7.0/24"}) // stale CIDR
	cs, srv := clienttest.New(t,
		MakeNode("n1").PodCIDR("10.244.1.0/24").Obj(),
		MakeNode("n2").PodCIDR("10.244.2.0/24").Obj(),
		MakeNode("n3").Obj(), // no CIDR yet
	)
	f := informer.NewFactory(cs)
	c := route.New(route.Config{Client: cs, Informers: f, Routes: p, ClusterName: "test"})
	Start(t, f, c.Run)

	want := []provider.Route{
		{Name: "test-n1", TargetNode: "n1", DestinationCIDR: "10.244.1.0/24"},
		{Name: "test-n2", TargetNode: "n2", DestinationCIDR: "10.244.2.0/24"},
	}
	Eventually(t, "routes", func() (bool, string) {
		return cmp.Equal(want, p.RouteList()), cmp.Diff(want, p.RouteList())
	})
	Eventually(t, "NetworkUnavailable=False on n1", func() (bool, string) {
		n := srv.Object("nodes", "", "n1").(*corev1.Node)
		return nodeutil.Condition(n, nodeutil.ConditionNetworkUnavailable).GetStatus() == "False", fmt.Sprint(n.GetStatus())
	})
	if n := srv.Object("nodes", "", "n3").(*corev1.Node); nodeutil.Condition(n, nodeutil.ConditionNetworkUnavailable) != nil {
		t.Errorf("n3 has no CIDR but got a NetworkUnavailable condition")
	}

	// A new node's CIDR gets a route at once; a deleted node's goes.
	if _, err := cs.Nodes().Create(context.Background(), MakeNode("n4").PodCIDR("10.244.4.0/24").Obj()); err != nil {
		t.Fatal(err)
	}
	if err := cs.Nodes().Delete(context.Background(), "n1", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	want = []provider.Route{
		{Name: "test-n2", TargetNode: "n2", DestinationCIDR: "10.244.2.0/24"},
		{Name: "test-n4", TargetNode: "n4", DestinationCIDR: "10.244.4.0/24"},
	}
	Eventually(t, "routes after node changes", func() (bool, string) {
		return cmp.Equal(want, p.RouteList()), cmp.Diff(want, p.RouteList())
	})
}
