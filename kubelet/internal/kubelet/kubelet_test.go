package kubelet

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap/zaptest"
	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/clienttest"
	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/kubelet/internal/runtime"
	"github.com/gantryhq/gantry/kubelet/internal/runtime/fake"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

const testNode = "node-1"

// podBuilder makes test pods: makePod("web").policy("Never").obj().
type podBuilder struct{ p *corev1.Pod }

func makePod(name string) *podBuilder {
	return &podBuilder{p: &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: &corev1.PodSpec{
			NodeName:                      testNode,
			RestartPolicy:                 "Always",
			TerminationGracePeriodSeconds: proto.Int64(30),
			Containers:                    []*corev1.Container{{Name: "c", Image: "app:1", ImagePullPolicy: "IfNotPresent"}},
		},
	}}
}

func (b *podBuilder) policy(p string) *podBuilder { b.p.Spec.RestartPolicy = p; return b }
func (b *podBuilder) image(i string) *podBuilder {
	b.p.Spec.Containers[0].Image = i
	return b
}
func (b *podBuilder) pullPolicy(p string) *podBuilder {
	b.p.Spec.Containers[0].ImagePullPolicy = p
	return b
}
func (b *podBuilder) liveness(pr *corev1.Probe) *podBuilder {
	b.p.Spec.Containers[0].LivenessProbe = pr
	return b
}
func (b *podBuilder) readiness(pr *corev1.Probe) *podBuilder {
	b.p.Spec.Containers[0].ReadinessProbe = pr
	return b
}
func (b *podBuilder) obj() *corev1.Pod { return b.p }

func execProbe(cmd ...string) *corev1.Probe {
	return &corev1.Probe{Exec: &corev1.ExecAction{Command: cmd}, PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1}
}

// events records the reasons of the events the kubelet records.
type events struct {
	mu      sync.Mutex
	reasons []string
}

func (e *events) Event(_ scheme.Object, _, reason, _ string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reasons = append(e.reasons, reason)
}

func (e *events) Eventf(o scheme.Object, typ, reason, _ string, _ ...any) {
	e.Event(o, typ, reason, "")
}

func (e *events) has(reason string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Contains(e.reasons, reason)
}

type harness struct {
	events  *events
	metrics *Metrics
	t       *testing.T
	cs      *client.Clientset
	srv     *clienttest.Server
	rt      *fake.Runtime
	cancel  context.CancelFunc
	done    chan error
}

func testConfig(t *testing.T, cs *client.Clientset, rt runtime.Runtime) Config {
	return Config{
		NodeName:                  testNode,
		Client:                    cs,
		Runtime:                   rt,
		Logger:                    zaptest.NewLogger(t),
		NodeLabels:                map[string]string{"zone": "a"},
		RegisterWithTaints:        []*corev1.Taint{{Key: "dedicated", Value: "x", Effect: "NoSchedule"}},
		Capacity:                  map[string]string{"cpu": "4", "memory": "8Gi"},
		NodeIP:                    "10.0.0.1",
		Port:                      10250,
		LeaseRenewInterval:        50 * time.Millisecond,
		NodeStatusUpdateFrequency: 50 * time.Millisecond,
		CrashLoopBackOffInitial:   200 * time.Millisecond,
		CrashLoopBackOffMax:       800 * time.Millisecond,
		ImagePullBackOffInitial:   300 * time.Millisecond,
		ImagePullBackOffMax:       time.Second,
		ResyncInterval:            time.Second,
	}
}

func startHarness(t *testing.T, rt *fake.Runtime, objs ...*corev1.Pod) *harness {
	t.Helper()
	cs, srv := clienttest.New(t)
	if rt == nil {
		rt = fake.New(true)
	}
	h := &harness{t: t, cs: cs, srv: srv, rt: rt}
	for _, p := range objs {
		if _, err := cs.Pods("default").Create(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	h.run()
	return h
}

func (h *harness) run() {
	h.t.Helper()
	cfg := testConfig(h.t, h.cs, h.rt)
	if h.events == nil {
		h.events = &events{}
	}
	cfg.Recorder = h.events
	if h.metrics == nil {
		h.metrics = NewMetrics(prometheus.NewRegistry())
	}
	cfg.Metrics = h.metrics
	k, err := New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	ready := make(chan struct{})
	k.cfg.Ready = func() { close(ready) }
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- k.Run(ctx) }()
	h.t.Cleanup(h.stop)
	select {
	case <-ready:
	case err := <-h.done:
		h.t.Fatalf("kubelet exited: %v", err)
	case <-time.After(10 * time.Second):
		h.t.Fatal("kubelet not ready")
	}
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		h.t.Error("kubelet did not stop")
	}
	h.cancel = nil
}

func (h *harness) create(p *corev1.Pod) *corev1.Pod {
	h.t.Helper()
	out, err := h.cs.Pods("default").Create(context.Background(), p)
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// waitPod polls the pod until cond holds.
func (h *harness) waitPod(name string, what string, cond func(*corev1.Pod) bool) *corev1.Pod {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last *corev1.Pod
	for time.Now().Before(deadline) {
		p, err := h.cs.Pods("default").Get(context.Background(), name)
		if err == nil {
			last = p
			if cond(p) {
				return p
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("pod %s: timed out waiting for %s; last status: %v", name, what, last.GetStatus())
	return nil
}

func phaseIs(ph string) func(*corev1.Pod) bool {
	return func(p *corev1.Pod) bool { return p.GetStatus().GetPhase() == ph }
}

func condition(p *corev1.Pod, typ string) string {
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == typ {
			return c.GetStatus()
		}
	}
	return ""
}

func waitingReason(p *corev1.Pod) string {
	if len(p.GetStatus().GetContainerStatuses()) == 0 {
		return ""
	}
	return p.GetStatus().GetContainerStatuses()[0].GetState().GetWaiting().GetReason()
}

func TestNodeRegistrationAndLease(t *testing.T) {
	h := startHarness(t, nil)
	ctx := context.Background()
	node, err := h.cs.Nodes().Get(ctx, testNode)
	if err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]string{LabelHostname: testNode, LabelOS: "linux", LabelArch: node.Metadata.Labels[LabelArch], "zone": "a"}
	if diff := cmp.Diff(wantLabels, node.GetMetadata().GetLabels()); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if got := node.GetSpec().GetTaints(); len(got) != 1 || got[0].GetKey() != "dedicated" {
		t.Errorf("taints = %v", got)
	}
	st := node.GetStatus()
	if st.GetCapacity()["cpu"].GetValue() != "4" || st.GetAllocatable()["memory"].GetValue() != "8Gi" || st.GetCapacity()["pods"].GetValue() != "110" {
		t.Errorf("capacity = %v allocatable = %v", st.GetCapacity(), st.GetAllocatable())
	}
	if st.GetAddresses()[0].GetAddress() != "10.0.0.1" || st.GetDaemonEndpoints().GetKubeletEndpoint().GetPort() != 10250 {
		t.Errorf("addresses %v endpoints %v", st.GetAddresses(), st.GetDaemonEndpoints())
	}
	if st.GetNodeInfo().GetContainerRuntimeVersion() != "fake://0.0.0" || st.GetNodeInfo().GetKubeletVersion() == "" {
		t.Errorf("nodeInfo = %v", st.GetNodeInfo())
	}
	ready := ""
	for _, c := range st.GetConditions() {
		if c.GetType() == "Ready" {
			ready = c.GetStatus()
		}
	}
	if ready != "True" {
		t.Errorf("Ready = %q", ready)
	}
	lease, err := h.cs.Leases(NodeLeaseNamespace).Get(ctx, testNode)
	if err != nil {
		t.Fatal(err)
	}
	first := lease.GetSpec().GetRenewTime().AsTime()
	if lease.GetSpec().GetHolderIdentity() != testNode || lease.GetSpec().GetLeaseDurationSeconds() != 40 {
		t.Errorf("lease spec = %v", lease.GetSpec())
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := h.cs.Leases(NodeLeaseNamespace).Get(ctx, testNode)
		if err == nil && l.GetSpec().GetRenewTime().AsTime().After(first) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("lease not renewed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPodRuns(t *testing.T) {
	h := startHarness(t, nil)
	h.create(makePod("web").obj())
	p := h.waitPod("web", "Running and Ready", func(p *corev1.Pod) bool {
		return p.GetStatus().GetPhase() == "Running" && condition(p, "Ready") == "True"
	})
	st := p.GetStatus()
	if st.GetPodIp() == "" || st.GetHostIp() != "10.0.0.1" || st.GetStartTime() == nil {
		t.Errorf("status = %v", st)
	}
	for _, c := range []string{"PodScheduled", "Initialized", "ContainersReady", "Ready"} {
		if condition(p, c) != "True" {
			t.Errorf("condition %s = %q", c, condition(p, c))
		}
	}
	cs := st.GetContainerStatuses()[0]
	if cs.GetState().GetRunning() == nil || !cs.GetReady() || !cs.GetStarted() || !strings.HasPrefix(cs.GetContainerId(), "fake://") {
		t.Errorf("container status = %v", cs)
	}
	if got := testutil.ToFloat64(h.metrics.pods); got != 1 {
		t.Errorf("kubelet_running_pods = %v", got)
	}
	var m dto.Metric
	if err := h.metrics.podStart.Write(&m); err != nil || m.GetHistogram().GetSampleCount() != 1 {
		t.Errorf("pod start histogram: %v, %v", m.GetHistogram(), err)
	}
	if !h.events.has("Started") || !h.events.has("Pulled") {
		t.Errorf("events: %v", h.events.reasons)
	}
	// A pod on another node is not this kubelet's.
	other := makePod("elsewhere").obj()
	other.Spec.NodeName = "node-2"
	h.create(other)
	time.Sleep(300 * time.Millisecond)
	if p, _ := h.cs.Pods("default").Get(context.Background(), "elsewhere"); p.GetStatus().GetPhase() != "" {
		t.Errorf("pod of another node got phase %q", p.GetStatus().GetPhase())
	}
}

func TestRestartPolicies(t *testing.T) {
	tests := []struct {
		policy       string
		exitCode     int
		wantPhase    string
		wantRestarts bool
	}{
		{"Always", 0, "Running", true},
		{"Always", 1, "Running", true},
		{"OnFailure", 0, "Succeeded", false},
		{"OnFailure", 1, "Running", true},
		{"Never", 0, "Succeeded", false},
		{"Never", 1, "Failed", false},
	}
	h := startHarness(t, nil)
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/exit%d", tt.policy, tt.exitCode), func(t *testing.T) {
			name := strings.ToLower(fmt.Sprintf("p-%s-%d", tt.policy, tt.exitCode))
			pod := h.create(makePod(name).policy(tt.policy).obj())
			h.waitPod(name, "Running", phaseIs("Running"))
			if !h.rt.ExitContainer(pod.GetMetadata().GetUid(), "c", tt.exitCode) {
				t.Fatal("container was not running")
			}
			if tt.wantRestarts {
				p := h.waitPod(name, "a restart", func(p *corev1.Pod) bool {
					cs := p.GetStatus().GetContainerStatuses()
					return len(cs) == 1 && cs[0].GetRestartCount() == 1 && cs[0].GetState().GetRunning() != nil
				})
				last := p.GetStatus().GetContainerStatuses()[0].GetLastState().GetTerminated()
				if last.GetExitCode() != int32(tt.exitCode) {
					t.Errorf("lastState = %v, want exit %d", last, tt.exitCode)
				}
				if p.GetStatus().GetPhase() != tt.wantPhase {
					t.Errorf("phase = %s, want %s", p.GetStatus().GetPhase(), tt.wantPhase)
				}
				return
			}
			p := h.waitPod(name, tt.wantPhase, phaseIs(tt.wantPhase))
			cs := p.GetStatus().GetContainerStatuses()[0]
			if cs.GetState().GetTerminated().GetExitCode() != int32(tt.exitCode) || cs.GetRestartCount() != 0 {
				t.Errorf("container status = %v", cs)
			}
			if condition(p, "Ready") != "False" {
				t.Errorf("Ready = %s", condition(p, "Ready"))
			}
			// Nothing is started again, and the sandbox is stopped.
			time.Sleep(400 * time.Millisecond)
			st, _ := h.rt.PodStatus(context.Background(), pod.GetMetadata().GetUid())
			if len(st.Containers) != 1 || st.Running() {
				t.Errorf("runtime holds %d instances, running=%v", len(st.Containers), st.Running())
			}
		})
	}
}

// startGaps are the times between the starts of container c of pod uid.
func startGaps(rt *fake.Runtime, uid string) []time.Duration {
	var starts []time.Time
	for _, c := range rt.Calls() {
		if c.Method == "SyncPod" && c.UID == uid && slices.Contains(c.Detail, "+c") {
			starts = append(starts, c.Time)
		}
	}
	var gaps []time.Duration
	for i := 1; i < len(starts); i++ {
		gaps = append(gaps, starts[i].Sub(starts[i-1]))
	}
	return gaps
}

func TestCrashLoopBackOff(t *testing.T) {
	rt := fake.New(true)
	rt.SetBehavior("crash:1", fake.Behavior{ExitAfter: 10 * time.Millisecond, ExitCode: 2})
	h := startHarness(t, rt)
	pod := h.create(makePod("crash").image("crash:1").obj())
	uid := pod.GetMetadata().GetUid()
	sawBackOff := false
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		p, _ := h.cs.Pods("default").Get(context.Background(), "crash")
		if waitingReason(p) == reasonCrashLoopBackOff {
			sawBackOff = true
			if !strings.Contains(p.GetStatus().GetContainerStatuses()[0].GetState().GetWaiting().GetMessage(), "back-off") {
				t.Errorf("message = %q", p.GetStatus().GetContainerStatuses()[0].GetState().GetWaiting().GetMessage())
			}
		}
		if cs := p.GetStatus().GetContainerStatuses(); len(cs) > 0 && cs[0].GetRestartCount() >= 5 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !sawBackOff {
		t.Error("never saw CrashLoopBackOff")
	}
	gaps := startGaps(rt, uid)
	if len(gaps) < 4 {
		t.Fatalf("only %d restarts", len(gaps))
	}
	// Delays between starts grow: 0, 200ms, 400ms, 800ms (capped), plus the
	// 10ms the container runs.
	want := []time.Duration{0, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}
	for i, w := range want {
		if i >= len(gaps) {
			break
		}
		if gaps[i] < w || gaps[i] > w+350*time.Millisecond {
			t.Errorf("gap %d = %v, want about %v (gaps %v)", i, gaps[i], w, gaps)
		}
	}
}

func TestLivenessProbeRestarts(t *testing.T) {
	rt := fake.New(true)
	var mu sync.Mutex
	healthy := true
	rt.SetExecFunc(func(_ string, cmd []string) int {
		mu.Lock()
		defer mu.Unlock()
		if healthy {
			return 0
		}
		return 1
	})
	h := startHarness(t, rt)
	h.create(makePod("live").liveness(execProbe("check")).obj())
	h.waitPod("live", "Running", phaseIs("Running"))
	time.Sleep(1500 * time.Millisecond) // probes pass: no restart
	if p, _ := h.cs.Pods("default").Get(context.Background(), "live"); p.GetStatus().GetContainerStatuses()[0].GetRestartCount() != 0 {
		t.Fatalf("restarted while healthy: %v", p.GetStatus())
	}
	mu.Lock()
	healthy = false
	mu.Unlock()
	p := h.waitPod("live", "a restart after the liveness probe failed", func(p *corev1.Pod) bool {
		return p.GetStatus().GetContainerStatuses()[0].GetRestartCount() >= 1
	})
	if p.GetStatus().GetContainerStatuses()[0].GetLastState().GetTerminated() == nil {
		t.Errorf("no lastState: %v", p.GetStatus().GetContainerStatuses()[0])
	}
}

func TestReadinessProbe(t *testing.T) {
	rt := fake.New(true)
	var mu sync.Mutex
	ready := false
	rt.SetExecFunc(func(string, []string) int {
		mu.Lock()
		defer mu.Unlock()
		if ready {
			return 0
		}
		return 1
	})
	h := startHarness(t, rt)
	h.create(makePod("ready").readiness(execProbe("check")).obj())
	p := h.waitPod("ready", "Running", phaseIs("Running"))
	time.Sleep(1200 * time.Millisecond)
	p, _ = h.cs.Pods("default").Get(context.Background(), "ready")
	if condition(p, "Ready") != "False" || condition(p, "ContainersReady") != "False" {
		t.Fatalf("Ready before the probe passed: %v", p.GetStatus().GetConditions())
	}
	mu.Lock()
	ready = true
	mu.Unlock()
	h.waitPod("ready", "Ready", func(p *corev1.Pod) bool { return condition(p, "Ready") == "True" })
	mu.Lock()
	ready = false
	mu.Unlock()
	p = h.waitPod("ready", "not Ready again", func(p *corev1.Pod) bool { return condition(p, "Ready") == "False" })
	if p.GetStatus().GetContainerStatuses()[0].GetRestartCount() != 0 {
		t.Error("a failing readiness probe restarted the container")
	}
}

func TestImagePullPolicies(t *testing.T) {
	rt := fake.New(true)
	rt.SetImageMissing("missing:1", true)
	h := startHarness(t, rt)

	h.create(makePod("pull").image("missing:1").obj())
	h.waitPod("pull", "ErrImagePull", func(p *corev1.Pod) bool { return waitingReason(p) == reasonErrImagePull })
	p := h.waitPod("pull", "ImagePullBackOff", func(p *corev1.Pod) bool { return waitingReason(p) == reasonImagePullBackOff })
	if p.GetStatus().GetPhase() != "Pending" {
		t.Errorf("phase = %s, want Pending", p.GetStatus().GetPhase())
	}
	rt.SetImageMissing("missing:1", false)
	h.waitPod("pull", "Running once the image can be pulled", phaseIs("Running"))

	rt.SetImageMissing("never:1", true)
	h.create(makePod("never").image("never:1").pullPolicy("Never").obj())
	h.waitPod("never", "ErrImageNeverPull", func(p *corev1.Pod) bool { return waitingReason(p) == reasonErrImageNeverPull })

	pulls := func(image string) int {
		n := 0
		for _, c := range rt.Calls() {
			if c.Method == "PullImage" && c.Detail[0] == image {
				n++
			}
		}
		return n
	}
	h.create(makePod("always").image("app:always").pullPolicy("Always").obj())
	h.create(makePod("present").image("app:present").pullPolicy("IfNotPresent").obj())
	h.waitPod("always", "Running", phaseIs("Running"))
	h.waitPod("present", "Running", phaseIs("Running"))
	if pulls("app:always") != 1 || pulls("app:present") != 0 || pulls("never:1") != 0 {
		t.Errorf("pulls: always %d, present %d, never %d", pulls("app:always"), pulls("app:present"), pulls("never:1"))
	}
}

func TestGracefulDeletion(t *testing.T) {
	h := startHarness(t, nil)
	pod := h.create(makePod("del").obj())
	uid := pod.GetMetadata().GetUid()
	h.waitPod("del", "Running", phaseIs("Running"))
	if err := h.cs.Pods("default").Delete(context.Background(), "del", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := h.cs.Pods("default").Get(context.Background(), "del")
		if client.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("pod not removed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var methods []string
	for _, c := range h.rt.Calls() {
		if c.UID == uid && c.Method != "SyncPod" {
			methods = append(methods, c.Method)
		}
	}
	if diff := cmp.Diff([]string{"KillPod", "RemovePod"}, methods); diff != "" {
		t.Errorf("runtime calls (-want +got):\n%s", diff)
	}
	var del *clienttest.Action
	for _, a := range h.srv.Actions() {
		if a.Verb == "delete" && a.Name == "del" && a.Delete.GetGracePeriodSeconds() == 0 && a.Delete.GracePeriodSeconds != nil {
			del = &a
		}
	}
	if del == nil || del.Delete.GetPreconditions().GetUid() != uid {
		t.Errorf("kubelet's delete = %v, want grace 0 and uid precondition %s", del, uid)
	}
}

func TestOrphansRemovedAndRestartAdopts(t *testing.T) {
	rt := fake.New(true)
	orphan := makePod("orphan").obj()
	orphan.Metadata.Uid = "orphan-uid"
	rt.SyncPod(context.Background(), orphan, &runtime.Actions{CreateSandbox: true, Start: []runtime.StartContainer{{Container: orphan.Spec.Containers[0]}}})

	h := startHarness(t, rt)
	pod := h.create(makePod("keep").obj())
	h.waitPod("keep", "Running", phaseIs("Running"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, _ := rt.PodStatus(context.Background(), "orphan-uid")
		if st.Empty() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("orphaned containers not removed")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A restarted kubelet adopts the running pod and restarts nothing.
	h.stop()
	before := len(rt.Calls())
	h.run()
	time.Sleep(1500 * time.Millisecond)
	for _, c := range rt.Calls()[before:] {
		if c.UID == pod.GetMetadata().GetUid() && c.Method != "Exec" {
			t.Errorf("restarted kubelet called %s %v", c.Method, c.Detail)
		}
	}
	p, _ := h.cs.Pods("default").Get(context.Background(), "keep")
	if p.GetStatus().GetPhase() != "Running" || p.GetStatus().GetContainerStatuses()[0].GetRestartCount() != 0 {
		t.Errorf("status after restart = %v", p.GetStatus())
	}
}

func TestActiveDeadline(t *testing.T) {
	h := startHarness(t, nil)
	p := makePod("deadline").obj()
	p.Spec.ActiveDeadlineSeconds = proto.Int64(1)
	h.create(p)
	h.waitPod("deadline", "Running", phaseIs("Running"))
	got := h.waitPod("deadline", "Failed", phaseIs("Failed"))
	if got.GetStatus().GetReason() != "DeadlineExceeded" || condition(got, "Ready") != "False" {
		t.Errorf("status = %v", got.GetStatus())
	}
	st, _ := h.rt.PodStatus(context.Background(), got.GetMetadata().GetUid())
	if st.Running() {
		t.Error("containers still run past the deadline")
	}
	if !h.events.has("DeadlineExceeded") {
		t.Errorf("events: %v", h.events.reasons)
	}
}

func TestInitContainers(t *testing.T) {
	rt := fake.New(true)
	rt.SetBehavior("init:ok", fake.Behavior{ExitAfter: 100 * time.Millisecond})
	rt.SetBehavior("init:fail", fake.Behavior{ExitAfter: 50 * time.Millisecond, ExitCode: 1})
	h := startHarness(t, rt)

	p := makePod("inits").obj()
	p.Spec.InitContainers = []*corev1.Container{{Name: "first", Image: "init:ok"}, {Name: "second", Image: "init:ok"}}
	h.create(p)
	pending := h.waitPod("inits", "initializing", func(p *corev1.Pod) bool { return condition(p, "Initialized") == "False" })
	if pending.GetStatus().GetPhase() != "Pending" || waitingReason(pending) != reasonPodInitializing {
		t.Errorf("while initializing: phase %s, app waiting %q", pending.GetStatus().GetPhase(), waitingReason(pending))
	}
	got := h.waitPod("inits", "Running", phaseIs("Running"))
	if condition(got, "Initialized") != "True" {
		t.Errorf("Initialized = %s", condition(got, "Initialized"))
	}
	for _, cs := range got.GetStatus().GetInitContainerStatuses() {
		if cs.GetState().GetTerminated().GetExitCode() != 0 || !cs.GetReady() {
			t.Errorf("init container status %v", cs)
		}
	}
	// They ran in order, each once.
	var order []string
	for _, c := range rt.Calls() {
		if c.Method == "SyncPod" && c.UID == got.GetMetadata().GetUid() {
			for _, d := range c.Detail {
				if strings.HasPrefix(d, "+") {
					order = append(order, d)
				}
			}
		}
	}
	if diff := cmp.Diff([]string{"+first", "+second", "+c"}, order); diff != "" {
		t.Errorf("start order (-want +got):\n%s", diff)
	}

	f := makePod("init-fails").policy("Never").obj()
	f.Spec.InitContainers = []*corev1.Container{{Name: "bad", Image: "init:fail"}}
	h.create(f)
	failed := h.waitPod("init-fails", "Failed", phaseIs("Failed"))
	if cs := failed.GetStatus().GetContainerStatuses()[0]; cs.GetState().GetRunning() != nil || cs.GetContainerId() != "" {
		t.Errorf("app container ran after its init container failed: %v", cs)
	}
}

func TestChangedImageRestartsContainer(t *testing.T) {
	h := startHarness(t, nil)
	h.create(makePod("update").obj())
	p := h.waitPod("update", "Running", phaseIs("Running"))
	p.Spec.Containers[0].Image = "app:2"
	if _, err := h.cs.Pods("default").Update(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	got := h.waitPod("update", "running app:2", func(p *corev1.Pod) bool {
		cs := p.GetStatus().GetContainerStatuses()[0]
		return cs.GetImage() == "app:2" && cs.GetState().GetRunning() != nil && cs.GetRestartCount() == 1
	})
	st, _ := h.rt.PodStatus(context.Background(), got.GetMetadata().GetUid())
	if l := st.Latest("c"); l == nil || l.Image != "app:2" || l.State != runtime.StateRunning {
		t.Errorf("runtime: %+v", l)
	}
	if prev := st.Previous("c"); prev == nil || prev.Image != "app:1" || prev.State != runtime.StateExited {
		t.Errorf("previous instance: %+v", prev)
	}
}

func TestLifecycleHooks(t *testing.T) {
	rt := fake.New(true)
	rt.SetExecFunc(func(_ string, cmd []string) int {
		if slices.Contains(cmd, "fail") {
			return 1
		}
		return 0
	})
	h := startHarness(t, rt)

	// preStop runs before the containers get SIGTERM.
	p := makePod("hooks").obj()
	p.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"pre-stop"}}}}
	pod := h.create(p)
	h.waitPod("hooks", "Running", phaseIs("Running"))
	if err := h.cs.Pods("default").Delete(context.Background(), "hooks", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor(t, "pod removed", func() bool {
		_, err := h.cs.Pods("default").Get(context.Background(), "hooks")
		return client.IsNotFound(err)
	})
	var seq []string
	for _, c := range rt.Calls() {
		switch {
		case c.Method == "Exec" && strings.Contains(strings.Join(c.Detail, " "), "pre-stop"):
			seq = append(seq, "preStop")
		case c.Method == "KillPod" && c.UID == pod.GetMetadata().GetUid():
			seq = append(seq, "KillPod")
		}
	}
	if diff := cmp.Diff([]string{"preStop", "KillPod"}, seq); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}

	// A failing postStart kills the container, which restarts.
	q := makePod("poststart").obj()
	q.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"fail"}}}}
	h.create(q)
	h.waitPod("poststart", "a restart", func(p *corev1.Pod) bool {
		cs := p.GetStatus().GetContainerStatuses()
		return len(cs) == 1 && cs[0].GetRestartCount() >= 1
	})
	if !h.events.has("FailedPostStartHook") {
		t.Errorf("events: %v", h.events.reasons)
	}
}

func (h *harness) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
