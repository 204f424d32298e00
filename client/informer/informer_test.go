package informer_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/clienttest"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/scheme"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func pod(ns, name, node string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:     &corev1.PodSpec{NodeName: node},
	}
}

// recorder is a handler that records what it is told.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) handler() informer.Handler[*corev1.Pod] {
	add := func(s string) { r.mu.Lock(); r.events = append(r.events, s); r.mu.Unlock() }
	return informer.Handler[*corev1.Pod]{
		OnAdd: func(p *corev1.Pod) { add("add " + p.GetMetadata().GetName()) },
		OnUpdate: func(o, n *corev1.Pod) {
			add(fmt.Sprintf("update %s %s->%s", n.GetMetadata().GetName(), o.GetMetadata().GetResourceVersion(), n.GetMetadata().GetResourceVersion()))
		},
		OnDelete: func(p *corev1.Pod) { add("delete " + p.GetMetadata().GetName()) },
	}
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// kinds strips revisions from recorded events.
func kinds(evs []string) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		f := strings.Fields(e)
		out[i] = f[0] + " " + f[1]
	}
	return out
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// start runs inf until the test ends.
func start[T scheme.Object](t *testing.T, inf *informer.Informer[T]) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); inf.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	eventually(t, "sync", inf.HasSynced)
}

// cacheEqualsList checks that the cache holds exactly what the server lists.
func cacheEqualsList(t *testing.T, ctx context.Context, cs *client.Clientset, inf *informer.Informer[*corev1.Pod], opts client.ListOptions) {
	t.Helper()
	var diff string
	eventually(t, "cache to equal a fresh list", func() bool {
		l, err := cs.Pods("").List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		cached := inf.Lister().List(nil)
		sort.Slice(cached, func(i, j int) bool { return key(cached[i]) < key(cached[j]) })
		diff = cmp.Diff(l.Items, cached, protocmp.Transform())
		return diff == ""
	})
}

func key(p *corev1.Pod) string {
	return p.GetMetadata().GetNamespace() + "/" + p.GetMetadata().GetName()
}

func opts() informer.Options {
	return informer.Options{PageSize: 2, MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
}

func TestListThenWatch(t *testing.T) {
	ctx := context.Background()
	cs, srv := clienttest.New(t, pod("a", "p1", "", nil), pod("a", "p2", "", nil), pod("b", "p3", "", nil))
	inf := informer.New[*corev1.Pod](cs.Pods(""), opts())
	rec := &recorder{}
	inf.AddEventHandler(rec.handler())
	start(t, inf)

	// Three objects, pages of two: two list calls at one revision.
	var lists int
	for _, a := range srv.Actions() {
		if a.Verb == "list" {
			lists++
		}
	}
	if lists != 2 {
		t.Errorf("%d list calls, want 2", lists)
	}
	eventually(t, "initial adds", func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return len(rec.events) >= 3 })
	if diff := cmp.Diff([]string{"add p1", "add p2", "add p3"}, kinds(rec.take())); diff != "" {
		t.Errorf("initial events (-want +got):\n%s", diff)
	}

	p1, _ := cs.Pods("a").Get(ctx, "p1")
	p1.Metadata.Labels = map[string]string{"x": "y"}
	if _, err := cs.Pods("a").Update(ctx, p1); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Pods("a").Create(ctx, pod("a", "p4", "", nil)); err != nil {
		t.Fatal(err)
	}
	if err := cs.Pods("b").Delete(ctx, "p3", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "watch events", func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return len(rec.events) >= 3 })
	if diff := cmp.Diff([]string{"update p1", "add p4", "delete p3"}, kinds(rec.take())); diff != "" {
		t.Errorf("watch events (-want +got):\n%s", diff)
	}
	cacheEqualsList(t, ctx, cs, inf, client.ListOptions{})
	if got, want := inf.LastSyncResourceVersion(), fmt.Sprint(srv.Revision()); got != want {
		t.Errorf("LastSyncResourceVersion = %s, want %s", got, want)
	}

	// A handler added later is told of every cached object.
	late := &recorder{}
	inf.AddEventHandler(late.handler())
	eventually(t, "replay", func() bool { late.mu.Lock(); defer late.mu.Unlock(); return len(late.events) == 3 })
}

func TestResumeAfterBrokenWatch(t *testing.T) {
	ctx := context.Background()
	cs, srv := clienttest.New(t, pod("a", "p1", "", nil))
	inf := informer.New[*corev1.Pod](cs.Pods(""), opts())
	rec := &recorder{}
	inf.AddEventHandler(rec.handler())
	start(t, inf)
	eventually(t, "watch", func() bool { return srv.Watches() == 1 })
	eventually(t, "initial add", func() bool { return len(rec.take()) == 1 })
	resumeRV := inf.LastSyncResourceVersion()

	// Refuse watches for a while, break the stream and change things
	// meanwhile; the informer must resume from its last revision without
	// listing again, and see every change.
	var mu sync.Mutex
	refuse := true
	srv.AddReactor(func(a clienttest.Action) error {
		mu.Lock()
		defer mu.Unlock()
		if a.Verb == "watch" && refuse {
			return status.Error(codes.Unavailable, "down")
		}
		return nil
	})
	rv := resumeRV
	srv.ClearActions()
	srv.BreakWatches()
	eventually(t, "watch to break", func() bool { return srv.Watches() == 0 })
	if _, err := cs.Pods("a").Create(ctx, pod("a", "p2", "", nil)); err != nil {
		t.Fatal(err)
	}
	if err := cs.Pods("a").Delete(ctx, "p1", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "refused retries", func() bool {
		n := 0
		for _, a := range srv.Actions() {
			if a.Verb == "watch" {
				n++
			}
		}
		return n >= 2
	})
	mu.Lock()
	refuse = false
	mu.Unlock()
	eventually(t, "watch again", func() bool { return srv.Watches() == 1 })

	eventually(t, "events", func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return len(rec.events) == 2 })
	for _, a := range srv.Actions() {
		switch a.Verb {
		case "list":
			t.Errorf("informer listed again after a broken watch")
		case "watch":
			if a.ResourceVersion != rv {
				t.Errorf("watch resumed from %q, want %q", a.ResourceVersion, rv)
			}
		}
	}
	if diff := cmp.Diff([]string{"add p2", "delete p1"}, kinds(rec.take())); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	cacheEqualsList(t, ctx, cs, inf, client.ListOptions{})
}

func TestRelistAfterCompaction(t *testing.T) {
	ctx := context.Background()
	cs, srv := clienttest.New(t, pod("a", "keep", "", nil), pod("a", "change", "", nil), pod("a", "gone", "", nil))
	inf := informer.New[*corev1.Pod](cs.Pods(""), opts())
	rec := &recorder{}
	inf.AddEventHandler(rec.handler())
	start(t, inf)
	eventually(t, "watch", func() bool { return srv.Watches() == 1 })
	eventually(t, "initial adds", func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return len(rec.events) == 3 })
	rec.take()

	var mu sync.Mutex
	refuse := true
	srv.AddReactor(func(a clienttest.Action) error {
		mu.Lock()
		defer mu.Unlock()
		if a.Verb == "watch" && refuse {
			return status.Error(codes.Unavailable, "down")
		}
		return nil
	})
	srv.BreakWatches()
	eventually(t, "watch to break", func() bool { return srv.Watches() == 0 })

	// While the informer cannot watch: an update, a delete, a create, and
	// an object created and deleted again; then the history is compacted.
	c, _ := cs.Pods("a").Get(ctx, "change")
	c.Metadata.Labels = map[string]string{"v": "2"}
	if _, err := cs.Pods("a").Update(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{
		func() error { return cs.Pods("a").Delete(ctx, "gone", client.DeleteOptions{}) },
		func() error { _, err := cs.Pods("a").Create(ctx, pod("a", "new", "", nil)); return err },
		func() error { _, err := cs.Pods("a").Create(ctx, pod("a", "blip", "", nil)); return err },
		func() error { return cs.Pods("a").Delete(ctx, "blip", client.DeleteOptions{}) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	srv.Compact()
	srv.ClearActions()
	mu.Lock()
	refuse = false
	mu.Unlock()

	cacheEqualsList(t, ctx, cs, inf, client.ListOptions{})
	eventually(t, "diff events", func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return len(rec.events) == 3 })
	got := kinds(rec.take())
	sort.Strings(got)
	if diff := cmp.Diff([]string{"add new", "delete gone", "update change"}, got); diff != "" {
		t.Errorf("relist events (-want +got):\n%s", diff)
	}
	var sawGone, listed bool
	for _, a := range srv.Actions() {
		sawGone = sawGone || a.Verb == "watch"
		listed = listed || (a.Verb == "list" && sawGone)
	}
	if !listed {
		t.Errorf("no list after the compacted watch: %v", srv.Actions())
	}
}

func TestFilteredInformerAndIndexes(t *testing.T) {
	ctx := context.Background()
	cs, _ := clienttest.New(t,
		pod("a", "on-n1", "n1", map[string]string{"app": "web"}),
		pod("b", "also-n1", "n1", map[string]string{"app": "db"}),
		pod("a", "on-n2", "n2", map[string]string{"app": "web"}),
	)
	f := informer.NewFactory(cs, informer.WithPageSize(1), informer.WithBackoff(5*time.Millisecond, 50*time.Millisecond))
	all := f.Pods()
	if f.Pods() != all || informer.For[*corev1.Pod](f) != all {
		t.Errorf("factory made two informers for the same pods")
	}
	n1 := informer.Filtered[*corev1.Pod](f, informer.Filter{FieldSelector: "spec.nodeName=n1"})
	if n1 == all {
		t.Errorf("factory shared a filtered informer with the unfiltered one")
	}
	if err := all.AddIndexers(informer.Indexers[*corev1.Pod]{"node": func(p *corev1.Pod) []string {
		return []string{p.GetSpec().GetNodeName()}
	}}); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	f.Start(runCtx)
	t.Cleanup(func() { cancel(); f.Shutdown() })
	waitCtx, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	defer cancelWait()
	if !f.WaitForCacheSync(waitCtx) {
		t.Fatal("caches did not sync")
	}

	names := func(ps []*corev1.Pod) []string {
		var out []string
		for _, p := range ps {
			out = append(out, key(p))
		}
		sort.Strings(out)
		return out
	}
	if diff := cmp.Diff([]string{"a/on-n1", "b/also-n1"}, names(n1.Lister().List(nil))); diff != "" {
		t.Errorf("filtered (-want +got):\n%s", diff)
	}
	byNode, err := all.Lister().ByIndex("node", "n2")
	if err != nil || len(byNode) != 1 || key(byNode[0]) != "a/on-n2" {
		t.Errorf("ByIndex(node, n2) = %v, %v", names(byNode), err)
	}
	web := labels.SelectorFromSet(labels.Set{"app": "web"})
	if diff := cmp.Diff([]string{"a/on-n1", "a/on-n2"}, names(all.Lister().List(web))); diff != "" {
		t.Errorf("List(app=web) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"b/also-n1"}, names(all.Lister().ListNamespace("b", nil))); diff != "" {
		t.Errorf("ListNamespace(b) (-want +got):\n%s", diff)
	}
	if _, err := all.Lister().Get("a", "missing"); !client.IsNotFound(err) {
		t.Errorf("Get missing: %v, want NotFound", err)
	}
	if p, err := all.Lister().Get("a", "on-n1"); err != nil || p.GetSpec().GetNodeName() != "n1" {
		t.Errorf("Get: %v %v", p, err)
	}

	// Binding a pod to n1 moves it into the filtered cache and the index.
	if _, err := cs.Pods("c").Create(ctx, pod("c", "pending", "", nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Bind(ctx, "c", "pending", "n1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bound pod in filtered cache", func() bool { _, err := n1.Lister().Get("c", "pending"); return err == nil })
	eventually(t, "index updated", func() bool { ps, _ := all.Lister().ByIndex("node", "n1"); return len(ps) == 3 })
	ps, _ := all.Lister().ByIndex("node", "")
	if len(ps) != 0 {
		t.Errorf("stale index entry: %v", names(ps))
	}

	// An untyped informer of the same resource is a separate cache.
	dyn := informer.ForResource(f, cs.Pods("").Resource(), informer.Filter{Namespace: "a"})
	f.Start(runCtx)
	if !f.WaitForCacheSync(waitCtx) {
		t.Fatal("dynamic cache did not sync")
	}
	if n := len(dyn.Lister().List(nil)); n != 2 {
		t.Errorf("dynamic informer of namespace a holds %d objects, want 2", n)
	}
	// Cached objects are shared; a clone is the caller's.
	p, _ := all.Lister().Get("a", "on-n1")
	cp := proto.Clone(p).(*corev1.Pod)
	cp.Spec.NodeName = "changed"
	if again, _ := all.Lister().Get("a", "on-n1"); again.GetSpec().GetNodeName() != "n1" {
		t.Errorf("clone changed the cache")
	}
}

func TestRelistWhenContinueExpires(t *testing.T) {
	var objs []scheme.Object
	for i := range 5 {
		objs = append(objs, pod("a", fmt.Sprintf("p%d", i), "", nil))
	}
	cs, srv := clienttest.New(t, objs...)
	inf := informer.New[*corev1.Pod](&pagedCompactor{Typed: cs.Pods(""), srv: srv, cs: cs}, opts())
	start(t, inf)
	// The continue token expired after the first page; the informer listed
	// again, unpaged, and holds the object created in between.
	if n := inf.Indexer().Len(); n != 6 {
		t.Errorf("cache holds %d objects, want 6", n)
	}
	cacheEqualsList(t, context.Background(), cs, inf, client.ListOptions{})
}

// pagedCompactor creates an object and compacts the server after the first
// page of the first list, so that list's continue token expires.
type pagedCompactor struct {
	*client.Typed[*corev1.Pod]
	srv  *clienttest.Server
	cs   *client.Clientset
	done bool
}

func (p *pagedCompactor) List(ctx context.Context, o client.ListOptions) (*client.List[*corev1.Pod], error) {
	l, err := p.Typed.List(ctx, o)
	if err == nil && !p.done && l.Continue != "" {
		p.done = true
		if _, err := p.cs.Pods("a").Create(ctx, pod("a", "late", "", nil)); err != nil {
			return nil, err
		}
		p.srv.Compact()
	}
	return l, err
}
