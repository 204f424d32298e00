// Package scheduler tests the scheduler against a real apiserver on an
// embedded etcd, with fake nodes (Node objects, no kubelet).
package scheduler

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"github.com/gantryhq/gantry/test/integration/framework"
)

// TestScheduleThousandPods: 1,000 pods of mixed sizes over 20 nodes, each
// bound exactly once, no node over its allocatable; pods that fit nowhere
// get FailedScheduling and are scheduled once a big enough node is added.
func TestScheduleThousandPods(t *testing.T) {
	srv := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, srv)
	ctx := context.Background()
	if err := createNodes(ctx, cs, 20, "32", "128Gi", "110"); err != nil {
		t.Fatal(err)
	}
	binds := watchBinds(t, cs)
	startScheduler(t, srv, schedOpts{identity: "s1"})

	sizes := []struct{ cpu, mem string }{{"100m", "128Mi"}, {"250m", "512Mi"}, {"500m", "1Gi"}, {"1", "2Gi"}}
	const n = 1000
	err := createAll(ctx, n, 16, func(i int) error {
		s := sizes[i%len(sizes)]
		_, err := cs.Pods("default").Create(ctx, makePod(fmt.Sprintf("pod-%d", i), s.cpu, s.mem))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Three pods no node can hold.
	for i := range 3 {
		if _, err := cs.Pods("default").Create(ctx, makePod(fmt.Sprintf("big-%d", i), "40", "1Gi")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 90*time.Second, "1000 pods bound", func() bool { return binds.bound() >= n })
	waitFor(t, 30*time.Second, "FailedScheduling for the big pods", func() bool {
		evs, err := cs.Events("default").List(ctx, client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range evs.Items {
			if e.GetReason() == "FailedScheduling" && strings.HasPrefix(e.GetInvolvedObject().GetName(), "big-") {
				if want := "0/20 nodes are available: 20 Insufficient cpu."; !strings.HasPrefix(e.GetMessage(), want) {
					t.Fatalf("FailedScheduling message %q, want prefix %q", e.GetMessage(), want)
				}
				seen[e.GetInvolvedObject().GetName()] = true
			}
		}
		return len(seen) == 3
	})
	if got := binds.bound(); got != n {
		t.Fatalf("%d pods bound, want %d (the big ones must wait)", got, n)
	}
	counts := checkNoOvercommit(t, cs)
	if len(counts) != 20 {
		t.Errorf("pods spread over %d nodes, want all 20: %v", len(counts), counts)
	}

	// A node big enough: the big pods are scheduled.
	if _, err := cs.Nodes().Create(ctx, makeNode("huge", "128", "64Gi", "110")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "big pods bound after a node was added", func() bool { return binds.bound() == n+3 })
	checkNoOvercommit(t, cs)
	if d := binds.doubles(); len(d) > 0 {
		t.Errorf("pods bound more than once: %v", d)
	}
	// Scheduled events say where.
	evs, err := cs.Events("default").List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range evs.Items {
		if e.GetReason() == "Scheduled" && e.GetInvolvedObject().GetName() == "big-0" {
			found = e.GetMessage() == "Successfully assigned default/big-0 to huge"
			if !found {
				t.Errorf("Scheduled message %q", e.GetMessage())
			}
		}
	}
	if !found {
		t.Error("no Scheduled event for big-0")
	}
}

const leaderConfig = `apiVersion: scheduler.gantry.io/v1
kind: SchedulerConfiguration
leaderElection:
  leaderElect: true
  leaseDuration: 3s
  renewDeadline: 2s
  retryPeriod: 500ms
`

// scheduledBy returns, per reporting instance, the pods it reported
// Scheduled.
func scheduledBy(t testing.TB, cs *client.Clientset) map[string]int {
	t.Helper()
	evs, err := cs.Events("default").List(context.Background(), client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range evs.Items {
		if e.GetReason() == "Scheduled" {
			out[e.GetReportingInstance()]++
		}
	}
	return out
}

// TestLeaderElection: of two replicas only the leader binds; when it stops,
// the other takes over.
func TestLeaderElection(t *testing.T) {
	srv := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, srv)
	ctx := context.Background()
	if err := createNodes(ctx, cs, 5, "16", "64Gi", "110"); err != nil {
		t.Fatal(err)
	}
	binds := watchBinds(t, cs)
	stopA := startScheduler(t, srv, schedOpts{identity: "replica-a", config: leaderConfig, leaderElect: true})
	waitFor(t, 20*time.Second, "replica-a holds the lease", func() bool {
		l, err := cs.Leases("kube-system").Get(ctx, "scheduler")
		return err == nil && l.GetSpec().GetHolderIdentity() == "replica-a"
	})
	startScheduler(t, srv, schedOpts{identity: "replica-b", config: leaderConfig, leaderElect: true})

	create := func(prefix string, n int) {
		t.Helper()
		err := createAll(ctx, n, 8, func(i int) error {
			_, err := cs.Pods("default").Create(ctx, makePod(fmt.Sprintf("%s-%d", prefix, i), "100m", "64Mi"))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	create("first", 100)
	waitFor(t, 30*time.Second, "first pods bound", func() bool { return binds.bound() == 100 })
	waitFor(t, 10*time.Second, "100 Scheduled events", func() bool {
		by := scheduledBy(t, cs)
		return by["replica-a"]+by["replica-b"] == 100
	})
	if by := scheduledBy(t, cs); by["replica-a"] != 100 || by["replica-b"] != 0 {
		t.Fatalf("Scheduled events by replica = %v, want all 100 from the leader replica-a", by)
	}

	stopA()
	waitFor(t, 20*time.Second, "replica-b holds the lease", func() bool {
		l, err := cs.Leases("kube-system").Get(ctx, "scheduler")
		return err == nil && l.GetSpec().GetHolderIdentity() == "replica-b"
	})
	create("second", 100)
	waitFor(t, 30*time.Second, "second pods bound", func() bool { return binds.bound() == 200 })
	waitFor(t, 10*time.Second, "200 Scheduled events", func() bool {
		by := scheduledBy(t, cs)
		return by["replica-a"]+by["replica-b"] == 200
	})
	if by := scheduledBy(t, cs); by["replica-a"] != 100 || by["replica-b"] != 100 {
		t.Errorf("Scheduled events by replica = %v, want 100 each (a before, b after the hand-over)", by)
	}
	if d := binds.doubles(); len(d) > 0 {
		t.Errorf("pods bound more than once: %v", d)
	}
	checkNoOvercommit(t, cs)
}

// TestPreemption: a high-priority pod that fits nowhere evicts a
// lower-priority pod (deleted gracefully) and takes its room.
func TestPreemption(t *testing.T) {
	srv := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := cs.Nodes().Create(ctx, makeNode("node-0", "2", "4Gi", "110")); err != nil {
		t.Fatal(err)
	}
	startScheduler(t, srv, schedOpts{identity: "s1"})
	for _, name := range []string{"low-1", "low-2"} {
		p := makePod(name, "1", "1Gi")
		zero := int32(0)
		p.Spec.Priority = &zero
		if _, err := cs.Pods("default").Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 20*time.Second, "low pods bound", func() bool {
		l, err := cs.Pods("default").List(ctx, client.ListOptions{FieldSelector: "spec.nodeName=node-0"})
		return err == nil && len(l.Items) == 2
	})

	// Play the kubelet: pods marked for deletion on the node go away.
	go func() {
		for ctx.Err() == nil {
			l, err := cs.Pods("default").List(ctx, client.ListOptions{})
			if err == nil {
				for _, p := range l.Items {
					if p.GetMetadata().GetDeletionTimestamp() != nil {
						zero := int64(0)
						_ = cs.Pods("default").Delete(ctx, p.GetMetadata().GetName(), client.DeleteOptions{GracePeriodSeconds: &zero})
					}
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()

	high := makePod("high", "1", "1Gi")
	prio := int32(1000)
	high.Spec.Priority = &prio
	if _, err := cs.Pods("default").Create(ctx, high); err != nil {
		t.Fatal(err)
	}
	var got *corev1.Pod
	waitFor(t, 30*time.Second, "high-priority pod bound", func() bool {
		p, err := cs.Pods("default").Get(ctx, "high")
		got = p
		return err == nil && p.GetSpec().GetNodeName() == "node-0"
	})
	if got.GetStatus().GetNominatedNodeName() != "node-0" {
		t.Errorf("nominatedNodeName = %q, want node-0", got.GetStatus().GetNominatedNodeName())
	}
	l, err := cs.Pods("default").List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var low []string
	for _, p := range l.Items {
		if strings.HasPrefix(p.GetMetadata().GetName(), "low-") {
			low = append(low, p.GetMetadata().GetName())
		}
	}
	if len(low) != 1 {
		t.Errorf("low-priority pods left = %v, want exactly one (one victim)", low)
	}
	evs, err := cs.Events("default").List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	preempted := 0
	for _, e := range evs.Items {
		if e.GetReason() == "Preempted" {
			preempted++
		}
	}
	if preempted != 1 {
		t.Errorf("%d Preempted events, want 1", preempted)
	}
	checkNoOvercommit(t, cs)
}

// TestLosingTheLeaseExits: a leader whose lease is taken over stops
// scheduling and app.Run returns an error (the process exits, as
// kube-scheduler's does), instead of hanging while still ready.
func TestLosingTheLeaseExits(t *testing.T) {
	srv := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, srv)
	ctx := context.Background()
	exited := make(chan error, 1)
	startScheduler(t, srv, schedOpts{identity: "leader", config: leaderConfig, leaderElect: true, exited: exited})
	waitFor(t, 20*time.Second, "the scheduler holds the lease", func() bool {
		l, err := cs.Leases("kube-system").Get(ctx, "scheduler")
		return err == nil && l.GetSpec().GetHolderIdentity() == "leader"
	})
	// Another candidate takes the lease over (as after a network partition)
	// and keeps renewing it.
	stealCtx, stopStealing := context.WithCancel(ctx)
	defer stopStealing()
	go func() {
		for stealCtx.Err() == nil {
			_ = client.RetryOnConflict(stealCtx, func() error {
				l, err := cs.Leases("kube-system").Get(stealCtx, "scheduler")
				if err != nil {
					return err
				}
				l = proto.Clone(l).(*coordinationv1.Lease)
				l.Spec.HolderIdentity = proto.String("usurper")
				l.Spec.RenewTime = timestamppb.Now()
				_, err = cs.Leases("kube-system").Update(stealCtx, l)
				return err
			})
			time.Sleep(300 * time.Millisecond)
		}
	}()
	select {
	case err := <-exited:
		if err == nil || !strings.Contains(err.Error(), "leader election lost") {
			t.Errorf("app.Run returned %v, want the lost-leadership error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the scheduler kept running 30s after losing its lease")
	}
}
