package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/client/clienttest"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// TestRun runs the controller-manager over the in-memory API: it takes the
// lease, reports ready, runs the ReplicaSet controller, and on cancel
// gives the lease up and returns.
func TestRun(t *testing.T) {
	rs := &appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: &appsv1.ReplicaSetSpec{Replicas: ptr.To(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Image: "img"}}}}},
	}
	cs, s := clienttest.New(t, rs)
	o := NewOptions()
	o.Port = -1
	o.BindAddress = "127.0.0.1"
	o.Controllers = []string{"*", "-nodelifecycle"}
	// Generous deadlines: a loaded machine must not lose the lease.
	o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = 15*time.Second, 10*time.Second, 100*time.Millisecond
	cfg, err := o.ConfigFor(cs, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	addr := make(chan net.Addr, 1)
	cfg.HealthReady = func(a net.Addr) { addr <- a }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg.Complete()) }()
	base := "http://" + (<-addr).String()
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/livez"); code != http.StatusOK {
		t.Errorf("/livez = %d %s", code, body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _ := get("/readyz")
		if code == http.StatusOK && len(s.Objects("pods")) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready with 2 pods: /readyz %d, %d pods", code, len(s.Objects("pods")))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The sync that created the pods is counted when it returns, a moment
	// after the pods exist.
	for {
		code, body := get("/metrics")
		if code == http.StatusOK && strings.Contains(body, `controller_syncs_total{controller="replicaset",result="success"}`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics = %d without replicaset syncs:\n%.2000s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if l := s.Object("leases", "kube-system", "controller-manager"); l == nil {
		t.Error("no leader election lease")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
