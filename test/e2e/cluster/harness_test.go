package cluster

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

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/codec"
	"github.com/gantryhq/gantry/client/config"
	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider/docker"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"github.com/gantryhq/gantry/test/integration/framework"
)

// proc is one daemon the test started.
type proc struct {
	name   string
	argv   []string
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

// env is the cluster.
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
	nodes []*nodeEnv
}

type nodeEnv struct {
	name      string
	ip        string
	pid       string
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

// newEnv starts the control plane: apiserver, scheduler,
// controller-manager (short node grace period) and
// cloud-controller-manager (docker provider on the test's network).
func newEnv(t testing.TB) *env {
	t.Helper()
	if setupErr != nil {
		t.Fatalf("setup: %v", setupErr)
	}
	api := framework.StartAPIServer(t, apiservertest.Options{})
	e := &env{t: t, id: randSuffix(), dir: t.TempDir(), api: api, cs: framework.Client(t, api)}
	e.network = "gantry-e2e-cluster-" + e.id
	e.cluster = "e2e-" + e.id
	t.Cleanup(e.cleanup)

	sh(t, "docker", "network", "create", "--label", "io.gantry.test=cluster", e.network)
	ipam := strings.Fields(sh(t, "docker", "network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}} {{(index .IPAM.Config 0).Subnet}}", e.network))
	e.gateway, e.subnet = ipam[0], ipam[1]
	e.startRelay()

	common := []string{"--kubeconfig=" + api.ConfigPath, "--log-level=debug"}
	e.start("scheduler", nil, append(common, "--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=0")...)
	e.start("controller-manager", nil, append(common, "--leader-elect=false", "--bind-address=127.0.0.1", "--port=0",
		"--node-monitor-period=1s", "--node-monitor-grace-period=6s", "--cronjob-resync-period=2s")...)
	e.start("cloud-controller-manager", nil, append(common, "--cloud-provider=docker", "--docker-network="+e.network,
		"--cluster-name="+e.cluster, "--docker-unbacked-nodes-exist=false", "--leader-elect=false",
		"--bind-address=127.0.0.1", "--secure-port=0", "--node-monitor-period=1s")...)
	return e
}

// startRelay forwards TCP from the network's gateway address to the
// apiserver on 127.0.0.1 (its address stays the same across restarts), and
// writes a kubeconfig that goes through it.
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
// empty) with its output appended to a log file.
func (e *env) start(name string, netnsPid *string, args ...string) *proc {
	e.t.Helper()
	bin := filepath.Join(binDir, strings.SplitN(name, "@", 2)[0])
	argv := append([]string{bin}, args...)
	if netnsPid != nil {
		argv = append([]string{"nsenter", "--net=/proc/" + *netnsPid + "/ns/net", "--"}, argv...)
	}
	p := &proc{name: name, argv: argv, log: filepath.Join(e.dir, strings.ReplaceAll(name, "@", "-")+".log")}
	e.run(p)
	e.mu.Lock()
	e.procs = append(e.procs, p)
	e.mu.Unlock()
	return p
}

func (e *env) run(p *proc) {
	e.t.Helper()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		e.t.Fatal(err)
	}
	p.exited = make(chan struct{})
	p.cmd = exec.Command(p.argv[0], p.argv[1:]...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		f.Close()
		e.t.Fatalf("start %s: %v", p.name, err)
	}
	exited := p.exited
	go func() { _ = p.cmd.Wait(); f.Close(); close(exited) }()
}

// restart starts a stopped process again with the same arguments.
func (e *env) restart(p *proc) {
	e.t.Helper()
	<-p.exited
	e.run(p)
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

// kill ends a process at once (SIGKILL), as a crash would.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// addNode starts a node: its namespace container, its kube-proxy inside
// it, and its kubelet, registering with the uninitialized taint.
func (e *env) addNode(i int) *nodeEnv {
	e.t.Helper()
	n := &nodeEnv{name: fmt.Sprintf("e2e-%s-node-%d", e.id, i)}
	e.mu.Lock()
	e.nodes = append(e.nodes, n)
	e.mu.Unlock()
	sh(e.t, "docker", "run", "-d", "--name", n.name, "--network", e.network,
		"--label", docker.DefaultNodeLabel+"="+n.name, "--label", "io.gantry.test=cluster",
		"--sysctl", "net.ipv4.ip_forward=1", "gantry/pause:latest")
	f := strings.Fields(sh(e.t, "docker", "inspect", "-f", "{{.State.Pid}} {{(index .NetworkSettings.Networks \""+e.network+"\").IPAddress}}", n.name))
	n.pid, n.ip = f[0], f[1]
	// --masquerade-all: a pod reaches a cluster IP through its node's
	// namespace (a route the test adds), so replies must come back that way.
	n.kubeProxy = e.start("kube-proxy@"+n.name, &n.pid, "--kubeconfig="+e.relay, "--hostname-override="+n.name,
		"--cluster-cidr="+e.subnet, "--masquerade-all", "--healthz-bind-address=", "--metrics-bind-address=",
		"--min-sync-period=0s", "--log-level=debug")
	n.kubelet = e.start("kubelet@"+n.name, nil, "--kubeconfig="+e.api.ConfigPath, "--hostname-override="+n.name,
		"--node-ip="+n.ip, "--address=127.0.0.1", "--port=0", "--healthz-port=0", "--pod-network="+e.network,
		"--root-dir="+filepath.Join(e.dir, n.name), "--node-status-update-frequency=1s", "--node-lease-renew-interval=1s",
		"--node-lease-duration-seconds=6", "--resync-interval=5s",
		"--register-with-taints=node.cloudprovider.kubernetes.io/uninitialized=true:NoSchedule", "--log-level=debug")
	return n
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
	nodes := slices.Clone(e.nodes)
	e.mu.Unlock()
	slices.Reverse(procs) // kubelets before the control plane
	for _, p := range procs {
		p.stop()
	}
	if e.t.Failed() {
		for _, p := range procs {
			b, _ := os.ReadFile(p.log)
			lines := strings.Split(string(b), "\n")
			if len(lines) > 80 {
				lines = lines[len(lines)-80:]
			}
			e.t.Logf("--- %s log (last lines):\n%s", p.name, strings.Join(lines, "\n"))
		}
	}
	for _, n := range nodes {
		removeContainers(e.t, "label=io.gantry.node="+n.name)
		removeContainers(e.t, "name=^/"+n.name+"$")
	}
	removeContainers(e.t, "label="+docker.LabelCluster+"="+e.cluster)
	if out, err := exec.Command("docker", "network", "rm", e.network).CombinedOutput(); err != nil && !strings.Contains(string(out), "not found") {
		e.t.Errorf("remove network %s: %v: %s", e.network, err, out)
	}
}

// waitFor polls cond every 200ms until it holds or timeout passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s; last: %s", timeout, what, last)
}

func nodeReady(n *corev1.Node) string {
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus()
		}
	}
	return ""
}

// waitNodeInitialized waits for the node to be Ready and initialized by
// the cloud node controller.
func (e *env) waitNodeInitialized(t testing.TB, n *nodeEnv) {
	t.Helper()
	waitFor(t, "node "+n.name+" Ready and initialized", 90*time.Second, func() (bool, string) {
		node, err := e.cs.Nodes().Get(context.Background(), n.name)
		if err != nil {
			return false, err.Error()
		}
		for _, tn := range node.GetSpec().GetTaints() {
			if tn.GetKey() == "node.cloudprovider.kubernetes.io/uninitialized" {
				return false, "still tainted uninitialized"
			}
		}
		return nodeReady(node) == "True" && node.GetSpec().GetProviderId() == "docker://"+n.name,
			fmt.Sprint(node.GetSpec(), node.GetStatus().GetConditions())
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

// hostname is the "hostname: " line of a demo answer.
func hostname(body string) string {
	for _, line := range strings.Split(body, "\n") {
		if h, ok := strings.CutPrefix(line, "hostname: "); ok {
			return strings.TrimSpace(h)
		}
	}
	return ""
}

// apply creates every object of a manifest.
func (e *env) apply(t testing.TB, manifest string) {
	t.Helper()
	objs, err := codec.DecodeManifests(bytes.NewReader([]byte(manifest)))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		obj := o.(scheme.Object)
		res, ok := scheme.ForMessage(obj)
		if !ok {
			t.Fatalf("%T is not in the scheme", o)
		}
		m := scheme.Meta(obj)
		if _, err := e.cs.Resource(res, m.GetNamespace()).Create(context.Background(), obj); err != nil {
			t.Fatalf("create %s %s: %v", res.Kind, m.GetName(), err)
		}
	}
}

// pods lists the pods matching selector in ns that are not being deleted.
func (e *env) pods(t testing.TB, ns, selector string) []*corev1.Pod {
	t.Helper()
	l, err := e.cs.Pods(ns).List(context.Background(), client.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatalf("list pods: %v", err)
	}
	var out []*corev1.Pod
	for _, p := range l.Items {
		if p.GetMetadata().GetDeletionTimestamp() == nil {
			out = append(out, p)
		}
	}
	return out
}

func podReady(p *corev1.Pod) bool {
	if p.GetStatus().GetPhase() != "Running" || p.GetStatus().GetPodIp() == "" {
		return false
	}
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus() == "True"
		}
	}
	return false
}

// waitReadyPods waits until exactly want pods match (deleting ones aside),
// all Ready and passing check (when not nil), and returns them.
func (e *env) waitReadyPods(t testing.TB, ns, selector string, want int, timeout time.Duration, check func(*corev1.Pod) bool) []*corev1.Pod {
	t.Helper()
	var got []*corev1.Pod
	waitFor(t, fmt.Sprintf("%d ready pods %s in %s", want, selector, ns), timeout, func() (bool, string) {
		got = e.pods(t, ns, selector)
		var state []string
		ok := len(got) == want
		for _, p := range got {
			r := podReady(p) && (check == nil || check(p))
			ok = ok && r
			state = append(state, fmt.Sprintf("%s@%s:%s/%v", p.GetMetadata().GetName(), p.GetSpec().GetNodeName(), p.GetStatus().GetPhase(), r))
		}
		return ok, strings.Join(state, " ")
	})
	return got
}

// sandboxPid is the pid of a pod's pause container (its network namespace).
func sandboxPid(t testing.TB, ns, pod string) string {
	t.Helper()
	id := sh(t, "docker", "ps", "-q", "--filter", "label=io.gantry.pod.namespace="+ns, "--filter", "label=io.gantry.pod.name="+pod,
		"--filter", "label=io.gantry.container.name=POD")
	if id == "" || strings.Contains(id, "\n") {
		t.Fatalf("sandbox of %s/%s: %q", ns, pod, id)
	}
	return sh(t, "docker", "inspect", "-f", "{{.State.Pid}}", id)
}

// containerID is the running container of a pod's container.
func containerID(t testing.TB, ns, pod, container string) string {
	t.Helper()
	id := sh(t, "docker", "ps", "-q", "--filter", "label=io.gantry.pod.namespace="+ns, "--filter", "label=io.gantry.pod.name="+pod,
		"--filter", "label=io.gantry.container.name="+container)
	if id == "" || strings.Contains(id, "\n") {
		t.Fatalf("container %s of %s/%s: %q", container, ns, pod, id)
	}
	return id
}
