package ccm

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider/docker"
	"github.com/gantryhq/gantry/test/e2e/framework"
)

const demoManifest = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: demo
          image: gantry/demo:latest
          imagePullPolicy: Never
          ports:
            - {name: http, containerPort: 8080}
          readinessProbe:
            httpGet: {path: /, port: http}
            periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: demo
  namespace: default
spec:
  type: LoadBalancer
  selector: {app: demo}
  ports:
    - {name: http, port: 80, targetPort: http}
`

// env is the test's cluster (test/e2e/framework): the control plane
// here; nodes come with AddNode.
type env struct {
	*framework.Cluster
	t testing.TB
}

func newEnv(t testing.TB) *env {
	t.Helper()
	if setupErr != nil {
		t.Fatalf("setup: %v", setupErr)
	}
	return &env{Cluster: framework.Start(t, framework.Options{BinDir: binDir, Prefix: "ccm"}), t: t}
}

// waitIngress waits for the service's load balancer address.
func (e *env) waitIngress(name string, timeout time.Duration) string {
	e.t.Helper()
	var ip string
	framework.WaitFor(e.t, "service "+name+"'s load balancer address", timeout, func() (bool, string) {
		s, err := e.Client.Services("default").Get(context.Background(), name)
		if err != nil {
			return false, err.Error()
		}
		if ing := s.GetStatus().GetLoadBalancer().GetIngress(); len(ing) > 0 && ing[0].GetIp() != "" {
			ip = ing[0].GetIp()
			return true, ""
		}
		return false, fmt.Sprint(s.GetStatus())
	})
	return ip
}

func backends(cfgListeners []string, ip string) bool {
	for _, b := range cfgListeners {
		if strings.HasPrefix(b, ip+":") {
			return true
		}
	}
	return false
}

func TestLoadBalancerServiceEndToEnd(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	n1 := e.AddNode("")
	e.WaitNodeInitialized(t, n1)

	// The LoadBalancer service gets an address (the 10 s goal is checked by
	// BenchmarkLoadBalancerAddress; this waits longer, not to be flaky on a
	// busy machine).
	created := time.Now()
	e.Apply(t, demoManifest)
	ingressIP := e.waitIngress("demo", 60*time.Second)
	t.Logf("load balancer address %s after %s", ingressIP, time.Since(created).Round(time.Millisecond))

	// HTTP through it reaches the pods.
	pods := map[string]bool{}
	framework.WaitFor(e.t, "HTTP through the load balancer to both pods", 90*time.Second, func() (bool, string) {
		body, err := framework.HTTPGet("http://" + ingressIP + "/")
		if err != nil {
			return false, err.Error()
		}
		for _, line := range strings.Split(body, "\n") {
			if h, ok := strings.CutPrefix(line, "hostname: "); ok {
				pods[h] = true
			}
		}
		return len(pods) >= 2, fmt.Sprint(pods, body)
	})
	t.Logf("pods answering through the load balancer: %v", pods)

	p, err := docker.New(ctx, provider.Config{ClusterName: e.Name, Logger: zap.NewNop()},
		func() docker.Options { o := docker.DefaultOptions(); o.Network = e.Network; return o }())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	svc, err := e.Client.Services("default").Get(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	lbBackends := func() []string {
		cfg, err := p.ReadConfig(ctx, e.Name, svc)
		if err != nil || len(cfg.Listeners) != 1 {
			return nil
		}
		return cfg.Listeners[0].Backends
	}
	if got := lbBackends(); len(got) != 1 || !backends(got, n1.IP) {
		t.Fatalf("load balancer backends %v, want node 1 (%s) only", got, n1.IP)
	}

	// A second node joins the load balancer...
	n2 := e.AddNode("")
	e.WaitNodeInitialized(t, n2)
	framework.WaitFor(e.t, "node 2 in the load balancer", 15*time.Second, func() (bool, string) {
		got := lbBackends()
		return len(got) == 2 && backends(got, n1.IP) && backends(got, n2.IP), fmt.Sprint(got)
	})
	// ...and traffic through node 2's kube-proxy reaches the pods too: ask
	// until both backends have served (round robin).
	for i := range 6 {
		if _, err := framework.HTTPGet("http://" + ingressIP + "/"); err != nil {
			t.Errorf("request %d with two nodes: %v", i, err)
		}
	}

	// Its container goes away: the node turns NotReady, leaves the load
	// balancer, and is deleted.
	e.RemoveNode(n2)
	framework.WaitFor(e.t, "node 2 out of the load balancer", 40*time.Second, func() (bool, string) {
		got := lbBackends()
		return len(got) == 1 && backends(got, n1.IP), fmt.Sprint(got)
	})
	framework.WaitFor(e.t, "node 2 deleted", 30*time.Second, func() (bool, string) {
		_, err := e.Client.Nodes().Get(ctx, n2.Name)
		return client.IsNotFound(err), fmt.Sprint(err)
	})
	if body, err := framework.HTTPGet("http://" + ingressIP + "/"); err != nil {
		t.Errorf("after node 2 left: %v", err)
	} else if !strings.Contains(body, "hostname: demo-") {
		t.Errorf("after node 2 left: body %q", body)
	}

	// Deleting the service removes the load balancer container.
	lbName := "gantry-lb-" + e.Name + "-default-demo"
	if err := e.Client.Services("default").Delete(ctx, "demo", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.WaitFor(e.t, "load balancer container removed", 15*time.Second, func() (bool, string) {
		out, err := exec.Command("docker", "ps", "-aq", "--filter", "name=^/"+lbName+"$").Output()
		return err == nil && len(bytes.TrimSpace(out)) == 0, string(out)
	})
	framework.WaitFor(e.t, "service gone", 10*time.Second, func() (bool, string) {
		_, err := e.Client.Services("default").Get(ctx, "demo")
		return client.IsNotFound(err), fmt.Sprint(err)
	})
}
