package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/clienttest"
	"github.com/gantryhq/gantry/client/scheme"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func pod(ns, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Image: "busybox"}}},
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestCRUD(t *testing.T) {
	ctx := ctxT(t)
	cs, srv := clienttest.New(t)
	pods := cs.Pods("default")

	in := pod("", "web", map[string]string{"app": "web"})
	created, err := pods.Create(ctx, in)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if in.GetMetadata().GetNamespace() != "" {
		t.Errorf("Create changed its argument")
	}
	m := created.GetMetadata()
	if m.GetNamespace() != "default" || m.GetUid() == "" || m.GetResourceVersion() == "" || m.GetCreationTimestamp() == nil || m.GetGeneration() != 1 {
		t.Errorf("Create: server fields not set: %v", m)
	}
	if _, err := pods.Create(ctx, in); !client.IsAlreadyExists(err) {
		t.Errorf("second Create: got %v, want AlreadyExists", err)
	}

	got, err := pods.Get(ctx, "web")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff(created, got, protocmp.Transform()); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}

	// Update with the current resourceVersion succeeds; a stale one conflicts.
	upd := proto.Clone(got).(*corev1.Pod)
	upd.Spec.RestartPolicy = "Never"
	upd.Status = &corev1.PodStatus{Phase: "Running"} // ignored by Update
	updated, err := pods.Update(ctx, upd)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if updated.GetSpec().GetRestartPolicy() != "Never" || updated.GetStatus() != nil || updated.GetMetadata().GetGeneration() != 2 {
		t.Errorf("Update: got spec %v status %v generation %d", updated.GetSpec(), updated.GetStatus(), updated.GetMetadata().GetGeneration())
	}
	if _, err := pods.Update(ctx, upd); !client.IsConflict(err) {
		t.Errorf("stale Update: got %v, want conflict", err)
	}

	// UpdateStatus changes only the status.
	st := proto.Clone(updated).(*corev1.Pod)
	st.Status = &corev1.PodStatus{Phase: "Running"}
	st.Spec.RestartPolicy = "Always" // ignored by UpdateStatus
	stored, err := pods.UpdateStatus(ctx, st)
	if err != nil {
		t.Fatalf("UpdateStatus: %v", err)
	}
	if stored.GetStatus().GetPhase() != "Running" || stored.GetSpec().GetRestartPolicy() != "Never" || stored.GetMetadata().GetGeneration() != 2 {
		t.Errorf("UpdateStatus: got %v", stored)
	}

	// Delete with a stale precondition fails; then succeeds.
	err = pods.Delete(ctx, "web", client.DeleteOptions{Preconditions: &client.Preconditions{ResourceVersion: updated.GetMetadata().GetResourceVersion()}})
	if !client.IsConflict(err) {
		t.Errorf("Delete with stale precondition: got %v, want conflict", err)
	}
	obj, deleted, err := pods.DeleteObject(ctx, "web", client.DeleteOptions{})
	if err != nil || !deleted || obj.GetMetadata().GetName() != "web" {
		t.Fatalf("DeleteObject: %v %v %v", obj, deleted, err)
	}
	if _, err := pods.Get(ctx, "web"); !client.IsNotFound(err) {
		t.Errorf("Get after Delete: got %v, want NotFound", err)
	}
	if err := pods.Delete(ctx, "web", client.DeleteOptions{}); !client.IsNotFound(err) {
		t.Errorf("second Delete: got %v, want NotFound", err)
	}

	var verbs []string
	for _, a := range srv.Actions() {
		verbs = append(verbs, a.Verb)
	}
	want := []string{"create", "create", "get", "update", "update", "updatestatus", "delete", "delete", "get", "delete"}
	if diff := cmp.Diff(want, verbs); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
}

func TestNamespaceMismatchAndMissing(t *testing.T) {
	ctx := ctxT(t)
	cs, _ := clienttest.New(t)
	if _, err := cs.Pods("a").Create(ctx, pod("b", "x", nil)); !client.IsBadRequest(err) {
		t.Errorf("Create in other namespace: got %v, want bad request", err)
	}
	if _, err := cs.Pods("").Get(ctx, "x"); !client.IsBadRequest(err) {
		t.Errorf("Get without namespace: got %v, want bad request", err)
	}
	// Cluster-scoped kinds ignore the namespace.
	if _, err := cs.Nodes().Create(ctx, &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n1"}}); err != nil {
		t.Fatalf("create node: %v", err)
	}
	if _, err := cs.Nodes().Get(ctx, "n1"); err != nil {
		t.Errorf("get node: %v", err)
	}
}

func TestListSelectorsAndPaging(t *testing.T) {
	ctx := ctxT(t)
	var objs []scheme.Object
	for i := range 7 {
		p := pod("ns1", fmt.Sprintf("p%d", i), map[string]string{"parity": []string{"even", "odd"}[i%2]})
		if i < 3 {
			p.Spec.NodeName = "n1"
		}
		objs = append(objs, p)
	}
	objs = append(objs, pod("ns2", "other", map[string]string{"parity": "even"}))
	cs, srv := clienttest.New(t, objs...)

	names := func(l *client.List[*corev1.Pod]) []string {
		var out []string
		for _, p := range l.Items {
			out = append(out, p.GetMetadata().GetNamespace()+"/"+p.GetMetadata().GetName())
		}
		return out
	}
	tests := []struct {
		name string
		ns   string
		opts client.ListOptions
		want []string
	}{
		{"all namespaces", "", client.ListOptions{LabelSelector: "parity=even"}, []string{"ns1/p0", "ns1/p2", "ns1/p4", "ns1/p6", "ns2/other"}},
		{"one namespace", "ns1", client.ListOptions{LabelSelector: "parity in (odd)"}, []string{"ns1/p1", "ns1/p3", "ns1/p5"}},
		{"field selector", "ns1", client.ListOptions{FieldSelector: "spec.nodeName=n1"}, []string{"ns1/p0", "ns1/p1", "ns1/p2"}},
		{"both", "ns1", client.ListOptions{FieldSelector: "spec.nodeName!=n1", LabelSelector: "parity=odd"}, []string{"ns1/p3", "ns1/p5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := cs.Pods(tc.ns).List(ctx, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, names(l)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	if _, err := cs.Pods("").List(ctx, client.ListOptions{FieldSelector: "spec.nope=1"}); !client.IsBadRequest(err) {
		t.Errorf("unknown field: got %v, want bad request", err)
	}

	// Pages are read at the revision of the first page, even when objects
	// change in between.
	first, err := cs.Pods("ns1").List(ctx, client.ListOptions{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if first.Continue == "" || len(first.Items) != 3 || first.RemainingItemCount != 4 {
		t.Fatalf("first page: %v items, continue %q, remaining %d", len(first.Items), first.Continue, first.RemainingItemCount)
	}
	if err := cs.Pods("ns1").Delete(ctx, "p5", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Pods("ns1").Create(ctx, pod("ns1", "p9", nil)); err != nil {
		t.Fatal(err)
	}
	all := first
	for all.Continue != "" {
		page, err := cs.Pods("ns1").List(ctx, client.ListOptions{Limit: 3, Continue: all.Continue})
		if err != nil {
			t.Fatal(err)
		}
		if page.ResourceVersion != first.ResourceVersion {
			t.Errorf("page at %s, want %s", page.ResourceVersion, first.ResourceVersion)
		}
		all.Items = append(all.Items, page.Items...)
		all.Continue = page.Continue
	}
	want := []string{"ns1/p0", "ns1/p1", "ns1/p2", "ns1/p3", "ns1/p4", "ns1/p5", "ns1/p6"}
	if diff := cmp.Diff(want, names(all)); diff != "" {
		t.Errorf("paged list (-want +got):\n%s", diff)
	}

	// After compaction the continue token is gone; ListAll falls back to one
	// unpaged list.
	first, err = cs.Pods("ns1").List(ctx, client.ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Pods("ns1").Create(ctx, pod("ns1", "p10", nil)); err != nil {
		t.Fatal(err)
	}
	srv.Compact()
	if _, err := cs.Pods("ns1").List(ctx, client.ListOptions{Limit: 2, Continue: first.Continue}); !client.IsGone(err) {
		t.Errorf("continue after compaction: got %v, want gone", err)
	}
	full, err := cs.Pods("ns1").ListAll(ctx, client.ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Items) != 8 {
		t.Errorf("ListAll: %d items, want 8: %v", len(full.Items), names(full))
	}
}

func TestWatch(t *testing.T) {
	ctx := ctxT(t)
	cs, srv := clienttest.New(t, pod("default", "a", map[string]string{"app": "web"}))
	pods := cs.Pods("default")

	w, err := pods.Watch(ctx, client.WatchOptions{LabelSelector: "app=web", AllowBookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	type ev struct{ Type, Name string }
	next := func() ev {
		t.Helper()
		e, err := w.Next()
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if e.Type == client.Bookmark {
			return ev{string(e.Type), e.ResourceVersion}
		}
		if e.ResourceVersion != e.Object.GetMetadata().GetResourceVersion() {
			t.Errorf("event rv %s, object rv %s", e.ResourceVersion, e.Object.GetMetadata().GetResourceVersion())
		}
		return ev{string(e.Type), e.Object.GetMetadata().GetName()}
	}
	if got := next(); got != (ev{"ADDED", "a"}) {
		t.Errorf("initial: %v", got)
	}

	b, _ := pods.Create(ctx, pod("", "b", map[string]string{"app": "db"}))
	if _, err := pods.Create(ctx, pod("", "c", map[string]string{"app": "web"})); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != (ev{"ADDED", "c"}) {
		t.Errorf("create c: %v", got)
	}
	// b starts matching: ADDED; then stops: DELETED.
	b.Metadata.Labels["app"] = "web"
	b, err = pods.Update(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if got := next(); got != (ev{"ADDED", "b"}) {
		t.Errorf("b matches: %v", got)
	}
	b.Metadata.Labels["app"] = "db"
	if _, err := pods.Update(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != (ev{"DELETED", "b"}) {
		t.Errorf("b stops matching: %v", got)
	}
	if err := pods.Delete(ctx, "a", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != (ev{"DELETED", "a"}) {
		t.Errorf("delete a: %v", got)
	}
	srv.Bookmark()
	if got := next(); got != (ev{"BOOKMARK", fmt.Sprint(srv.Revision())}) {
		t.Errorf("bookmark: %v", got)
	}

	// A watch from a revision replays what came after it.
	w2, err := pods.Watch(ctx, client.WatchOptions{ResourceVersion: b.GetMetadata().GetResourceVersion()})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	var got []ev
	for range 2 {
		e, err := w2.Next()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev{string(e.Type), e.Object.GetMetadata().GetName()})
	}
	if diff := cmp.Diff([]ev{{"MODIFIED", "b"}, {"DELETED", "a"}}, got); diff != "" {
		t.Errorf("replay (-want +got):\n%s", diff)
	}

	// Compaction ends a watch that is behind, and refuses old revisions.
	srv.Compact()
	if _, err := pods.Create(ctx, pod("", "d", nil)); err != nil {
		t.Fatal(err)
	}
	w3, err := pods.Watch(ctx, client.WatchOptions{ResourceVersion: "2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w3.Next(); !client.IsGone(err) {
		t.Errorf("watch from compacted revision: got %v, want gone", err)
	}

	// Breaking the stream ends Next with Unavailable; Stop ends it with the
	// context's error.
	srv.BreakWatches()
	for {
		_, err := w2.Next()
		if err != nil {
			if status.Code(err) != codes.Unavailable {
				t.Errorf("broken watch: got %v, want Unavailable", err)
			}
			break
		}
	}
	w4, err := pods.Watch(ctx, client.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w4.Stop()
	for {
		if _, err = w4.Next(); err != nil {
			break
		}
	}
	if !errors.Is(err, context.Canceled) && !errors.Is(err, io.EOF) {
		t.Errorf("Next after Stop: got %v, want context.Canceled", err)
	}
}

func TestDeleteFinalizersAndGracefulPods(t *testing.T) {
	ctx := ctxT(t)
	fin := pod("default", "fin", nil)
	fin.Metadata.Finalizers = []string{"example.com/hold"}
	bound := pod("default", "bound", nil)
	bound.Spec.NodeName = "n1"
	cs, _ := clienttest.New(t, fin, bound)
	pods := cs.Pods("default")

	obj, deleted, err := pods.DeleteObject(ctx, "fin", client.DeleteOptions{})
	if err != nil || deleted || obj.GetMetadata().GetDeletionTimestamp() == nil {
		t.Fatalf("delete with finalizer: deleted=%v err=%v obj=%v", deleted, err, obj)
	}
	obj.Metadata.Finalizers = nil
	if _, err := pods.Update(ctx, obj); err != nil {
		t.Fatalf("remove finalizer: %v", err)
	}
	if _, err := pods.Get(ctx, "fin"); !client.IsNotFound(err) {
		t.Errorf("after last finalizer: got %v, want NotFound", err)
	}

	obj, deleted, err = pods.DeleteObject(ctx, "bound", client.DeleteOptions{})
	if err != nil || deleted || obj.GetMetadata().GetDeletionGracePeriodSeconds() != 30 {
		t.Fatalf("graceful delete: deleted=%v err=%v obj=%v", deleted, err, obj.GetMetadata())
	}
	_, deleted, err = pods.DeleteObject(ctx, "bound", client.DeleteOptions{GracePeriodSeconds: proto.Int64(0)})
	if err != nil || !deleted {
		t.Fatalf("delete with grace 0: deleted=%v err=%v", deleted, err)
	}
}

func TestBind(t *testing.T) {
	ctx := ctxT(t)
	cs, srv := clienttest.New(t, pod("default", "p", nil))
	p, err := cs.Pods("default").Get(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	stale := proto.Clone(p).(*corev1.Pod)
	stale.Metadata.Uid = "other"
	if _, err := cs.BindPod(ctx, stale, "n1"); !client.IsConflict(err) {
		t.Errorf("bind with wrong uid: got %v, want conflict", err)
	}
	bound, err := cs.BindPod(ctx, p, "n1")
	if err != nil {
		t.Fatal(err)
	}
	if bound.GetSpec().GetNodeName() != "n1" {
		t.Errorf("bound to %q", bound.GetSpec().GetNodeName())
	}
	if _, err := cs.Bind(ctx, "default", "p", "n2"); !client.IsFailedPrecondition(err) {
		t.Errorf("second bind: got %v, want failed precondition", err)
	}
	if _, err := cs.Bind(ctx, "default", "missing", "n2"); !client.IsNotFound(err) {
		t.Errorf("bind missing: got %v, want not found", err)
	}
	if a := srv.Actions(); a[len(a)-1].Verb != "bind" || a[len(a)-1].NodeName != "n2" {
		t.Errorf("last action %+v", a[len(a)-1])
	}
}

func TestDynamic(t *testing.T) {
	ctx := ctxT(t)
	cs, _ := clienttest.New(t, pod("default", "p", nil))
	res, err := scheme.Lookup("po")
	if err != nil {
		t.Fatal(err)
	}
	dyn := cs.Resource(res, "default")
	l, err := dyn.List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 1 {
		t.Fatalf("%d items", len(l.Items))
	}
	if _, ok := l.Items[0].(*corev1.Pod); !ok {
		t.Errorf("item is %T", l.Items[0])
	}
	if _, err := dyn.Create(ctx, &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n"}}); !client.IsBadRequest(err) {
		t.Errorf("create of wrong kind: got %v, want bad request", err)
	}
	created, err := dyn.Create(ctx, pod("", "q", nil))
	if err != nil || created.GetMetadata().GetNamespace() != "default" {
		t.Errorf("create: %v %v", created, err)
	}
}

func TestTokenAndReactor(t *testing.T) {
	ctx := ctxT(t)
	srv := clienttest.NewServer()
	srv.Serve(t)
	cs := srv.Clientset(t, "s3cret")
	srv.AddReactor(func(a clienttest.Action) error {
		if a.Verb == "get" && a.Name == "boom" {
			return status.Error(codes.Unavailable, "injected")
		}
		return nil
	})
	if _, err := cs.Pods("default").Get(ctx, "boom"); !client.IsUnavailable(err) {
		t.Errorf("got %v, want Unavailable", err)
	}
	if tok := srv.Actions()[0].Token; tok != "s3cret" {
		t.Errorf("token %q", tok)
	}
}

func TestRetryOnConflict(t *testing.T) {
	ctx := ctxT(t)
	calls := 0
	err := client.RetryOnConflict(ctx, func() error {
		calls++
		if calls < 3 {
			return status.Error(codes.Aborted, "conflict")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Errorf("got %v after %d calls", err, calls)
	}
	calls = 0
	err = client.RetryOnConflict(ctx, func() error { calls++; return status.Error(codes.Aborted, "conflict") })
	if !client.IsConflict(err) || calls != 5 {
		t.Errorf("got %v after %d calls, want conflict after 5", err, calls)
	}
	wrapped := fmt.Errorf("sync: %w", status.Error(codes.NotFound, "x"))
	if !client.IsNotFound(wrapped) {
		t.Errorf("IsNotFound does not see through wrapping")
	}
}
