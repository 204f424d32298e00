package apiserver

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
	"github.com/gantryhq/gantry/test/integration/framework"
)

func ptr[T any](v T) *T { return &v }

func meta(name string) *metav1.ObjectMeta {
	return &metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "web"}}
}

func podTemplate() *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "web", Image: "gantry/demo:latest"}}},
	}
}

// kindCase is one kind's CRUD scenario: a valid object and a spec change.
type kindCase struct {
	obj    func() scheme.Object
	mutate func(scheme.Object)
}

func kindCases() map[string]kindCase {
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	return map[string]kindCase{
		"namespaces": {
			obj:    func() scheme.Object { return &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "team-a"}} },
			mutate: func(o scheme.Object) { o.GetMetadata().Labels = map[string]string{"team": "a"} },
		},
		"pods": {
			obj: func() scheme.Object {
				return &corev1.Pod{Metadata: meta("web-1"), Spec: podTemplate().Spec}
			},
			mutate: func(o scheme.Object) { o.(*corev1.Pod).Spec.Containers[0].Image = "gantry/demo:v2" },
		},
		"nodes": {
			obj: func() scheme.Object {
				return &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "node-1"}}
			},
			mutate: func(o scheme.Object) { o.(*corev1.Node).Spec = &corev1.NodeSpec{Unschedulable: true} },
		},
		"services": {
			obj: func() scheme.Object {
				return &corev1.Service{Metadata: meta("web"), Spec: &corev1.ServiceSpec{
					Selector: map[string]string{"app": "web"},
					Ports:    []*corev1.ServicePort{{Port: 80, TargetPort: &metav1.IntOrString{Value: &metav1.IntOrString_StrVal{StrVal: "http"}}}},
				}}
			},
			mutate: func(o scheme.Object) { o.(*corev1.Service).Spec.Ports[0].Port = 8080 },
		},
		"endpoints": {
			obj: func() scheme.Object {
				return &corev1.Endpoints{Metadata: meta("web"), Subsets: []*corev1.EndpointSubset{{
					Addresses: []*corev1.EndpointAddress{{Ip: "10.0.0.1"}},
					Ports:     []*corev1.EndpointPort{{Port: 8080}},
				}}}
			},
			mutate: func(o scheme.Object) {
				o.(*corev1.Endpoints).Subsets[0].Addresses = append(o.(*corev1.Endpoints).Subsets[0].Addresses, &corev1.EndpointAddress{Ip: "10.0.0.2"})
			},
		},
		"events": {
			obj: func() scheme.Object {
				return &corev1.Event{Metadata: meta("web-1.abc"), InvolvedObject: &corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web-1"},
					Reason: "Scheduled", Message: "Successfully assigned default/web-1 to node-1", Type: "Normal"}
			},
			mutate: func(o scheme.Object) { o.(*corev1.Event).Count = 2 },
		},
		"replicasets": {
			obj: func() scheme.Object {
				return &appsv1.ReplicaSet{Metadata: meta("web"), Spec: &appsv1.ReplicaSetSpec{Replicas: ptr(int32(2)), Selector: selector, Template: podTemplate()}}
			},
			mutate: func(o scheme.Object) { o.(*appsv1.ReplicaSet).Spec.Replicas = ptr(int32(3)) },
		},
		"deployments": {
			obj: func() scheme.Object {
				return &appsv1.Deployment{Metadata: meta("web"), Spec: &appsv1.DeploymentSpec{Replicas: ptr(int32(2)), Selector: selector, Template: podTemplate()}}
			},
			mutate: func(o scheme.Object) { o.(*appsv1.Deployment).Spec.Replicas = ptr(int32(5)) },
		},
		"jobs": {
			obj: func() scheme.Object {
				t := podTemplate()
				t.Spec.RestartPolicy = "Never"
				return &batchv1.Job{Metadata: meta("pi"), Spec: &batchv1.JobSpec{Template: t}}
			},
			mutate: func(o scheme.Object) { o.(*batchv1.Job).Spec.Parallelism = ptr(int32(2)) },
		},
		"cronjobs": {
			obj: func() scheme.Object {
				t := podTemplate()
				t.Spec.RestartPolicy = "OnFailure"
				return &batchv1.CronJob{Metadata: meta("hello"), Spec: &batchv1.CronJobSpec{Schedule: "* * * * *",
					JobTemplate: &batchv1.JobTemplateSpec{Spec: &batchv1.JobSpec{Template: t}}}}
			},
			mutate: func(o scheme.Object) { o.(*batchv1.CronJob).Spec.Schedule = "*/5 * * * *" },
		},
		"leases": {
			obj: func() scheme.Object {
				return &coordinationv1.Lease{Metadata: meta("node-1"), Spec: &coordinationv1.LeaseSpec{HolderIdentity: ptr("node-1"), LeaseDurationSeconds: ptr(int32(40))}}
			},
			mutate: func(o scheme.Object) { o.(*coordinationv1.Lease).Spec.HolderIdentity = ptr("node-2") },
		},
	}
}

func TestCRUDEveryKind(t *testing.T) {
	s := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, s)
	ctx := context.Background()
	cases := kindCases()
	for _, res := range scheme.All() {
		tc, ok := cases[res.Name]
		if !ok {
			t.Errorf("no CRUD case for %s", res.Name)
			continue
		}
		t.Run(res.Name, func(t *testing.T) {
			ns := ""
			if res.Namespaced {
				ns = "default"
			}
			c := cs.Resource(res, ns)
			obj := tc.obj()
			name := obj.GetMetadata().GetName()

			created, err := c.Create(ctx, obj)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			m := created.GetMetadata()
			if m.Uid == "" || m.ResourceVersion == "" || m.CreationTimestamp == nil || m.Generation != 1 {
				t.Fatalf("create did not set uid/resourceVersion/creationTimestamp/generation: %v", m)
			}
			if _, err := c.Create(ctx, tc.obj()); !client.IsAlreadyExists(err) {
				t.Fatalf("second create: want AlreadyExists, got %v", err)
			}

			got, err := c.Get(ctx, name)
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			if !proto.Equal(got, created) {
				t.Fatalf("get returned %v, want what create returned %v", got, created)
			}

			list, err := c.List(ctx, client.ListOptions{FieldSelector: "metadata.name=" + name})
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			if len(list.Items) != 1 || !proto.Equal(list.Items[0], created) {
				t.Fatalf("list by name returned %d items, want the created object", len(list.Items))
			}

			changed := proto.Clone(got).(scheme.Object)
			tc.mutate(changed)
			updated, err := c.Update(ctx, changed)
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if updated.GetMetadata().ResourceVersion == m.ResourceVersion {
				t.Fatalf("update kept resourceVersion %s", m.ResourceVersion)
			}
			// A write carrying the old resourceVersion is stale.
			stale := proto.Clone(got).(scheme.Object)
			tc.mutate(stale)
			stale.GetMetadata().Annotations = map[string]string{"stale": "true"}
			if _, err := c.Update(ctx, stale); !client.IsConflict(err) {
				t.Fatalf("stale update: want Aborted, got %v", err)
			}

			if err := c.Delete(ctx, name, client.DeleteOptions{}); err != nil {
				t.Fatalf("delete: %v", err)
			}
			if res.Name == "namespaces" {
				// Held by spec.finalizers until the namespace controller
				// empties it; it is Terminating meanwhile.
				got, err := c.Get(ctx, name)
				if err != nil || got.GetMetadata().DeletionTimestamp == nil {
					t.Fatalf("deleted namespace: want terminating, got %v, %v", got, err)
				}
				return
			}
			if _, err := c.Get(ctx, name); !client.IsNotFound(err) {
				t.Fatalf("get after delete: want NotFound, got %v", err)
			}
		})
	}
}

func TestGenerationAndStatus(t *testing.T) {
	s := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, s)
	ctx := context.Background()
	d := kindCases()["deployments"].obj().(*appsv1.Deployment)
	d, err := cs.Deployments("default").Create(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	// Update never changes status.
	d.Status = &appsv1.DeploymentStatus{Replicas: 7}
	d.Metadata.Labels["x"] = "y"
	d, err = cs.Deployments("default").Update(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if d.GetStatus().GetReplicas() != 0 || d.Metadata.Generation != 1 {
		t.Fatalf("metadata-only update: status %v generation %d; want status untouched and generation 1", d.Status, d.Metadata.Generation)
	}
	// A spec change bumps generation.
	d.Spec.Replicas = ptr(int32(4))
	d, err = cs.Deployments("default").Update(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if d.Metadata.Generation != 2 {
		t.Fatalf("spec change: generation %d, want 2", d.Metadata.Generation)
	}
	// UpdateStatus never changes spec.
	d.Spec.Replicas = ptr(int32(9))
	d.Status = &appsv1.DeploymentStatus{Replicas: 4, ObservedGeneration: 2}
	d, err = cs.Deployments("default").UpdateStatus(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if d.Spec.GetReplicas() != 4 || d.Status.GetReplicas() != 4 || d.Metadata.Generation != 2 {
		t.Fatalf("status update: spec.replicas %d status.replicas %d generation %d; want 4 4 2",
			d.Spec.GetReplicas(), d.Status.GetReplicas(), d.Metadata.Generation)
	}
}

// TestConcurrentIncrements: 50 writers × 20 read-modify-write increments of
// one counter end at exactly 1000; every lost race is told Aborted.
func TestConcurrentIncrements(t *testing.T) {
	s := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, s)
	ctx := context.Background()
	leases := cs.Leases("default")
	if _, err := leases.Create(ctx, &coordinationv1.Lease{Metadata: &metav1.ObjectMeta{Name: "counter"},
		Spec: &coordinationv1.LeaseSpec{LeaseTransitions: ptr(int32(0))}}); err != nil {
		t.Fatal(err)
	}
	const writers, each = 50, 20
	var conflicts atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; {
				l, err := leases.Get(ctx, "counter")
				if err != nil {
					errs <- err
					return
				}
				l.Spec.LeaseTransitions = ptr(l.Spec.GetLeaseTransitions() + 1)
				if _, err := leases.Update(ctx, l); err != nil {
					if client.IsConflict(err) {
						conflicts.Add(1)
						continue
					}
					errs <- fmt.Errorf("update: %w", err)
					return
				}
				i++
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	l, err := leases.Get(ctx, "counter")
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Spec.GetLeaseTransitions(); got != writers*each {
		t.Fatalf("counter = %d, want %d", got, writers*each)
	}
	t.Logf("%d increments, %d conflicts (all Aborted)", writers*each, conflicts.Load())
}

// TestWatchBurst: a watcher sees all 1,000 writes of a burst, in order,
// none missing or repeated; a watch resumed from the middle sees the rest.
func TestWatchBurst(t *testing.T) {
	s := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	leases := cs.Leases("default")
	list, err := leases.List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := leases.Watch(ctx, client.WatchOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	const n = 1000
	var written []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < 10; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/10; i++ {
				l, err := leases.Create(ctx, &coordinationv1.Lease{Metadata: &metav1.ObjectMeta{Name: fmt.Sprintf("l-%d-%d", g, i)}})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				written = append(written, l.Metadata.ResourceVersion)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	var seen []string
	last := int64(0)
	for len(seen) < n {
		ev, err := w.Next()
		if err != nil {
			t.Fatalf("after %d events: %v", len(seen), err)
		}
		if ev.Type != client.Added {
			t.Fatalf("event %d: type %s, want ADDED", len(seen), ev.Type)
		}
		rv := parseRV(t, ev.ResourceVersion)
		if rv <= last {
			t.Fatalf("event %d: resourceVersion %d not after %d", len(seen), rv, last)
		}
		last = rv
		seen = append(seen, ev.ResourceVersion)
	}
	want := map[string]bool{}
	for _, rv := range written {
		want[rv] = true
	}
	for _, rv := range seen {
		if !want[rv] {
			t.Fatalf("watch saw resourceVersion %s that no create returned", rv)
		}
		delete(want, rv)
	}
	if len(want) != 0 {
		t.Fatalf("watch missed %d writes", len(want))
	}

	// Resume from the 500th event: exactly the later 500 arrive.
	w2, err := leases.Watch(ctx, client.WatchOptions{ResourceVersion: seen[499]})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	for i := 500; i < n; i++ {
		ev, err := w2.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.ResourceVersion != seen[i] {
			t.Fatalf("resumed watch event %d: resourceVersion %s, want %s", i, ev.ResourceVersion, seen[i])
		}
	}
}

func parseRV(t *testing.T, rv string) int64 {
	t.Helper()
	var v int64
	if _, err := fmt.Sscan(rv, &v); err != nil {
		t.Fatalf("resourceVersion %q: %v", rv, err)
	}
	return v
}
