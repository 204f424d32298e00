package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/config"
	"github.com/gantryhq/gantry/scheduler/internal/plugins"
	"github.com/gantryhq/gantry/scheduler/internal/schedtest"
)

// fake is a configurable plugin at every extension point; it records the
// calls it gets.
type fake struct {
	name      string
	filter    map[string]framework.Code // node -> code
	score     map[string]int64
	normalize bool
	preFilter *framework.Status
	reserve   *framework.Status
	permit    *framework.Status
	wait      time.Duration
	mu        sync.Mutex
	calls     []string
}

func (f *fake) record(s string) { f.mu.Lock(); f.calls = append(f.calls, s); f.mu.Unlock() }
func (f *fake) Name() string    { return f.name }
func (f *fake) PreFilter(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, _ []*framework.NodeInfo) (*framework.PreFilterResult, *framework.Status) {
	f.record("PreFilter")
	return nil, f.preFilter
}
func (f *fake) Filter(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, n *framework.NodeInfo) *framework.Status {
	if c, ok := f.filter[n.Name()]; ok && c != framework.Success {
		return framework.NewStatus(c, f.name+" says no")
	}
	return nil
}
func (f *fake) Score(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, n *framework.NodeInfo) (int64, *framework.Status) {
	return f.score[n.Name()], nil
}
func (f *fake) ScoreExtensions() framework.ScoreExtensions {
	if f.normalize {
		return f
	}
	return nil
}
func (f *fake) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, s framework.NodeScoreList) *framework.Status {
	for i := range s {
		s[i].Score *= 10
	}
	return nil
}
func (f *fake) Reserve(context.Context, *framework.CycleState, *framework.PodInfo, string) *framework.Status {
	f.record("Reserve")
	return f.reserve
}
func (f *fake) Unreserve(context.Context, *framework.CycleState, *framework.PodInfo, string) {
	f.record("Unreserve")
}
func (f *fake) Permit(context.Context, *framework.CycleState, *framework.PodInfo, string) (*framework.Status, time.Duration) {
	f.record("Permit")
	return f.permit, f.wait
}

func registryWith(fakes ...*fake) framework.Registry {
	r := plugins.NewInTreeRegistry()
	for _, f := range fakes {
		r[f.name] = func(context.Context, json.RawMessage, framework.Handle) (framework.Plugin, error) { return f, nil }
	}
	return r
}

func onlyFakes(names ...string) *config.Plugins {
	var enabled []config.Plugin
	for _, n := range names {
		enabled = append(enabled, config.Plugin{Name: n, Weight: 1})
	}
	keep := []config.Plugin{{Name: config.PrioritySort}, {Name: config.DefaultBinder}}
	return &config.Plugins{MultiPoint: config.PluginSet{
		Disabled: []config.Plugin{{Name: "*"}},
		Enabled:  append(keep, enabled...),
	}}
}

func nodes(names ...string) []*framework.NodeInfo {
	var out []*framework.NodeInfo
	for _, n := range names {
		ni := framework.NewNodeInfo()
		ni.SetNode(schedtest.MakeNode(n).Obj())
		out = append(out, ni)
	}
	return out
}

func TestDefaultProfilePlugins(t *testing.T) {
	f, err := New(context.Background(), plugins.NewInTreeRegistry(), config.Profile{SchedulerName: "default-scheduler"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"queueSort":  {"PrioritySort"},
		"preFilter":  {"NodeAffinity", "SelectorSpread"},
		"filter":     {"NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodeResourcesFit", "SelectorSpread"},
		"postFilter": {"DefaultPreemption"},
		"preScore":   {"NodeAffinity", "SelectorSpread"},
		"score":      {"TaintToleration:3", "NodeAffinity:2", "NodeResourcesFit:1", "NodeResourcesBalancedAllocation:1", "SelectorSpread:2"},
		"bind":       {"DefaultBinder"},
		"postBind":   {"DefaultPreemption"},
	}
	if d := cmp.Diff(want, f.ListPlugins()); d != "" {
		t.Errorf("plugins (-want +got):\n%s", d)
	}
}

func TestProfileChanges(t *testing.T) {
	prof := config.Profile{SchedulerName: "p", Plugins: &config.Plugins{
		Score:  config.PluginSet{Disabled: []config.Plugin{{Name: "NodeResourcesBalancedAllocation"}}, Enabled: []config.Plugin{{Name: "TaintToleration", Weight: 7}}},
		Filter: config.PluginSet{Disabled: []config.Plugin{{Name: "*"}}, Enabled: []config.Plugin{{Name: "NodeResourcesFit"}}},
	}}
	f, err := New(context.Background(), plugins.NewInTreeRegistry(), prof, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := f.ListPlugins()
	if d := cmp.Diff([]string{"NodeResourcesFit"}, got["filter"]); d != "" {
		t.Errorf("filter (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"TaintToleration:7", "NodeAffinity:2", "NodeResourcesFit:1", "SelectorSpread:2"}, got["score"]); d != "" {
		t.Errorf("score (-want +got):\n%s", d)
	}
}

func TestProfileErrors(t *testing.T) {
	for _, tc := range []struct {
		desc string
		prof config.Profile
	}{
		{"unknown plugin", config.Profile{Plugins: &config.Plugins{Filter: config.PluginSet{Enabled: []config.Plugin{{Name: "Nope"}}}}}},
		{"wrong extension point", config.Profile{Plugins: &config.Plugins{Bind: config.PluginSet{Enabled: []config.Plugin{{Name: "NodeName"}}}}}},
		{"bad args", config.Profile{PluginConfig: []config.PluginConfig{{Name: "NodeResourcesFit", Args: json.RawMessage(`{"bogus":1}`)}}}},
		{"args of a disabled plugin", config.Profile{
			Plugins:      &config.Plugins{MultiPoint: config.PluginSet{Disabled: []config.Plugin{{Name: "NodeResourcesFit"}}}},
			PluginConfig: []config.PluginConfig{{Name: "NodeResourcesFit", Args: json.RawMessage(`{}`)}}}},
		{"no binder", config.Profile{Plugins: &config.Plugins{MultiPoint: config.PluginSet{Disabled: []config.Plugin{{Name: "DefaultBinder"}}}}}},
	} {
		if _, err := New(context.Background(), plugins.NewInTreeRegistry(), tc.prof, Options{}); err == nil {
			t.Errorf("%s: no error", tc.desc)
		}
	}
}

func TestFilterStopsAtFirstRejection(t *testing.T) {
	a := &fake{name: "A", filter: map[string]framework.Code{"n1": framework.Unschedulable}}
	b := &fake{name: "B", filter: map[string]framework.Code{"n1": framework.UnschedulableAndUnresolvable, "n2": framework.UnschedulableAndUnresolvable}}
	f, err := New(context.Background(), registryWith(a, b), config.Profile{SchedulerName: "p", Plugins: onlyFakes("A", "B")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pod := framework.NewPodInfo(schedtest.MakePod("p").Obj())
	state := framework.NewCycleState()
	if _, st := f.RunPreFilterPlugins(context.Background(), state, pod); !st.IsSuccess() {
		t.Fatal(st)
	}
	got := map[string]string{}
	for _, n := range nodes("n1", "n2", "n3") {
		st := f.RunFilterPlugins(context.Background(), state, pod, n)
		got[n.Name()] = st.Code().String() + "/" + st.Plugin()
	}
	want := map[string]string{"n1": "Unschedulable/A", "n2": "UnschedulableAndUnresolvable/B", "n3": "Success/"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("filter (-want +got):\n%s", d)
	}
}

func TestPreFilterSkipAndReject(t *testing.T) {
	a := &fake{name: "A", preFilter: framework.NewStatus(framework.Skip), filter: map[string]framework.Code{"n1": framework.Unschedulable}}
	f, err := New(context.Background(), registryWith(a), config.Profile{SchedulerName: "p", Plugins: onlyFakes("A")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pod := framework.NewPodInfo(schedtest.MakePod("p").Obj())
	state := framework.NewCycleState()
	if _, st := f.RunPreFilterPlugins(context.Background(), state, pod); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := f.RunFilterPlugins(context.Background(), state, pod, nodes("n1")[0]); !st.IsSuccess() {
		t.Errorf("Filter of a plugin whose PreFilter skipped ran: %v", st)
	}
	a.preFilter = framework.NewStatus(framework.UnschedulableAndUnresolvable, "no")
	if _, st := f.RunPreFilterPlugins(context.Background(), framework.NewCycleState(), pod); st.Code() != framework.UnschedulableAndUnresolvable || st.Plugin() != "A" {
		t.Errorf("PreFilter rejection = %v from %q", st, st.Plugin())
	}
}

func TestScoreWeightsAndNormalize(t *testing.T) {
	a := &fake{name: "A", score: map[string]int64{"n1": 1, "n2": 5}, normalize: true} // normalized to 10, 50
	b := &fake{name: "B", score: map[string]int64{"n1": 100, "n2": 0}}
	prof := config.Profile{SchedulerName: "p", Plugins: onlyFakes("A", "B")}
	prof.Plugins.Score.Enabled = []config.Plugin{{Name: "B", Weight: 2}}
	f, err := New(context.Background(), registryWith(a, b), prof, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pod := framework.NewPodInfo(schedtest.MakePod("p").Obj())
	state := framework.NewCycleState()
	if st := f.RunPreScorePlugins(context.Background(), state, pod, nil); !st.IsSuccess() {
		t.Fatal(st)
	}
	got, st := f.RunScorePlugins(context.Background(), state, pod, nodes("n1", "n2"))
	if !st.IsSuccess() {
		t.Fatal(st)
	}
	if d := cmp.Diff([]int64{10 + 200, 50 + 0}, got); d != "" {
		t.Errorf("totals (-want +got):\n%s", d)
	}
	a.score["n1"] = 50 // 500 after normalizing: out of range
	if _, st := f.RunScorePlugins(context.Background(), state, pod, nodes("n1", "n2")); st.IsSuccess() {
		t.Error("a score above 100 was accepted")
	}
}

func TestPermitWaitAllowAndReject(t *testing.T) {
	a := &fake{name: "A", permit: framework.NewStatus(framework.Wait), wait: time.Minute}
	f, err := New(context.Background(), registryWith(a), config.Profile{SchedulerName: "p", Plugins: onlyFakes("A")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, allow := range []bool{true, false} {
		pod := framework.NewPodInfo(schedtest.MakePod(fmt.Sprintf("p-%v", allow)).Obj())
		if st := f.RunPermitPlugins(context.Background(), framework.NewCycleState(), pod, "n1"); !st.IsWait() {
			t.Fatalf("Permit = %v, want Wait", st)
		}
		wp := f.GetWaitingPod(pod.UID())
		if wp == nil {
			t.Fatal("no waiting pod")
		}
		go func() {
			time.Sleep(20 * time.Millisecond)
			if allow {
				wp.Allow("A")
			} else {
				wp.Reject("A", "not now")
			}
		}()
		st := f.WaitOnPermit(context.Background(), pod)
		if st.IsSuccess() != allow {
			t.Errorf("allow=%v: WaitOnPermit = %v", allow, st)
		}
		if f.GetWaitingPod(pod.UID()) != nil {
			t.Error("waiting pod kept after the wait")
		}
	}
	a.wait = 10 * time.Millisecond
	pod := framework.NewPodInfo(schedtest.MakePod("timeout").Obj())
	f.RunPermitPlugins(context.Background(), framework.NewCycleState(), pod, "n1")
	if st := f.WaitOnPermit(context.Background(), pod); st.Code() != framework.Unschedulable {
		t.Errorf("after the timeout WaitOnPermit = %v, want Unschedulable", st)
	}
}

func TestReserveOrder(t *testing.T) {
	a := &fake{name: "A"}
	b := &fake{name: "B", reserve: framework.NewStatus(framework.Unschedulable, "full")}
	f, err := New(context.Background(), registryWith(a, b), config.Profile{SchedulerName: "p", Plugins: onlyFakes("A", "B")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pod := framework.NewPodInfo(schedtest.MakePod("p").Obj())
	st := f.RunReservePlugins(context.Background(), framework.NewCycleState(), pod, "n1")
	if !st.IsRejected() || st.Plugin() != "B" {
		t.Fatalf("Reserve = %v from %q, want B's rejection", st, st.Plugin())
	}
	f.RunUnreservePlugins(context.Background(), framework.NewCycleState(), pod, "n1")
	if d := cmp.Diff([]string{"Reserve", "Unreserve"}, a.calls); d != "" {
		t.Errorf("A's calls (-want +got):\n%s", d)
	}
}
