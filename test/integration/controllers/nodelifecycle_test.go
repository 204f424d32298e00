package controllers

import (
	"context"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/controller-manager/app"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

const unreachable = "node.kubernetes.io/unreachable"

// podOn makes a pod bound to node that tolerates the unreachable taint
// for secs seconds (nil: forever).
func podOn(t *testing.T, cs *client.Clientset, name, node string, secs *int64) {
	t.Helper()
	p := &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"test": "eviction"}},
		Spec: &corev1.PodSpec{NodeName: node, TerminationGracePeriodSeconds: ptr.To(int64(1)),
			Containers:  []*corev1.Container{{Name: "c", Image: "img"}},
			Tolerations: []*corev1.Toleration{{Key: unreachable, Operator: "Exists", Effect: "NoExecute", TolerationSeconds: secs}}},
	}
	if _, err := cs.Pods("default").Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

func nodeState(ctx context.Context, cs *client.Clientset, name string) (ready string, taint *corev1.Taint, err error) {
	n, err := cs.Nodes().Get(ctx, name)
	if err != nil {
		return "", nil, err
	}
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			ready = c.GetStatus()
		}
	}
	for _, t := range n.GetSpec().GetTaints() {
		if t.GetKey() == unreachable && t.GetEffect() == "NoExecute" {
			taint = t
		}
	}
	return ready, taint, nil
}

// shortGrace makes nodes unreachable 2 s after their last heartbeat.
func shortGrace(o *app.Options) { o.NodeMonitorGracePeriod = 2 * time.Second }

func TestStaleNodeTaintedAndEvicted(t *testing.T) {
	cs, h := setup(t, HollowOptions{Nodes: 3, LeaseRenew: 200 * time.Millisecond})
	StartCM(t, cs, CMOptions{Mutate: shortGrace})
	ctx := context.Background()
	nodes := h.Nodes()
	podOn(t, cs, "short", nodes[0], ptr.To(int64(2)))
	podOn(t, cs, "forever", nodes[0], nil)
	podOn(t, cs, "elsewhere", nodes[1], ptr.To(int64(2)))
	waitFor(t, 20*time.Second, "pods running", func(ctx context.Context) (bool, error) {
		pods, err := livePods(ctx, cs, "default", "test=eviction")
		n := 0
		for _, p := range pods {
			if isReady(p) {
				n++
			}
		}
		return n == 3, err
	})
	h.StopNode(nodes[0])
	var taint *corev1.Taint
	waitFor(t, 20*time.Second, "node unreachable and tainted", func(ctx context.Context) (bool, error) {
		ready, tn, err := nodeState(ctx, cs, nodes[0])
		taint = tn
		return ready == "Unknown" && tn != nil, err
	})
	var evicted *corev1.Pod
	waitFor(t, 20*time.Second, "pod evicted after its toleration", func(ctx context.Context) (bool, error) {
		p, err := cs.Pods("default").Get(ctx, "short")
		if client.IsNotFound(err) {
			return false, err
		}
		evicted = p
		return err == nil && p.GetMetadata().GetDeletionTimestamp() != nil, err
	})
	// deletionTimestamp = eviction + 1 s grace, truncated to the second.
	evictedAt := evicted.GetMetadata().GetDeletionTimestamp().AsTime().Add(-time.Second)
	if earliest := taint.GetTimeAdded().AsTime().Add(2*time.Second - time.Second); evictedAt.Before(earliest) {
		t.Errorf("evicted at %v, before the toleration ran out (taint %v + 2 s)", evictedAt, taint.GetTimeAdded().AsTime())
	}
	waitFor(t, 20*time.Second, "the pod left on the unreachable node marked not ready", func(ctx context.Context) (bool, error) {
		p, err := cs.Pods("default").Get(ctx, "forever")
		return err == nil && !isReady(p), err
	})
	time.Sleep(time.Second)
	if p, err := cs.Pods("default").Get(ctx, "elsewhere"); err != nil || !isReady(p) {
		t.Errorf("pod on a healthy node not ready (err %v)", err)
	}
	for _, name := range []string{"forever", "elsewhere"} {
		p, err := cs.Pods("default").Get(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if p.GetMetadata().GetDeletionTimestamp() != nil {
			t.Errorf("pod %s evicted", name)
		}
	}
	for _, n := range nodes[1:] {
		if ready, tn, err := nodeState(ctx, cs, n); err != nil || ready != "True" || tn != nil {
			t.Errorf("healthy node %s: ready %s taint %v err %v", n, ready, tn, err)
		}
	}
}

func TestUnreachableClusterEvictsNone(t *testing.T) {
	cs, h := setup(t, HollowOptions{Nodes: 3, LeaseRenew: 200 * time.Millisecond})
	StartCM(t, cs, CMOptions{Mutate: shortGrace})
	ctx := context.Background()
	nodes := h.Nodes()
	// The pods tolerate an unreachable node for 3 s: the nodes, stopped
	// together, go silent within a monitor period or two of each other,
	// and the first may be tainted before the others are seen to be down
	// too (as in Kubernetes); once all are, the taints go again.
	for i, n := range nodes {
		podOn(t, cs, "p"+string(rune('a'+i)), n, ptr.To(int64(3)))
	}
	waitFor(t, 20*time.Second, "pods running", func(ctx context.Context) (bool, error) {
		pods, err := livePods(ctx, cs, "default", "test=eviction")
		return len(pods) == 3 && isReady(pods[0]) && isReady(pods[1]) && isReady(pods[2]), err
	})
	for _, n := range nodes {
		h.StopNode(n)
	}
	waitFor(t, 20*time.Second, "every node unreachable", func(ctx context.Context) (bool, error) {
		for _, n := range nodes {
			ready, _, err := nodeState(ctx, cs, n)
			if err != nil || ready != "Unknown" {
				return false, err
			}
		}
		return true, nil
	})
	time.Sleep(5 * time.Second) // well past the pods' toleration (3 s)
	pods, err := livePods(ctx, cs, "default", "test=eviction")
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 3 {
		t.Errorf("%d pods left, want 3: none evicted while the whole cluster is unreachable", len(pods))
	}
	for _, n := range nodes {
		if _, tn, _ := nodeState(ctx, cs, n); tn != nil {
			t.Errorf("node %s tainted unreachable in a full disruption", n)
		}
	}
}
