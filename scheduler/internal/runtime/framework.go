package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/record"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/config"
)

// Options are what a Framework needs besides its profile.
type Options struct {
	ClientSet       *client.Clientset
	InformerFactory *informer.Factory
	EventRecorder   record.EventRecorder
	Logger          *zap.Logger
	Parallelism     int
	// Snapshot is the scheduler's snapshot, updated in place before each
	// cycle.
	Snapshot framework.NodeInfoLister
	// PercentageOfNodesToScore is the global setting (the profile may
	// override it).
	PercentageOfNodesToScore int32
}

// Framework is one profile's plugins.
type Framework struct {
	schedulerName string
	opts          Options
	log           *zap.Logger
	parallelizer  framework.Parallelizer
	percentage    int32

	plugins    map[string]framework.Plugin
	queueSort  framework.QueueSortPlugin
	preFilter  []framework.PreFilterPlugin
	filter     []framework.FilterPlugin
	postFilter []framework.PostFilterPlugin
	preScore   []framework.PreScorePlugin
	score      []framework.ScorePlugin
	weights    []int64
	reserve    []framework.ReservePlugin
	permit     []framework.PermitPlugin
	preBind    []framework.PreBindPlugin
	bind       []framework.BindPlugin
	postBind   []framework.PostBindPlugin

	// scoreBuf is reused by RunScorePlugins, which the scheduling loop
	// calls from one goroutine.
	scoreBuf []framework.NodeScore

	waitingMu sync.Mutex
	waiting   map[string]*waitingPod
}

var _ framework.Handle = (*Framework)(nil)

type point struct {
	name     string
	set      func(p *config.Plugins) config.PluginSet
	accepts  func(framework.Plugin) bool
	add      func(f *Framework, p framework.Plugin, weight int32)
	isScore  bool
	isSingle bool
}

var points = []point{
	{name: "queueSort", set: func(p *config.Plugins) config.PluginSet { return p.QueueSort }, isSingle: true,
		accepts: func(p framework.Plugin) bool { _, ok := p.(framework.QueueSortPlugin); return ok },
		add:     func(f *Framework, p framework.Plugin, _ int32) { f.queueSort = p.(framework.QueueSortPlugin) }},
	{name: "preFilter", set: func(p *config.Plugins) config.PluginSet { return p.PreFilter },
		accepts: func(p framework.Plugin) bool { _, ok := p.(framework.PreFilterPlugin); return ok },
		add: func(f *Framework, p framework.Plugin, _ int32) {
			f.preFilter = append(f.preFilter, p.(framework.PreFilterPlugin))
		}},
	{name: "filter", set: func(p *config.Plugins) config.PluginSet { return p.Filter },
		accepts: func(p framework.Plugin) bool { _, ok := p.(framework.FilterPlugin); return ok },
		add: func(f *Framework, p framework.Plugin, _ int32) {
			f.filter = append(f.filter, p.(framework.FilterPlugin))
		}},
	{name: "postFilter", set: func(p *config.Plugins) config.PluginSet { return p.PostFilter },
		accepts: func(p framework.Plugin) bool { _, ok := p.(framework.PostFilterPlugin); return ok },
		add: func(f *Framework, p framework.Plugin, _ int32) {
			f.postFilter = append(f.postFilter, p.(framework.PostFilterPlugin))
		}},
	{name: "preScore", set: func(p *config.Plugins) config.PluginSet { return p.PreScore },
		accepts: func(p framework.Plugin) bool { _, ok := p.(framework.PreScorePlugin); return ok },
		add: func(f *Framework, p framework.Plugin, _ int32) {
			f.preScore = append(f.preScore, p.(framework.PreScorePlugin))
		}},
	{name: "score", set: func(p *config.Plugins) config.PluginSet { return p.Score }, isScore: true,
		accepts: func(p framework.Plugin) bool { _, ok := p.(framework.ScorePlugin); return ok },
		add: func(f *Framework, p framework.Plugin, w int32) {
			if w == 0 {
				w = 1
			}
			f.score = append(f.score, p.(framework.ScorePlugin))
			f.weights = append(f.weights, int64(w))
		}},
	{name: "reserve", set: func(p *config.Plugins) config.PluginSet { return p.Reserve },
		accepts: func(p framework.Plugin) bool { _, ok := p.(framework.ReservePlugin); return ok },
		add: func(f *Framework, p framework.Plugin, _ int32) {
			f.reserve = append(f.reserve, p.(framework.ReservePlugin))
		}},
	{name: "permit", set: func(p *config.Plugins) config.PluginSet { return p.Permit },
		accepts: func(p framework.Plugin) bool { _, ok := p.(framework.PermitPlugin); return ok },
		add: func(f *Framework, p framework.Plugin, _ int32) {
			f.permit = append(f.permit, p.(framework.PermitPlugin))
		}},
	{name: "preBind", set: func(p *config.Plugins) config.PluginSet { return p.PreBind },
		accepts: func(p framework.Plugin) bool { _, ok := p.(framework.PreBindPlugin); return ok },
		add: func(f *Framework, p framework.Plugin, _ int32) {
			f.preBind = append(f.preBind, p.(framework.PreBindPlugin))
		}},
	{name: "bind", set: func(p *config.Plugins) config.PluginSet { return p.Bind },
		accepts: func(p framework.Plugin) bool { _, ok := p.(framework.BindPlugin); return ok },
		add:     func(f *Framework, p framework.Plugin, _ int32) { f.bind = append(f.bind, p.(framework.BindPlugin)) }},
	{name: "postBind", set: func(p *config.Plugins) config.PluginSet { return p.PostBind },
		accepts: func(p framework.Plugin) bool { _, ok := p.(framework.PostBindPlugin); return ok },
		add: func(f *Framework, p framework.Plugin, _ int32) {
			f.postBind = append(f.postBind, p.(framework.PostBindPlugin))
		}},
}

func contains(list []config.Plugin, name string) bool {
	for _, p := range list {
		if p.Name == name || p.Name == "*" {
			return true
		}
	}
	return false
}

// New builds a profile's plugins from the registry.
func New(ctx context.Context, registry framework.Registry, profile config.Profile, opts Options) (*Framework, error) {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Parallelism == 0 {
		opts.Parallelism = framework.DefaultParallelism
	}
	f := &Framework{
		schedulerName: profile.SchedulerName,
		opts:          opts,
		log:           opts.Logger.With(zap.String("profile", profile.SchedulerName)),
		parallelizer:  framework.NewParallelizer(opts.Parallelism),
		percentage:    opts.PercentageOfNodesToScore,
		plugins:       map[string]framework.Plugin{},
		waiting:       map[string]*waitingPod{},
	}
	if profile.PercentageOfNodesToScore != nil {
		f.percentage = *profile.PercentageOfNodesToScore
	}
	plugins := profile.Plugins
	if plugins == nil {
		plugins = &config.Plugins{}
	}
	// MultiPoint: the defaults, changed by the profile's multiPoint.
	var multi []config.Plugin
	for _, p := range config.DefaultPlugins() {
		if !contains(plugins.MultiPoint.Disabled, p.Name) {
			multi = append(multi, p)
		}
	}
	for _, p := range plugins.MultiPoint.Enabled {
		replaced := false
		for i := range multi {
			if multi[i].Name == p.Name {
				multi[i] = p
				replaced = true
			}
		}
		if !replaced {
			multi = append(multi, p)
		}
	}
	args := map[string]json.RawMessage{}
	for _, pc := range profile.PluginConfig {
		args[pc.Name] = pc.Args
	}
	instance := func(name string) (framework.Plugin, error) {
		if p, ok := f.plugins[name]; ok {
			return p, nil
		}
		factory, ok := registry[name]
		if !ok {
			return nil, fmt.Errorf("profile %q: no plugin named %q is registered", profile.SchedulerName, name)
		}
		p, err := factory(ctx, args[name], f)
		if err != nil {
			return nil, fmt.Errorf("profile %q: plugin %q: %w", profile.SchedulerName, name, err)
		}
		f.plugins[name] = p
		return p, nil
	}
	for _, pt := range points {
		set := pt.set(plugins)
		var chosen []config.Plugin
		for _, mp := range multi {
			if contains(set.Disabled, mp.Name) {
				continue
			}
			p, err := instance(mp.Name)
			if err != nil {
				return nil, err
			}
			if pt.accepts(p) {
				chosen = append(chosen, mp)
			}
		}
		for _, ep := range set.Enabled {
			p, err := instance(ep.Name)
			if err != nil {
				return nil, err
			}
			if !pt.accepts(p) {
				return nil, fmt.Errorf("profile %q: plugin %q does not implement %s", profile.SchedulerName, ep.Name, pt.name)
			}
			found := false
			for i := range chosen {
				if chosen[i].Name == ep.Name {
					chosen[i] = ep
					found = true
				}
			}
			if !found {
				chosen = append(chosen, ep)
			}
		}
		if pt.isSingle && len(chosen) > 1 {
			chosen = chosen[len(chosen)-1:]
		}
		for _, c := range chosen {
			pt.add(f, f.plugins[c.Name], c.Weight)
		}
	}
	for name, args := range args {
		if _, ok := f.plugins[name]; !ok && len(args) > 0 {
			return nil, fmt.Errorf("profile %q: pluginConfig for %q, which is not enabled", profile.SchedulerName, name)
		}
	}
	if f.queueSort == nil {
		return nil, fmt.Errorf("profile %q: no queueSort plugin", profile.SchedulerName)
	}
	if len(f.bind) == 0 {
		return nil, fmt.Errorf("profile %q: no bind plugin", profile.SchedulerName)
	}
	return f, nil
}

// ProfileName is the profile's schedulerName.
func (f *Framework) ProfileName() string { return f.schedulerName }

// SchedulerName is the profile's schedulerName.
func (f *Framework) SchedulerName() string { return f.schedulerName }

// PercentageOfNodesToScore is the profile's setting (0: adaptive).
func (f *Framework) PercentageOfNodesToScore() int32 { return f.percentage }

// QueueSortFunc is the profile's queue order.
func (f *Framework) QueueSortFunc() func(a, b *framework.QueuedPodInfo) bool { return f.queueSort.Less }

// ListPlugins returns the plugin names per extension point, for tests and
// logs.
func (f *Framework) ListPlugins() map[string][]string {
	out := map[string][]string{}
	add := func(pt string, p framework.Plugin) { out[pt] = append(out[pt], p.Name()) }
	add("queueSort", f.queueSort)
	for _, p := range f.preFilter {
		add("preFilter", p)
	}
	for _, p := range f.filter {
		add("filter", p)
	}
	for _, p := range f.postFilter {
		add("postFilter", p)
	}
	for _, p := range f.preScore {
		add("preScore", p)
	}
	for i, p := range f.score {
		out["score"] = append(out["score"], fmt.Sprintf("%s:%d", p.Name(), f.weights[i]))
	}
	for _, p := range f.reserve {
		add("reserve", p)
	}
	for _, p := range f.permit {
		add("permit", p)
	}
	for _, p := range f.preBind {
		add("preBind", p)
	}
	for _, p := range f.bind {
		add("bind", p)
	}
	for _, p := range f.postBind {
		add("postBind", p)
	}
	return out
}

// HasPostFilterPlugins reports whether any PostFilter plugin is enabled.
func (f *Framework) HasPostFilterPlugins() bool { return len(f.postFilter) > 0 }

// HasScorePlugins reports whether any Score plugin is enabled.
func (f *Framework) HasScorePlugins() bool { return len(f.score) > 0 }

// Handle.

// ClientSet implements framework.Handle.
func (f *Framework) ClientSet() *client.Clientset { return f.opts.ClientSet }

// SharedInformerFactory implements framework.Handle.
func (f *Framework) SharedInformerFactory() *informer.Factory { return f.opts.InformerFactory }

// SnapshotSharedLister implements framework.Handle.
func (f *Framework) SnapshotSharedLister() framework.NodeInfoLister { return f.opts.Snapshot }

// EventRecorder implements framework.Handle.
func (f *Framework) EventRecorder() record.EventRecorder { return f.opts.EventRecorder }

// Logger implements framework.Handle.
func (f *Framework) Logger() *zap.Logger { return f.log }

// Parallelizer implements framework.Handle.
func (f *Framework) Parallelizer() framework.Parallelizer { return f.parallelizer }

// RunPreFilterPlugins runs the PreFilter plugins; a rejection names the
// plugin. Plugins returning Skip are recorded in state.
func (f *Framework) RunPreFilterPlugins(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo) (*framework.PreFilterResult, *framework.Status) {
	var result *framework.PreFilterResult
	var nodes []*framework.NodeInfo
	if f.opts.Snapshot != nil {
		nodes = f.opts.Snapshot.List()
	}
	skip := map[string]struct{}{}
	for _, p := range f.preFilter {
		r, s := p.PreFilter(ctx, state, pod, nodes)
		if s.IsSkip() {
			skip[p.Name()] = struct{}{}
			continue
		}
		if !s.IsSuccess() {
			if s.IsRejected() {
				return nil, s.WithPlugin(p.Name())
			}
			return nil, framework.AsStatus(fmt.Errorf("running PreFilter plugin %q: %w", p.Name(), s.AsError())).WithPlugin(p.Name())
		}
		if r != nil && r.NodeNames != nil {
			if result == nil {
				result = &framework.PreFilterResult{NodeNames: r.NodeNames}
			} else {
				both := map[string]struct{}{}
				for n := range r.NodeNames {
					if _, ok := result.NodeNames[n]; ok {
						both[n] = struct{}{}
					}
				}
				result.NodeNames = both
			}
		}
	}
	state.SkipFilterPlugins = skip
	active := make([]framework.FilterPlugin, 0, len(f.filter))
	for _, p := range f.filter {
		if _, ok := skip[p.Name()]; !ok {
			active = append(active, p)
		}
	}
	state.FilterPlugins = active
	return result, nil
}

// RunFilterPlugins runs the Filter plugins for one node and returns the
// first rejection, naming its plugin.
func (f *Framework) RunFilterPlugins(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	plugins := state.FilterPlugins
	if plugins == nil {
		plugins = f.filter
		if len(state.SkipFilterPlugins) > 0 {
			plugins = nil
			for _, p := range f.filter {
				if _, ok := state.SkipFilterPlugins[p.Name()]; !ok {
					plugins = append(plugins, p)
				}
			}
		}
	}
	for _, p := range plugins {
		s := p.Filter(ctx, state, pod, node)
		if !s.IsSuccess() {
			if !s.IsRejected() {
				s = framework.AsStatus(fmt.Errorf("running Filter plugin %q: %w", p.Name(), s.AsError()))
			}
			return s.WithPlugin(p.Name())
		}
	}
	return nil
}

// RunPostFilterPlugins runs the PostFilter plugins until one succeeds.
func (f *Framework) RunPostFilterPlugins(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, filtered framework.NodeToStatus) (*framework.PostFilterResult, *framework.Status) {
	var reasons []string
	for _, p := range f.postFilter {
		r, s := p.PostFilter(ctx, state, pod, filtered)
		if s.IsSuccess() {
			return r, nil
		}
		if s.Code() == framework.Error {
			return nil, s.WithPlugin(p.Name())
		}
		reasons = append(reasons, s.Reasons()...)
	}
	return nil, framework.NewStatus(framework.Unschedulable, reasons...)
}

// RunPreScorePlugins runs the PreScore plugins.
func (f *Framework) RunPreScorePlugins(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, nodes []*framework.NodeInfo) *framework.Status {
	skip := map[string]struct{}{}
	for _, p := range f.preScore {
		s := p.PreScore(ctx, state, pod, nodes)
		if s.IsSkip() {
			skip[p.Name()] = struct{}{}
			continue
		}
		if !s.IsSuccess() {
			return framework.AsStatus(fmt.Errorf("running PreScore plugin %q: %w", p.Name(), s.AsError())).WithPlugin(p.Name())
		}
	}
	state.SkipScorePlugins = skip
	return nil
}

// RunScorePlugins scores the nodes: each plugin's scores, normalized and
// weighted, summed per node (in the order of nodes). It must not be called
// concurrently (its buffers are reused).
func (f *Framework) RunScorePlugins(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, nodes []*framework.NodeInfo) ([]int64, *framework.Status) {
	totals := make([]int64, len(nodes))
	var active []int
	for i, p := range f.score {
		if _, ok := state.SkipScorePlugins[p.Name()]; !ok {
			active = append(active, i)
		}
	}
	if len(active) == 0 {
		return totals, nil
	}
	if need := len(active) * len(nodes); cap(f.scoreBuf) < need {
		f.scoreBuf = make([]framework.NodeScore, need)
	}
	scores := make([]framework.NodeScoreList, len(active))
	for k := range active {
		scores[k] = f.scoreBuf[k*len(nodes) : (k+1)*len(nodes) : (k+1)*len(nodes)]
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var errMu sync.Mutex
	var firstErr *framework.Status
	f.parallelizer.Until(ctx, len(nodes), func(n int) {
		node := nodes[n]
		name := node.Name()
		for k, i := range active {
			s, st := f.score[i].Score(ctx, state, pod, node)
			if !st.IsSuccess() {
				errMu.Lock()
				if firstErr == nil {
					firstErr = framework.AsStatus(fmt.Errorf("running Score plugin %q: %w", f.score[i].Name(), st.AsError())).WithPlugin(f.score[i].Name())
				}
				errMu.Unlock()
				cancel()
				return
			}
			scores[k][n] = framework.NodeScore{Name: name, Score: s}
		}
	})
	if firstErr != nil {
		return nil, firstErr
	}
	for k, i := range active {
		p := f.score[i]
		if ext := p.ScoreExtensions(); ext != nil {
			if st := ext.NormalizeScore(ctx, state, pod, scores[k]); !st.IsSuccess() {
				return nil, framework.AsStatus(fmt.Errorf("running NormalizeScore of %q: %w", p.Name(), st.AsError())).WithPlugin(p.Name())
			}
		}
		w := f.weights[i]
		for n := range nodes {
			s := scores[k][n].Score
			if s < framework.MinNodeScore || s > framework.MaxNodeScore {
				return nil, framework.AsStatus(fmt.Errorf("plugin %q scored node %s %d, outside [0, 100]", p.Name(), nodes[n].Name(), s))
			}
			totals[n] += s * w
		}
	}
	return totals, nil
}

// RunReservePlugins runs Reserve; on failure the caller runs Unreserve.
func (f *Framework) RunReservePlugins(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, node string) *framework.Status {
	for _, p := range f.reserve {
		if s := p.Reserve(ctx, state, pod, node); !s.IsSuccess() {
			if s.IsRejected() {
				return s.WithPlugin(p.Name())
			}
			return framework.AsStatus(fmt.Errorf("running Reserve plugin %q: %w", p.Name(), s.AsError())).WithPlugin(p.Name())
		}
	}
	return nil
}

// RunUnreservePlugins runs Unreserve in reverse order.
func (f *Framework) RunUnreservePlugins(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, node string) {
	for i := len(f.reserve) - 1; i >= 0; i-- {
		f.reserve[i].Unreserve(ctx, state, pod, node)
	}
}

// RunPermitPlugins runs Permit. Wait means the pod is now a waiting pod;
// call WaitOnPermit in the binding goroutine.
func (f *Framework) RunPermitPlugins(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, node string) *framework.Status {
	waits := map[string]time.Duration{}
	for _, p := range f.permit {
		s, d := p.Permit(ctx, state, pod, node)
		switch {
		case s.IsSuccess():
		case s.IsWait():
			if d <= 0 || d > 15*time.Minute {
				d = 15 * time.Minute
			}
			waits[p.Name()] = d
		case s.IsRejected():
			return s.WithPlugin(p.Name())
		default:
			return framework.AsStatus(fmt.Errorf("running Permit plugin %q: %w", p.Name(), s.AsError())).WithPlugin(p.Name())
		}
	}
	if len(waits) == 0 {
		return nil
	}
	wp := newWaitingPod(pod.Pod, waits)
	f.waitingMu.Lock()
	f.waiting[pod.UID()] = wp
	f.waitingMu.Unlock()
	return framework.NewStatus(framework.Wait)
}

// WaitOnPermit blocks until a waiting pod is allowed or rejected; it
// returns at once for a pod that is not waiting.
func (f *Framework) WaitOnPermit(ctx context.Context, pod *framework.PodInfo) *framework.Status {
	f.waitingMu.Lock()
	wp := f.waiting[pod.UID()]
	f.waitingMu.Unlock()
	if wp == nil {
		return nil
	}
	defer func() {
		f.waitingMu.Lock()
		delete(f.waiting, pod.UID())
		f.waitingMu.Unlock()
	}()
	select {
	case s := <-wp.done:
		return s
	case <-ctx.Done():
		wp.Reject("", "scheduler stopping")
		return framework.AsStatus(ctx.Err())
	}
}

// GetWaitingPod implements framework.Handle.
func (f *Framework) GetWaitingPod(uid string) framework.WaitingPod {
	f.waitingMu.Lock()
	defer f.waitingMu.Unlock()
	if wp, ok := f.waiting[uid]; ok {
		return wp
	}
	return nil
}

// IterateOverWaitingPods implements framework.Handle.
func (f *Framework) IterateOverWaitingPods(fn func(framework.WaitingPod)) {
	f.waitingMu.Lock()
	list := make([]*waitingPod, 0, len(f.waiting))
	for _, wp := range f.waiting {
		list = append(list, wp)
	}
	f.waitingMu.Unlock()
	for _, wp := range list {
		fn(wp)
	}
}

// RunPreBindPlugins runs PreBind.
func (f *Framework) RunPreBindPlugins(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, node string) *framework.Status {
	for _, p := range f.preBind {
		if s := p.PreBind(ctx, state, pod, node); !s.IsSuccess() {
			return framework.AsStatus(fmt.Errorf("running PreBind plugin %q: %w", p.Name(), s.AsError())).WithPlugin(p.Name())
		}
	}
	return nil
}

// RunBindPlugins runs the binders until one does not Skip.
func (f *Framework) RunBindPlugins(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, node string) *framework.Status {
	for _, p := range f.bind {
		s := p.Bind(ctx, state, pod, node)
		if s.IsSkip() {
			continue
		}
		if !s.IsSuccess() {
			return framework.AsStatus(fmt.Errorf("running Bind plugin %q: %w", p.Name(), s.AsError())).WithPlugin(p.Name())
		}
		return nil
	}
	return framework.NewStatus(framework.Error, "every bind plugin skipped the pod")
}

// RunPostBindPlugins runs PostBind.
func (f *Framework) RunPostBindPlugins(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, node string) {
	for _, p := range f.postBind {
		p.PostBind(ctx, state, pod, node)
	}
}

// waitingPod is a pod held at Permit.
type waitingPod struct {
	pod     *corev1.Pod
	mu      sync.Mutex
	pending map[string]*time.Timer
	done    chan *framework.Status
	closed  bool
}

func newWaitingPod(pod *corev1.Pod, waits map[string]time.Duration) *waitingPod {
	wp := &waitingPod{pod: pod, pending: map[string]*time.Timer{}, done: make(chan *framework.Status, 1)}
	wp.mu.Lock()
	defer wp.mu.Unlock()
	for name, d := range waits {
		wp.pending[name] = time.AfterFunc(d, func() {
			wp.Reject(name, "rejected due to timeout after waiting "+d.String()+" at plugin "+name)
		})
	}
	return wp
}

func (w *waitingPod) Pod() *corev1.Pod { return w.pod }

func (w *waitingPod) Allow(plugin string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t, ok := w.pending[plugin]; ok {
		t.Stop()
		delete(w.pending, plugin)
	}
	if len(w.pending) == 0 && !w.closed {
		w.closed = true
		w.done <- nil
	}
}

func (w *waitingPod) Reject(plugin, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range w.pending {
		t.Stop()
	}
	if !w.closed {
		w.closed = true
		w.done <- framework.NewStatus(framework.Unschedulable, msg).WithPlugin(plugin)
	}
}
