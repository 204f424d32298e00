package cloudnode_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/gantryhq/gantry/client/clienttest"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/record/recordtest"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/controller/cloudnode"
	"github.com/gantryhq/gantry/cloud-controller-manager/internal/nodeutil"
	. "github.com/gantryhq/gantry/cloud-controller-manager/internal/testutil"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider/fake"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

func TestInitializesTaintedNodes(t *testing.T) {
	p := fake.New()
	p.SetInstance("n1", fake.Instance{Metadata: provider.InstanceMetadata{
		InstanceType: "m5.large", Zone: "zone-a", Region: "region-1",
		Addresses: []*corev1.NodeAddress{{Type: "InternalIP", Address: "10.0.0.1"}},
	}})
	p.SetInstance("n2", fake.Instance{}) // no metadata beyond its ID
	cs, srv := clienttest.New(t,
		MakeNode("n1").Taint(nodeutil.TaintUninitialized).Taint("other").Address("Hostname", "n1.local").Address("InternalIP", "172.16.0.9").Obj(),
		MakeNode("n2").Taint(nodeutil.TaintUninitialized).Address("InternalIP", "172.16.0.2").Obj(),
		MakeNode("n3").Label("keep", "me").Obj(), // initialized already: left alone
	)
	f := informer.NewFactory(cs)
	rec := &recordtest.Recorder{}
	c := cloudnode.New(cloudnode.Config{Client: cs, Informers: f, Instances: p, Recorder: rec})
	Start(t, f, c.Run)

	node := func(name string) *corev1.Node { return srv.Object("nodes", "", name).(*corev1.Node) }
	for _, n := range []string{"n1", "n2"} {
		Eventually(t, n+" initialized", func() (bool, string) {
			got := node(n)
			return !nodeutil.HasTaint(got, nodeutil.TaintUninitialized), fmt.Sprint(got.GetSpec().GetTaints())
		})
	}
	n1 := node("n1")
	if got, want := n1.GetSpec().GetProviderId(), "fake://n1"; got != want {
		t.Errorf("n1 providerID = %q, want %q", got, want)
	}
	wantLabels := map[string]string{nodeutil.LabelInstanceType: "m5.large", nodeutil.LabelZone: "zone-a", nodeutil.LabelRegion: "region-1"}
	if diff := cmp.Diff(wantLabels, n1.GetMetadata().GetLabels()); diff != "" {
		t.Errorf("n1 labels (-want +got):\n%s", diff)
	}
	wantAddrs := []*corev1.NodeAddress{{Type: "InternalIP", Address: "10.0.0.1"}, {Type: "Hostname", Address: "n1.local"}}
	if diff := cmp.Diff(wantAddrs, n1.GetStatus().GetAddresses(), protocmp.Transform()); diff != "" {
		t.Errorf("n1 addresses (-want +got):\n%s", diff)
	}
	if !nodeutil.HasTaint(n1, "other") || len(n1.GetSpec().GetTaints()) != 1 {
		t.Errorf("n1 taints = %v, want only the other taint", n1.GetSpec().GetTaints())
	}
	n2 := node("n2")
	if diff := cmp.Diff([]*corev1.NodeAddress{{Type: "InternalIP", Address: "172.16.0.2"}}, n2.GetStatus().GetAddresses(), protocmp.Transform()); diff != "" {
		t.Errorf("n2 addresses changed though the provider has none (-want +got):\n%s", diff)
	}
	if len(n2.GetMetadata().GetLabels()) != 0 {
		t.Errorf("n2 labels = %v, want none", n2.GetMetadata().GetLabels())
	}
	if got := node("n3"); got.GetSpec().GetProviderId() != "" {
		t.Errorf("n3 was initialized though it had no taint: %v", got)
	}
	if got := rec.Events(); len(got) != 2 {
		t.Errorf("events = %v, want one per initialized node", got)
	}
}

func TestRetriesUntilInstanceAppears(t *testing.T) {
	p := fake.New()
	p.SetError("InstanceMetadata", errors.New("cloud API down"))
	cs, srv := clienttest.New(t, MakeNode("n1").Taint(nodeutil.TaintUninitialized).Obj())
	f := informer.NewFactory(cs)
	c := cloudnode.New(cloudnode.Config{Client: cs, Informers: f, Instances: p})
	Start(t, f, c.Run)

	Eventually(t, "a few failed tries", func() (bool, string) { return p.CallCount("InstanceMetadata") >= 3, fmt.Sprint(p.Calls()) })
	if got := srv.Object("nodes", "", "n1").(*corev1.Node); !nodeutil.HasTaint(got, nodeutil.TaintUninitialized) {
		t.Fatal("taint removed though the provider failed")
	}
	p.SetError("InstanceMetadata", nil) // the instance is not there yet: still retried
	Eventually(t, "tries with instance missing", func() (bool, string) { return p.CallCount("InstanceMetadata") >= 5, fmt.Sprint(p.Calls()) })
	p.SetInstance("n1", fake.Instance{Metadata: provider.InstanceMetadata{Zone: "z"}})
	Eventually(t, "n1 initialized", func() (bool, string) {
		got := srv.Object("nodes", "", "n1").(*corev1.Node)
		return !nodeutil.HasTaint(got, nodeutil.TaintUninitialized) && got.GetMetadata().GetLabels()[nodeutil.LabelZone] == "z", fmt.Sprint(got)
	})
}
