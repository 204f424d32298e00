package workqueue_test

import (
	"testing"
	"time"

	"github.com/gantryhq/gantry/client/workqueue"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func TestKeys(t *testing.T) {
	tests := []struct {
		obj      workqueue.Object
		key      string
		ns, name string
	}{
		{&corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web"}}, "default/web", "default", "web"},
		{&corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n1"}}, "n1", "", "n1"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			key := workqueue.KeyOf(tc.obj)
			if key != tc.key {
				t.Fatalf("KeyOf = %q, want %q", key, tc.key)
			}
			ns, name, err := workqueue.SplitKey(key)
			if err != nil || ns != tc.ns || name != tc.name {
				t.Errorf("SplitKey(%q) = %q, %q, %v", key, ns, name, err)
			}
		})
	}
	for _, bad := range []string{"", "a/b/c", "/x", "x/"} {
		if _, _, err := workqueue.SplitKey(bad); err == nil {
			t.Errorf("SplitKey(%q): no error", bad)
		}
	}
}

func TestQueueCollapsesAndBacksOff(t *testing.T) {
	q := workqueue.New("test")
	defer q.ShutDown()
	q.Add("a")
	q.Add("a")
	q.Add("b")
	if q.Len() != 2 {
		t.Fatalf("Len = %d, want 2 (duplicates collapse)", q.Len())
	}
	k, _ := q.Get()
	// While "a" is being processed, adding it again does not hand it out.
	q.Add(k)
	k2, _ := q.Get()
	if k2 == k {
		t.Fatalf("key %q handed out twice at once", k)
	}
	q.Done(k2)
	q.Done(k) // now k is queued again
	if got, _ := q.Get(); got != k {
		t.Fatalf("got %q, want %q again", got, k)
	}
	q.Done(k)

	rl := workqueue.DefaultRateLimiter[string]()
	want := []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}
	for i, w := range want {
		if d := rl.When("x"); d != w {
			t.Errorf("failure %d: delay %v, want %v", i+1, d, w)
		}
	}
	rl.Forget("x")
	if d := rl.When("x"); d != 5*time.Millisecond {
		t.Errorf("after Forget: delay %v", d)
	}
}
