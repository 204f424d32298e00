package cache

import (
	"testing"

	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/schedtest"
)

func assumed(name, node, cpu string) *framework.PodInfo {
	return framework.NewPodInfo(schedtest.MakePod(name).Req(cpu, "").Node(node).Obj())
}

func TestAssumeConfirmForget(t *testing.T) {
	c := New()
	c.AddNode(schedtest.MakeNode("n1").Capacity("4", "8Gi", "110").Obj())
	a := assumed("a", "n1", "1")
	if err := c.AssumePod(a); err != nil {
		t.Fatal(err)
	}
	if err := c.AssumePod(a); err == nil {
		t.Error("assuming a pod twice succeeded")
	}
	if got := c.Dump()["n1"].Requested.MilliCPU; got != 1000 {
		t.Fatalf("requested = %d after assume, want 1000", got)
	}
	// The informer reports it bound: confirmed, not counted twice.
	if err := c.AddPod(a.Pod); err != nil {
		t.Fatal(err)
	}
	if c.IsAssumed(a.Pod) {
		t.Error("still assumed after the informer saw it bound")
	}
	if got := c.Dump()["n1"].Requested.MilliCPU; got != 1000 {
		t.Fatalf("requested = %d after confirm, want 1000", got)
	}
	// Another is assumed and its binding fails.
	b := assumed("b", "n1", "2")
	if err := c.AssumePod(b); err != nil {
		t.Fatal(err)
	}
	if err := c.ForgetPod(b.Pod); err != nil {
		t.Fatal(err)
	}
	if got := c.Dump()["n1"].Requested.MilliCPU; got != 1000 {
		t.Fatalf("requested = %d after forget, want 1000", got)
	}
	if err := c.ForgetPod(a.Pod); err == nil {
		t.Error("forgetting a bound pod succeeded")
	}
	if err := c.RemovePod(a.Pod); err != nil {
		t.Fatal(err)
	}
	if got := c.Dump()["n1"]; got.Requested.MilliCPU != 0 || len(got.Pods) != 0 {
		t.Fatalf("node after remove = %+v", got)
	}
}

func TestSnapshotIsIncrementalAndStable(t *testing.T) {
	c := New()
	for _, n := range []string{"n1", "n2", "n3"} {
		c.AddNode(schedtest.MakeNode(n).Capacity("4", "8Gi", "110").Obj())
	}
	s := NewEmptySnapshot()
	c.UpdateSnapshot(s)
	if s.NumNodes() != 3 {
		t.Fatalf("snapshot has %d nodes, want 3", s.NumNodes())
	}
	n2 := s.List()[1]
	n1Before := s.List()[0]
	if err := c.AssumePod(assumed("a", "n2", "1")); err != nil {
		t.Fatal(err)
	}
	// The snapshot does not change until updated.
	if n2.Requested.MilliCPU != 0 {
		t.Fatal("snapshot changed before UpdateSnapshot")
	}
	c.UpdateSnapshot(s)
	if n2.Requested.MilliCPU != 1000 {
		t.Fatalf("snapshot node n2 requested = %d, want 1000 (updated in place)", n2.Requested.MilliCPU)
	}
	if s.List()[0] != n1Before || n1Before.Requested.MilliCPU != 0 {
		t.Error("unchanged node n1 was replaced or changed")
	}
	// Changing the snapshot's copy does not change the cache.
	n2.Requested.MilliCPU = 12345
	if got := c.Dump()["n2"].Requested.MilliCPU; got != 1000 {
		t.Errorf("cache n2 requested = %d, want 1000", got)
	}
	c.RemoveNode("n1")
	c.AddNode(schedtest.MakeNode("n4").Capacity("4", "8Gi", "110").Obj())
	c.UpdateSnapshot(s)
	var names []string
	for _, n := range s.List() {
		names = append(names, n.Name())
	}
	if len(names) != 3 || names[0] != "n2" || names[2] != "n4" {
		t.Errorf("snapshot nodes = %v, want [n2 n3 n4]", names)
	}
	if _, err := s.Get("n1"); err == nil {
		t.Error("removed node still in the snapshot")
	}
}

func TestPodsOnRemovedNode(t *testing.T) {
	c := New()
	c.AddNode(schedtest.MakeNode("n1").Capacity("4", "8Gi", "110").Obj())
	p := schedtest.MakePod("a").Req("1", "").Node("n1").Obj()
	if err := c.AddPod(p); err != nil {
		t.Fatal(err)
	}
	c.RemoveNode("n1")
	s := NewEmptySnapshot()
	c.UpdateSnapshot(s)
	if s.NumNodes() != 0 {
		t.Fatalf("snapshot has %d nodes, want 0", s.NumNodes())
	}
	// The node comes back: its pod still counts.
	c.AddNode(schedtest.MakeNode("n1").Capacity("4", "8Gi", "110").Obj())
	c.UpdateSnapshot(s)
	ni, err := s.Get("n1")
	if err != nil {
		t.Fatal(err)
	}
	if ni.Requested.MilliCPU != 1000 {
		t.Errorf("requested = %d, want 1000", ni.Requested.MilliCPU)
	}
}
