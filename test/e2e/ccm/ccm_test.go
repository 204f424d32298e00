package ccm

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/codec"
	"github.com/gantryhq/gantry/client/config"
	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider/docker"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"github.com/gantryhq/gantry/test/integration/framework"
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

// proc is one daemon the test started.
type proc struct {
	name   string
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

type env struct {
	t       testing.TB
	id      string
	dir     string
	api     *apiservertest.Server
	cs      *client.Clientset
	network string
	gateway string
	subnet  string
	relay   string // kubeconfig through the relay, for node namespaces
	cluster string

	mu    sync.Mutex
	procs []*proc
	nodes map[string]*nodeEnv
}

type nodeEnv struct {
	name      string
	ip        string
	kubelet   *proc
	kubeProxy *proc
}

func randSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func sh(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func newEnv(t testing.TB) *env {
	t.Helper()
	if setupErr != nil {
		t.Fatalf("setup: %v", setupErr)
	}
	api := framework.StartAPIServer(t, apiservertest.Options{})
	e := &env{t: t, id: randSuffix(), dir: t.TempDir(), api: api, cs: framework.Client(t, api), nodes: map[string]*nodeEnv{}}
	e.network = "gantry-e2e-ccm-" + e.id
	e.cluster = "e2e-" + e.id
	t.Cleanup(e.cleanup)

	sh(t, "docker", "network", "create", "--label", "io.gantry.test=ccm", e.network)
	ipam := strings.Fields(sh(t, "docker", "network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}} {{(index .IPAM.Config 0).Subnet}}", e.network))
	e.gateway, e.subnet = ipam[0], ipam[1]
	e.startRelay()

	common := []string{"--kubeconfig=" + api.ConfigPath, "--log-level=debug"}
	e.start("scheduler", nil, append(common, "--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=0")...)
	e.start("controller-manager", nil, append(common, "--leader-elect=false", "--bind-address=127.0.0.1", "--port=0",
		"--node-monitor-period=1s", "--node-monitor-grace-period=8s")...)
	e.start("cloud-controller-manager", nil, append(common, "--cloud-provider=docker", "--docker-network="+e.network,
		"--cluster-name="+e.cluster, "--docker-unbacked-nodes-exist=false", "--leader-elect=false",
		"--bind-address=127.0.0.1", "--secure-port=0", "--node-monitor-period=1s")...)
	return e
}

// startRelay forwards TCP from the network's gateway address to the
// apiserver on 127.0.0.1, and writes a kubeconfig that goes through it.
func (e *env) startRelay() {
	t := e.t
	l, err := net.Listen("tcp", net.JoinHostPort(e.gateway, "0"))
	if err != nil {
		t.Fatalf("relay: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", e.api.Addr)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c); _ = up.(*net.TCPConn).CloseWrite() }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	f, err := config.Load(e.api.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.Clusters {
		f.Clusters[i].Cluster.Server = "https://" + l.Addr().String()
		f.Clusters[i].Cluster.TLSServerName = "127.0.0.1"
	}
	e.relay = filepath.Join(e.api.DataDir, "relay.conf")
	if err := config.Write(e.relay, f); err != nil {
		t.Fatal(err)
	}
}

// start runs a binary (inside the network namespace of netnsPid when not
// nil) with its output in a log file.
func (e *env) start(name string, netnsPid *string, args ...string) *proc {
	e.t.Helper()
	bin := filepath.Join(binDir, strings.SplitN(name, "@", 2)[0])
	argv := append([]string{bin}, args...)
	if netnsPid != nil {
		argv = append([]string{"nsenter", "--net=/proc/" + *netnsPid + "/ns/net", "--"}, argv...)
	}
	p := &proc{name: name, log: filepath.Join(e.dir, strings.ReplaceAll(name, "@", "-")+".log"), exited: make(chan struct{})}
	f, err := os.Create(p.log)
	if err != nil {
		e.t.Fatal(err)
	}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		f.Close()
		e.t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); f.Close(); close(p.exited) }()
	e.mu.Lock()
	e.procs = append(e.procs, p)
	e.mu.Unlock()
	return p
}

func (p *proc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// addNode starts a node: its namespace container, its kube-proxy inside
// it, and its kubelet, registering with the uninitialized taint.
func (e *env) addNode() *nodeEnv {
	e.t.Helper()
	n := &nodeEnv{name: "e2e-ccm-" + e.id + "-" + randSuffix()}
	e.mu.Lock()
	e.nodes[n.name] = n
	e.mu.Unlock()
	sh(e.t, "docker", "run", "-d", "--name", n.name, "--network", e.network,
		"--label", docker.DefaultNodeLabel+"="+n.name, "--label", "io.gantry.test=ccm",
		"--sysctl", "net.ipv4.ip_forward=1", "gantry/pause:latest")
	f := strings.Fields(sh(e.t, "docker", "inspect", "-f", "{{.State.Pid}} {{(index .NetworkSettings.Networks \""+e.network+"\").IPAddress}}", n.name))
	pid := f[0]
	n.ip = f[1]
	n.kubeProxy = e.start("kube-proxy@"+n.name, &pid, "--kubeconfig="+e.relay, "--hostname-override="+n.name,
		"--cluster-cidr="+e.subnet, "--healthz-bind-address=", "--metrics-bind-address=", "--min-sync-period=0s", "--log-level=debug")
	n.kubelet = e.start("kubelet@"+n.name, nil, "--kubeconfig="+e.api.ConfigPath, "--hostname-override="+n.name,
		"--node-ip="+n.ip, "--address=127.0.0.1", "--port=0", "--healthz-port=0", "--pod-network="+e.network,
		"--root-dir="+filepath.Join(e.dir, n.name), "--node-status-update-frequency=1s", "--node-lease-renew-interval=1s", "--resync-interval=5s",
		"--register-with-taints=node.cloudprovider.kubernetes.io/uninitialized=true:NoSchedule", "--log-level=debug")
	return n
}

// removeNode stops a node's daemons and removes its container and pods.
func (e *env) removeNode(n *nodeEnv) {
	n.kubelet.stop()
	n.kubeProxy.stop()
	removeContainers(e.t, "label=io.gantry.node="+n.name)
	removeContainers(e.t, "name=^/"+n.name+"$")
}

func removeContainers(t testing.TB, filter string) {
	out, err := exec.Command("docker", "ps", "-aq", "--filter", filter).Output()
	if err != nil {
		t.Errorf("docker ps: %v", err)
		return
	}
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		if out, err := exec.Command("docker", append([]string{"rm", "-f"}, ids...)...).CombinedOutput(); err != nil {
			t.Errorf("docker rm: %v: %s", err, out)
		}
	}
}

func (e *env) cleanup() {
	e.mu.Lock()
	procs := slices.Clone(e.procs)
	nodes := e.nodes
	e.mu.Unlock()
	slices.Reverse(procs) // kubelets before the control plane
	for _, p := range procs {
		p.stop()
	}
	if e.t.Failed() {
		for _, p := range procs {
			b, _ := os.ReadFile(p.log)
			lines := strings.Split(string(b), "\n")
			if len(lines) > 60 {
				lines = lines[len(lines)-60:]
			}
			e.t.Logf("--- %s log (last lines):\n%s", p.name, strings.Join(lines, "\n"))
		}
	}
	for name := range nodes {
		removeContainers(e.t, "label=io.gantry.node="+name)
		removeContainers(e.t, "name=^/"+name+"$")
	}
	removeContainers(e.t, "label="+docker.LabelCluster+"="+e.cluster)
	if out, err := exec.Command("docker", "network", "rm", e.network).CombinedOutput(); err != nil && !strings.Contains(string(out), "not found") {
		e.t.Errorf("remove network %s: %v: %s", e.network, err, out)
	}
}

func (e *env) waitFor(what string, timeout time.Duration, cond func() (bool, string)) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("timed out after %s waiting for %s; last: %s", timeout, what, last)
}

// waitNodeInitialized waits for the node to be Ready and initialized by
// the cloud node controller.
func (e *env) waitNodeInitialized(n *nodeEnv) {
	e.t.Helper()
	e.waitFor("node "+n.name+" Ready and initialized", 60*time.Second, func() (bool, string) {
		node, err := e.cs.Nodes().Get(context.Background(), n.name)
		if err != nil {
			return false, err.Error()
		}
		ready := false
		for _, c := range node.GetStatus().GetConditions() {
			ready = ready || (c.GetType() == "Ready" && c.GetStatus() == "True")
		}
		for _, tn := range node.GetSpec().GetTaints() {
			if tn.GetKey() == "node.cloudprovider.kubernetes.io/uninitialized" {
				return false, "still tainted uninitialized"
			}
		}
		return ready && node.GetSpec().GetProviderId() == "docker://"+n.name, fmt.Sprint(node.GetSpec(), node.GetStatus().GetConditions())
	})
}

func httpGet(url string) (string, error) {
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("%s: %s", resp.Status, b)
	}
	return string(b), err
}

func (e *env) apply(manifest string) {
	e.t.Helper()
	objs, err := codec.DecodeManifests(bytes.NewReader([]byte(manifest)))
	if err != nil {
		e.t.Fatal(err)
	}
	ctx := context.Background()
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			_, err = e.cs.Deployments(o.GetMetadata().GetNamespace()).Create(ctx, o)
		case *corev1.Service:
			_, err = e.cs.Services(o.GetMetadata().GetNamespace()).Create(ctx, o)
		default:
			err = fmt.Errorf("unexpected %T", o)
		}
		if err != nil {
			e.t.Fatalf("create %s: %v", scheme.Meta(o.(scheme.Object)).GetName(), err)
		}
	}
}

// waitIngress waits for the service's load balancer address.
func (e *env) waitIngress(name string, timeout time.Duration) string {
	e.t.Helper()
	var ip string
	e.waitFor("service "+name+"'s load balancer address", timeout, func() (bool, string) {
		s, err := e.cs.Services("default").Get(context.Background(), name)
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
	n1 := e.addNode()
	e.waitNodeInitialized(n1)

	// The LoadBalancer service gets an address (the 10 s goal is checked by
	// BenchmarkLoadBalancerAddress; this waits longer, not to be flaky on a
	// busy machine).
	created := time.Now()
	e.apply(demoManifest)
	ingressIP := e.waitIngress("demo", 60*time.Second)
	t.Logf("load balancer address %s after %s", ingressIP, time.Since(created).Round(time.Millisecond))

	// HTTP through it reaches the pods.
	pods := map[string]bool{}
	e.waitFor("HTTP through the load balancer to both pods", 90*time.Second, func() (bool, string) {
		body, err := httpGet("http://" + ingressIP + "/")
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

	p, err := docker.New(ctx, provider.Config{ClusterName: e.cluster, Logger: zap.NewNop()},
		func() docker.Options { o := docker.DefaultOptions(); o.Network = e.network; return o }())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	svc, err := e.cs.Services("default").Get(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	lbBackends := func() []string {
		cfg, err := p.ReadConfig(ctx, e.cluster, svc)
		if err != nil || len(cfg.Listeners) != 1 {
			return nil
		}
		return cfg.Listeners[0].Backends
	}
	if got := lbBackends(); len(got) != 1 || !backends(got, n1.ip) {
		t.Fatalf("load balancer backends %v, want node 1 (%s) only", got, n1.ip)
	}

	// A second node joins the load balancer...
	n2 := e.addNode()
	e.waitNodeInitialized(n2)
	e.waitFor("node 2 in the load balancer", 15*time.Second, func() (bool, string) {
		got := lbBackends()
		return len(got) == 2 && backends(got, n1.ip) && backends(got, n2.ip), fmt.Sprint(got)
	})
	// ...and traffic through node 2's kube-proxy reaches the pods too: ask
	// until both backends have served (round robin).
	for i := range 6 {
		if _, err := httpGet("http://" + ingressIP + "/"); err != nil {
			t.Errorf("request %d with two nodes: %v", i, err)
		}
	}

	// Its container goes away: the node turns NotReady, leaves the load
	// balancer, and is deleted.
	e.removeNode(n2)
	e.waitFor("node 2 out of the load balancer", 40*time.Second, func() (bool, string) {
		got := lbBackends()
		return len(got) == 1 && backends(got, n1.ip), fmt.Sprint(got)
	})
	e.waitFor("node 2 deleted", 30*time.Second, func() (bool, string) {
		_, err := e.cs.Nodes().Get(ctx, n2.name)
		return client.IsNotFound(err), fmt.Sprint(err)
	})
	if body, err := httpGet("http://" + ingressIP + "/"); err != nil {
		t.Errorf("after node 2 left: %v", err)
	} else if !strings.Contains(body, "hostname: demo-") {
		t.Errorf("after node 2 left: body %q", body)
	}

	// Deleting the service removes the load balancer container.
	lbName := "gantry-lb-" + e.cluster + "-default-demo"
	if err := e.cs.Services("default").Delete(ctx, "demo", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("load balancer container removed", 15*time.Second, func() (bool, string) {
		out, err := exec.Command("docker", "ps", "-aq", "--filter", "name=^/"+lbName+"$").Output()
		return err == nil && len(bytes.TrimSpace(out)) == 0, string(out)
	})
	e.waitFor("service gone", 10*time.Second, func() (bool, string) {
		_, err := e.cs.Services("default").Get(ctx, "demo")
		return client.IsNotFound(err), fmt.Sprint(err)
	})
}
