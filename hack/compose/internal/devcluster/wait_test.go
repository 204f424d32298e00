package devcluster

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/config"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// TestAgainstAPIServer runs what make up does against a real apiserver: the
// admin.conf merged into a user's config as "dev" must dial it over TLS, and
// the waits must see nodes, a Deployment and a load balancer become ready.
func TestAgainstAPIServer(t *testing.T) {
	srv := apiservertest.Start(t, apiservertest.Options{})
	admin, err := config.Load(srv.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	// The user's config already has another context, which must survive.
	userPath := filepath.Join(t.TempDir(), ".gantry", "config")
	prod := config.NewFile("prod", config.Cluster{Server: "https://prod.example:6443"}, config.User{Token: "t"}, "web")
	if err := config.Write(userPath, prod); err != nil {
		t.Fatal(err)
	}
	into, err := config.Load(userPath)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := MergeContext(into, admin, "dev", admin.Clusters[0].Cluster.Server, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := config.Write(userPath, merged); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Open(userPath, "prod"); err != nil {
		t.Errorf("prod context lost: %v", err)
	}
	cfg, err := config.Open(userPath, "") // current: dev
	if err != nil {
		t.Fatal(err)
	}
	cs, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now().Add(-time.Second).Truncate(time.Second)

	// Nodes: one Ready with a heartbeat from before start (a kubelet that was
	// stopped) does not count until it reports again.
	mkNode := func(name string, heartbeat time.Time) {
		n, err := cs.Nodes().Create(ctx, &corev1.Node{Metadata: &metav1.ObjectMeta{Name: name}})
		if err != nil {
			t.Fatal(err)
		}
		n.Status = &corev1.NodeStatus{Conditions: []*corev1.NodeCondition{{
			Type: "Ready", Status: "True", LastHeartbeatTime: timestamppb.New(heartbeat),
		}}}
		if _, err := cs.Nodes().UpdateStatus(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	mkNode("gantry-node-1", time.Now())
	mkNode("gantry-node-2", start.Add(-time.Hour))

	short, cancelShort := context.WithTimeout(ctx, 1500*time.Millisecond)
	var heard []string
	_, err = WaitNodes(short, cs, 2, start, 100*time.Millisecond, func(s string) { heard = append(heard, s) })
	cancelShort()
	if err == nil {
		t.Fatal("WaitNodes counted a node whose last heartbeat is from before the start")
	}
	if len(heard) == 0 || !strings.Contains(heard[len(heard)-1], "not ready: gantry-node-2") {
		t.Errorf("progress = %q, want it to name gantry-node-2 as not ready", heard)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		n, err := cs.Nodes().Get(ctx, "gantry-node-2")
		if err != nil {
			t.Error(err)
			return
		}
		n.Status.Conditions[0].LastHeartbeatTime = timestamppb.Now()
		if _, err := cs.Nodes().UpdateStatus(ctx, n); err != nil {
			t.Error(err)
		}
	}()
	ready, err := WaitNodes(ctx, cs, 2, start, 100*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"gantry-node-1", "gantry-node-2"}, ready); diff != "" {
		t.Errorf("ready nodes (-want +got):\n%s", diff)
	}

	// A Deployment becomes available when its status says so.
	three := int32(3)
	d, err := cs.Deployments("default").Create(ctx, &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Name: "demo"},
		Spec: &appsv1.DeploymentSpec{
			Replicas: &three,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "demo"}},
			Template: &corev1.PodTemplateSpec{
				Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "demo"}},
				Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "demo", Image: "gantry/demo:latest"}}},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		d.Status = &appsv1.DeploymentStatus{ObservedGeneration: d.GetMetadata().GetGeneration(), Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}
		if _, err := cs.Deployments("default").UpdateStatus(ctx, d); err != nil {
			t.Error(err)
		}
	}()
	if err := WaitDeployment(ctx, cs, "default", "demo", 100*time.Millisecond, nil); err != nil {
		t.Fatal(err)
	}

	// A LoadBalancer Service's address appears in its status.
	svc, err := cs.Services("default").Create(ctx, &corev1.Service{
		Metadata: &metav1.ObjectMeta{Name: "demo"},
		Spec: &corev1.ServiceSpec{
			Type:     "LoadBalancer",
			Selector: map[string]string{"app": "demo"},
			Ports:    []*corev1.ServicePort{{Name: "http", Port: 80}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		svc.Status = &corev1.ServiceStatus{LoadBalancer: &corev1.LoadBalancerStatus{Ingress: []*corev1.LoadBalancerIngress{{Ip: "10.244.128.9"}}}}
		if _, err := cs.Services("default").UpdateStatus(ctx, svc); err != nil {
			t.Error(err)
		}
	}()
	addrs, err := WaitLoadBalancer(ctx, cs, "default", "demo", 100*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"10.244.128.9:80"}, addrs); diff != "" {
		t.Errorf("load balancer addresses (-want +got):\n%s", diff)
	}
}
