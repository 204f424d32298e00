package framework_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
	"github.com/gantryhq/gantry/scheduler/framework"
)

func container(cpu, mem string, restartAlways bool) *corev1.Container {
	r := map[string]*metav1.Quantity{}
	if cpu != "" {
		r["cpu"] = &metav1.Quantity{Value: cpu}
	}
	if mem != "" {
		r["memory"] = &metav1.Quantity{Value: mem}
	}
	c := &corev1.Container{Name: "c", Resources: &corev1.ResourceRequirements{Requests: r}}
	if restartAlways {
		always := "Always"
		c.RestartPolicy = &always
	}
	return c
}

func TestPodRequests(t *testing.T) {
	const mi = 1 << 20
	for _, tc := range []struct {
		desc             string
		containers, init []*corev1.Container
		cpu, mem         int64
		nzCPU, nzMem     int64
	}{
		{"sum of containers", []*corev1.Container{container("100m", "64Mi", false), container("1", "1Gi", false)}, nil,
			1100, 1088 * mi, 1100, 1088 * mi},
		{"nothing requested: zero, scored as 100m and 200Mi", []*corev1.Container{container("", "", false)}, nil,
			0, 0, framework.DefaultMilliCPURequest, framework.DefaultMemoryRequest},
		{"a bigger init container wins", []*corev1.Container{container("100m", "64Mi", false)}, []*corev1.Container{container("2", "32Mi", false)},
			2000, 64 * mi, 2000, 64 * mi},
		{"sidecars add up", []*corev1.Container{container("100m", "64Mi", false)}, []*corev1.Container{container("500m", "64Mi", true)},
			600, 128 * mi, 600, 128 * mi},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			pod := &corev1.Pod{Spec: &corev1.PodSpec{Containers: tc.containers, InitContainers: tc.init}}
			r, nzCPU, nzMem := framework.PodRequests(pod)
			got := []int64{r.MilliCPU, r.Memory, nzCPU, nzMem}
			if d := cmp.Diff([]int64{tc.cpu, tc.mem, tc.nzCPU, tc.nzMem}, got); d != "" {
				t.Errorf("cpu, memory, non-zero cpu, non-zero memory (-want +got):\n%s", d)
			}
		})
	}
}

func TestNodeInfoAddRemoveClone(t *testing.T) {
	ni := framework.NewNodeInfo()
	ni.SetNode(&corev1.Node{
		Metadata: &metav1.ObjectMeta{Name: "n"},
		Spec:     &corev1.NodeSpec{Taints: []*corev1.Taint{{Key: "a", Effect: "NoSchedule"}, {Key: "b", Effect: "PreferNoSchedule"}}},
		Status:   &corev1.NodeStatus{Allocatable: map[string]*metav1.Quantity{"cpu": {Value: "4"}, "pods": {Value: "10"}, "example.com/gpu": {Value: "2"}}},
	})
	if ni.Allocatable.MilliCPU != 4000 || ni.Allocatable.AllowedPodNumber != 10 || ni.Allocatable.Scalar["example.com/gpu"] != 2 {
		t.Fatalf("allocatable = %+v", ni.Allocatable)
	}
	if len(ni.Taints) != 1 {
		t.Errorf("taints kept = %d, want only the NoSchedule one", len(ni.Taints))
	}
	p := framework.NewPodInfo(&corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p", Namespace: "d", Uid: "u1"},
		Spec: &corev1.PodSpec{Containers: []*corev1.Container{container("1", "", false)}}})
	gen := ni.Generation
	ni.AddPod(p)
	if ni.Generation <= gen || ni.Requested.MilliCPU != 1000 || ni.Requested.AllowedPodNumber != 1 {
		t.Fatalf("after AddPod: %+v", ni)
	}
	c := ni.Clone()
	if err := c.RemovePod(p.Pod); err != nil {
		t.Fatal(err)
	}
	if ni.Requested.MilliCPU != 1000 || len(ni.Pods) != 1 {
		t.Error("removing from the clone changed the original")
	}
	if err := c.RemovePod(p.Pod); err == nil {
		t.Error("removing a pod twice succeeded")
	}
}

func TestStatus(t *testing.T) {
	var nilStatus *framework.Status
	if !nilStatus.IsSuccess() || nilStatus.AsError() != nil || nilStatus.Code() != framework.Success {
		t.Error("a nil status is not Success")
	}
	s := framework.NewStatus(framework.Unschedulable, "Insufficient cpu", "Too many pods").WithPlugin("Fit")
	if !s.IsRejected() || s.Message() != "Insufficient cpu, Too many pods" || s.Plugin() != "Fit" || s.AsError() == nil {
		t.Errorf("status = %v (%q)", s, s.Plugin())
	}
	e := errors.New("boom")
	if st := framework.AsStatus(e); st.Code() != framework.Error || !errors.Is(st.AsError(), e) {
		t.Errorf("AsStatus = %v", st)
	}
	if framework.NewStatus(framework.Skip).AsError() != nil {
		t.Error("Skip is an error")
	}
}

func TestParallelizerVisitsEveryPieceOnce(t *testing.T) {
	const n = 10007
	var seen [n]atomic.Int32
	framework.NewParallelizer(16).Until(context.Background(), n, func(i int) { seen[i].Add(1) })
	for i := range seen {
		if seen[i].Load() != 1 {
			t.Fatalf("piece %d visited %d times", i, seen[i].Load())
		}
	}
}

func TestRegistryAndDecodeArgs(t *testing.T) {
	r := framework.Registry{}
	var factory framework.PluginFactory = func(context.Context, json.RawMessage, framework.Handle) (framework.Plugin, error) { return nil, nil }
	if err := r.Register("A", factory); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("A", factory); err == nil {
		t.Error("registering a name twice succeeded")
	}
	var args struct {
		Prefer string `json:"prefer"`
	}
	args.Prefer = "default"
	if err := framework.DecodeArgs(nil, &args); err != nil || args.Prefer != "default" {
		t.Errorf("empty args: %v, %q", err, args.Prefer)
	}
	if err := framework.DecodeArgs([]byte(`{"prefer":"x"}`), &args); err != nil || args.Prefer != "x" {
		t.Errorf("args: %v, %q", err, args.Prefer)
	}
	if err := framework.DecodeArgs([]byte(`{"other":1}`), &args); err == nil {
		t.Error("unknown field accepted")
	}
}
