package nodelifecycle_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/controller-manager/internal/controllertest"
	"github.com/gantryhq/gantry/controller-manager/internal/nodelifecycle"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

var epoch = controllertest.Epoch

func node(name, ready string, taints ...*corev1.Taint) *corev1.Node {
	return &corev1.Node{
		Metadata: &metav1.ObjectMeta{Name: name},
		Spec:     &corev1.NodeSpec{Taints: taints},
		Status: &corev1.NodeStatus{Conditions: []*corev1.NodeCondition{{Type: "Ready", Status: ready,
			LastHeartbeatTime: timestamppb.New(epoch.Add(-time.Hour))}}},
	}
}

func lease(name string) *coordinationv1.Lease {
	return &coordinationv1.Lease{Metadata: &metav1.ObjectMeta{Name: name, Namespace: "kube-node-lease"},
		Spec: &coordinationv1.LeaseSpec{RenewTime: timestamppb.New(epoch)}}
}

func taint(key string, added time.Time) *corev1.Taint {
	return &corev1.Taint{Key: key, Effect: "NoExecute", TimeAdded: timestamppb.New(added)}
}

func tol(key string, secs *int64) *corev1.Toleration {
	return &corev1.Toleration{Key: key, Operator: "Exists", Effect: "NoExecute", TolerationSeconds: secs}
}

func TestEvictionTime(t *testing.T) {
	at := epoch
	tests := []struct {
		name   string
		tols   []*corev1.Toleration
		taints []*corev1.Taint
		want   time.Time
		wantOK bool
	}{
		{"untolerated: at once", nil, []*corev1.Taint{taint("node.kubernetes.io/unreachable", at)}, time.Time{}, true},
		{"tolerated 300s", []*corev1.Toleration{tol("node.kubernetes.io/unreachable", ptr.To(int64(300)))},
			[]*corev1.Taint{taint("node.kubernetes.io/unreachable", at)}, at.Add(300 * time.Second), true},
		{"tolerated forever", []*corev1.Toleration{tol("node.kubernetes.io/unreachable", nil)},
			[]*corev1.Taint{taint("node.kubernetes.io/unreachable", at)}, time.Time{}, false},
		{"wildcard toleration", []*corev1.Toleration{{Operator: "Exists"}},
			[]*corev1.Taint{taint("x", at)}, time.Time{}, false},
		{"one of two taints untolerated", []*corev1.Toleration{tol("a", nil)},
			[]*corev1.Taint{taint("a", at), taint("b", at)}, time.Time{}, true},
		{"earliest of two", []*corev1.Toleration{tol("a", ptr.To(int64(10))), tol("b", ptr.To(int64(100)))},
			[]*corev1.Taint{taint("a", at), taint("b", at)}, at.Add(10 * time.Second), true},
		{"Equal needs the value", []*corev1.Toleration{{Key: "a", Operator: "Equal", Value: "v", Effect: "NoExecute"}},
			[]*corev1.Taint{{Key: "a", Value: "w", Effect: "NoExecute", TimeAdded: timestamppb.New(at)}}, time.Time{}, true},
	}
	for _, tt := range tests {
		got, ok := nodelifecycle.EvictionTime(tt.tols, tt.taints)
		if !got.Equal(tt.want) || ok != tt.wantOK {
			t.Errorf("%s: got %v %v, want %v %v", tt.name, got, ok, tt.want, tt.wantOK)
		}
	}
}

func newController(h *controllertest.Harness) *nodelifecycle.Controller {
	return nodelifecycle.New(h.Ctx, nodelifecycle.Options{MonitorPeriod: time.Second, GracePeriod: 40 * time.Second, EvictionRate: 1000})
}

func taintsOf(h *controllertest.Harness, name string) []string {
	var out []string
	for _, t := range h.Server.Object("nodes", "", name).(*corev1.Node).GetSpec().GetTaints() {
		out = append(out, t.GetKey()+":"+t.GetEffect())
	}
	return out
}

func readyOf(h *controllertest.Harness, name string) string {
	for _, c := range h.Server.Object("nodes", "", name).(*corev1.Node).GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus()
		}
	}
	return ""
}

// monitor runs a pass once the caches have caught up with earlier writes.
func monitor(t *testing.T, h *controllertest.Harness, c *nodelifecycle.Controller) {
	t.Helper()
	time.Sleep(100 * time.Millisecond)
	if err := c.Monitor(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestSilentNodeTaintedUnreachable(t *testing.T) {
	objs := []scheme.Object{node("a", "True"), node("b", "True"), lease("a"), lease("b")}
	h := controllertest.New(t, objs...)
	c := newController(h)
	h.Start()
	monitor(t, h, c)
	if w := h.Writes(); len(w) != 0 {
		t.Fatalf("healthy nodes written: %v", w)
	}
	// b keeps renewing, a goes silent.
	silenceAllBut(t, h, c, "b")
	wantUnreachable(t, h, "a")
	if got := readyOf(h, "b"); got != "True" || len(taintsOf(h, "b")) != 0 {
		t.Errorf("b = %s %v, want True untainted", got, taintsOf(h, "b"))
	}
}

func TestNotReadyNodeTainted(t *testing.T) {
	h := controllertest.New(t, node("a", "False"), node("b", "True"), lease("a"), lease("b"))
	c := newController(h)
	h.Start()
	monitor(t, h, c)
	if diff := cmp.Diff([]string{"node.kubernetes.io/not-ready:NoSchedule", "node.kubernetes.io/not-ready:NoExecute"}, taintsOf(h, "a")); diff != "" {
		t.Errorf("taints (-want +got):\n%s", diff)
	}
}

func TestHealthyNodeLosesTaint(t *testing.T) {
	h := controllertest.New(t, node("a", "True", taint("node.kubernetes.io/unreachable", epoch), &corev1.Taint{Key: "dedicated", Effect: "NoSchedule"}), lease("a"))
	c := newController(h)
	h.Start()
	monitor(t, h, c)
	if diff := cmp.Diff([]string{"dedicated:NoSchedule"}, taintsOf(h, "a")); diff != "" {
		t.Errorf("taints (-want +got):\n%s", diff)
	}
}

func TestCordonedNodeTaintedUnschedulable(t *testing.T) {
	n := node("a", "True")
	n.Spec.Unschedulable = true
	h := controllertest.New(t, n, lease("a"))
	c := newController(h)
	h.Start()
	monitor(t, h, c)
	if diff := cmp.Diff([]string{"node.kubernetes.io/unschedulable:NoSchedule"}, taintsOf(h, "a")); diff != "" {
		t.Errorf("taints (-want +got):\n%s", diff)
	}
}

func TestFullDisruptionTaintsNone(t *testing.T) {
	h := controllertest.New(t, node("a", "True"), node("b", "True", taint("node.kubernetes.io/unreachable", epoch)), lease("a"), lease("b"))
	c := newController(h)
	h.Start()
	monitor(t, h, c)
	h.Clock.Step(41 * time.Second)
	monitor(t, h, c)
	monitor(t, h, c)
	for _, n := range []string{"a", "b"} {
		if got := readyOf(h, n); got != "Unknown" {
			t.Errorf("%s Ready = %s, want Unknown", n, got)
		}
		// NoSchedule, but no NoExecute: nothing is evicted.
		if diff := cmp.Diff([]string{"node.kubernetes.io/unreachable:NoSchedule"}, taintsOf(h, n)); diff != "" {
			t.Errorf("%s taints while every node is down (-want +got):\n%s", n, diff)
		}
	}
}

func TestEviction(t *testing.T) {
	added := epoch.Add(-100 * time.Second)
	pod := func(name string, tols ...*corev1.Toleration) *corev1.Pod {
		p := controllertest.Pod(name, nil).Node("a").Running(epoch.Add(-time.Hour)).Obj()
		p.Spec.Tolerations = tols
		return p
	}
	h := controllertest.New(t,
		node("a", "Unknown", taint("node.kubernetes.io/unreachable", added)), node("b", "True"), lease("a"), lease("b"),
		pod("untolerating"),
		pod("short", tol("node.kubernetes.io/unreachable", ptr.To(int64(60)))),
		pod("default", tol("node.kubernetes.io/unreachable", ptr.To(int64(300)))),
		pod("forever", tol("node.kubernetes.io/unreachable", nil)),
	)
	c := newController(h)
	h.Start()
	monitor(t, h, c)
	// The others are marked not ready: their node is unreachable.
	if diff := cmp.Diff([]string{"delete pods default/short", "delete pods default/untolerating", "update nodes a",
		"updatestatus pods default/default", "updatestatus pods default/forever"}, h.Writes()); diff != "" {
		t.Errorf("first pass (-want +got):\n%s", diff)
	}
	h.Clock.Step(201 * time.Second) // 301 s after the taint
	renew(t, h, "b")
	monitor(t, h, c)
	if diff := cmp.Diff([]string{"delete pods default/default", "update leases kube-node-lease/b"}, h.Writes()); diff != "" {
		t.Errorf("after 301 s (-want +got):\n%s", diff)
	}
}

func renew(t *testing.T, h *controllertest.Harness, name string) {
	t.Helper()
	leases := h.Ctx.Client.Leases("kube-node-lease")
	l, err := leases.Get(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	l.Spec.RenewTime = timestamppb.New(h.Clock.Now())
	if _, err := leases.Update(context.Background(), l); err != nil {
		t.Fatal(err)
	}
}

// TestTaintingRateLimited: with a slow eviction rate, one silent node is
// tainted NoExecute per token; the other waits for a later pass.
func TestTaintingRateLimited(t *testing.T) {
	h := controllertest.New(t, node("a", "True"), node("b", "True"), node("c", "True"), lease("a"), lease("b"), lease("c"))
	c := nodelifecycle.New(h.Ctx, nodelifecycle.Options{MonitorPeriod: time.Second, GracePeriod: 40 * time.Second, EvictionRate: 0.001})
	h.Start()
	monitor(t, h, c)
	silenceAllBut(t, h, c, "c")
	noExecute := 0
	for _, n := range []string{"a", "b"} {
		for _, tn := range taintsOf(h, n) {
			if tn == "node.kubernetes.io/unreachable:NoExecute" {
				noExecute++
			}
		}
		if got := readyOf(h, n); got != "Unknown" {
			t.Errorf("%s Ready = %s, want Unknown", n, got)
		}
	}
	if noExecute != 1 {
		t.Errorf("%d silent nodes tainted NoExecute, want 1 (one token)", noExecute)
	}
}

// TestNoScheduleTaintsFollowConditions: between monitor passes, a node's
// NoSchedule taint follows its Ready condition as it changes; its
// NoExecute taint waits for the monitor.
func TestNoScheduleTaintsFollowConditions(t *testing.T) {
	h := controllertest.New(t, node("a", "True"), lease("a"))
	c := nodelifecycle.New(h.Ctx, nodelifecycle.Options{MonitorPeriod: time.Hour, GracePeriod: 40 * time.Second, EvictionRate: 1000})
	h.Start()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx, 1) }()
	t.Cleanup(func() { cancel(); <-done })
	// Let Run's first monitor pass (nothing to do) go by: from here on
	// only the per-node pass can act within the hour.
	time.Sleep(200 * time.Millisecond)

	setReady := func(status string) {
		t.Helper()
		n := h.Server.Object("nodes", "", "a").(*corev1.Node)
		n.Status.Conditions[0].Status = status
		if _, err := h.Ctx.Client.Nodes().UpdateStatus(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	has := func(want ...string) func() bool {
		return func() bool { return cmp.Equal(want, taintsOf(h, "a")) }
	}
	setReady("False")
	h.WaitFor("not-ready:NoSchedule alone", has("node.kubernetes.io/not-ready:NoSchedule"))
	setReady("True")
	h.WaitFor("no taints", has())
}

// TestSyncLeavesNoExecute: the per-node pass drops a NoSchedule taint that
// no longer applies and keeps the NoExecute one.
func TestSyncLeavesNoExecute(t *testing.T) {
	noSchedule := &corev1.Taint{Key: "node.kubernetes.io/unreachable", Effect: "NoSchedule"}
	h := controllertest.New(t, node("a", "True", noSchedule, taint("node.kubernetes.io/unreachable", epoch)), lease("a"))
	c := newController(h)
	h.Start()
	if err := c.Sync(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"node.kubernetes.io/unreachable:NoExecute"}, taintsOf(h, "a")); diff != "" {
		t.Errorf("taints (-want +got):\n%s", diff)
	}
}

// TestNodeWithoutStatus: a node that has not posted a Ready condition is
// not tainted within its grace period; after it, it is marked Unknown
// (never updated) and tainted unreachable.
func TestNodeWithoutStatus(t *testing.T) {
	n := node("a", "True")
	n.Status = nil
	h := controllertest.New(t, n, node("b", "True"), lease("b"))
	c := newController(h)
	h.Start()
	monitor(t, h, c)
	if err := c.Sync(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if w := h.Writes(); len(w) != 0 {
		t.Fatalf("writes within the grace period: %v", w)
	}
	silenceAllBut(t, h, c, "b")
	wantUnreachable(t, h, "a")
}

// silenceAllBut lets the grace period pass with only node alive renewing
// its lease, and runs two monitor passes (the first marks the silent
// nodes Unknown, the second taints them).
func silenceAllBut(t *testing.T, h *controllertest.Harness, c *nodelifecycle.Controller, alive string) {
	t.Helper()
	h.Clock.Step(41 * time.Second)
	renew(t, h, alive)
	monitor(t, h, c)
	monitor(t, h, c)
}

// wantUnreachable checks that node name is Ready Unknown and tainted
// unreachable, NoSchedule and NoExecute.
func wantUnreachable(t *testing.T, h *controllertest.Harness, name string) {
	t.Helper()
	if got := readyOf(h, name); got != "Unknown" {
		t.Errorf("%s Ready = %q, want Unknown", name, got)
	}
	if diff := cmp.Diff([]string{"node.kubernetes.io/unreachable:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"}, taintsOf(h, name)); diff != "" {
		t.Errorf("%s taints (-want +got):\n%s", name, diff)
	}
}
