package framework

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
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
	"github.com/gantryhq/gantry/client/config"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider/docker"
	integration "github.com/gantryhq/gantry/test/integration/framework"
)

// Options shape a Cluster.
type Options struct {
	// BinDir holds the Binaries (built by Setup).
	BinDir string
	// Prefix names the test's network (gantry-e2e-<prefix>-<id>), nodes
	// (e2e-<prefix>-<id>-...) and labels (io.gantry.test=<prefix>).
	Prefix string
	// Extra flags, after the defaults (a flag given again wins).
	ControllerManagerArgs, KubeletArgs, KubeProxyArgs []string
}

// Proc is one daemon the test started; its output goes to Log.
type Proc struct {
	Name   string
	Log    string
	argv   []string
	cmd    *exec.Cmd
	exited chan struct{}
}

// Cluster is a running cluster; see the package documentation.
type Cluster struct {
	T       testing.TB
	Opts    Options
	ID      string
	Dir     string
	API     *apiservertest.Server
	Client  *client.Clientset
	Network string
	Gateway string
	Subnet  string
	// Relay is a client config through the relay, for node namespaces.
	Relay string
	// Name is the cloud provider's cluster name (labels its load balancers).
	Name string

	mu    sync.Mutex
	procs []*Proc
	nodes []*Node
}

// Node is one node of the cluster.
type Node struct {
	Name string
	// IP is its address on the test's network (its InternalIP).
	IP string
	// Pid is a process in its network namespace (the node container's).
	Pid       string
	Kubelet   *Proc
	KubeProxy *Proc
}

// RandSuffix is 8 random hex digits.
func RandSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Sh runs a command and returns its trimmed output; it fails the test on
// error.
func Sh(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Start starts the control plane: apiserver, scheduler, controller-manager
// (node monitor period 1s, grace period 8s) and cloud-controller-manager
// (docker provider on the test's network). Nodes come with AddNode.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	api := integration.StartAPIServer(t, apiservertest.Options{})
	c := &Cluster{T: t, Opts: opts, ID: RandSuffix(), Dir: t.TempDir(), API: api, Client: integration.Client(t, api)}
	c.Network = "gantry-e2e-" + opts.Prefix + "-" + c.ID
	c.Name = "e2e-" + c.ID
	t.Cleanup(c.cleanup)

	Sh(t, "docker", "network", "create", "--label", "io.gantry.test="+opts.Prefix, c.Network)
	ipam := strings.Fields(Sh(t, "docker", "network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}} {{(index .IPAM.Config 0).Subnet}}", c.Network))
	c.Gateway, c.Subnet = ipam[0], ipam[1]
	c.startRelay()

	common := []string{"--kubeconfig=" + api.ConfigPath, "--log-level=debug"}
	c.Start("scheduler", "", append(common, "--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=0")...)
	c.Start("controller-manager", "", append(append(common, "--leader-elect=false", "--bind-address=127.0.0.1", "--port=0",
		"--node-monitor-period=1s", "--node-monitor-grace-period=8s"), opts.ControllerManagerArgs...)...)
	c.Start("cloud-controller-manager", "", append(common, "--cloud-provider=docker", "--docker-network="+c.Network,
		"--cluster-name="+c.Name, "--docker-unbacked-nodes-exist=false", "--leader-elect=false",
		"--bind-address=127.0.0.1", "--secure-port=0", "--node-monitor-period=1s")...)
	return c
}

// startRelay forwards TCP from the network's gateway address to the
// apiserver on 127.0.0.1 (its address stays the same across restarts), and
// writes a client config that goes through it.
func (c *Cluster) startRelay() {
	t := c.T
	l, err := net.Listen("tcp", net.JoinHostPort(c.Gateway, "0"))
	if err != nil {
		t.Fatalf("relay: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				up, err := net.Dial("tcp", c.API.Addr)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, conn); _ = up.(*net.TCPConn).CloseWrite() }()
				_, _ = io.Copy(conn, up)
			}()
		}
	}()
	f, err := config.Load(c.API.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.Clusters {
		f.Clusters[i].Cluster.Server = "https://" + l.Addr().String()
		f.Clusters[i].Cluster.TLSServerName = "127.0.0.1"
	}
	c.Relay = filepath.Join(c.API.DataDir, "relay.conf")
	if err := config.Write(c.Relay, f); err != nil {
		t.Fatal(err)
	}
}

// Start runs a binary of BinDir (name is "<binary>" or "<binary>@<what>"),
// inside the network namespace of netnsPid when not empty, with its output
// appended to a log file. The cluster stops it in its cleanup.
func (c *Cluster) Start(name, netnsPid string, args ...string) *Proc {
	c.T.Helper()
	bin := filepath.Join(c.Opts.BinDir, strings.SplitN(name, "@", 2)[0])
	argv := append([]string{bin}, args...)
	if netnsPid != "" {
		argv = append([]string{"nsenter", "--net=/proc/" + netnsPid + "/ns/net", "--"}, argv...)
	}
	p := &Proc{Name: name, argv: argv, Log: filepath.Join(c.Dir, strings.ReplaceAll(name, "@", "-")+".log")}
	c.run(p)
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return p
}

func (c *Cluster) run(p *Proc) {
	c.T.Helper()
	f, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.T.Fatal(err)
	}
	p.exited = make(chan struct{})
	p.cmd = exec.Command(p.argv[0], p.argv[1:]...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		f.Close()
		c.T.Fatalf("start %s: %v", p.Name, err)
	}
	exited := p.exited
	go func() { _ = p.cmd.Wait(); f.Close(); close(exited) }()
}

// Restart starts a stopped (or killed) process again with the same
// arguments.
func (c *Cluster) Restart(p *Proc) {
	c.T.Helper()
	<-p.exited
	c.run(p)
}

// Stop ends a process with SIGTERM (SIGKILL after 15s) and waits for it.
func (p *Proc) Stop() {
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

// Kill ends a process at once (SIGKILL), as a crash would.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// AddNode starts a node: its namespace container, its kube-proxy inside
// it, and its kubelet, registering with the cloud provider's uninitialized
// taint (WaitNodeInitialized waits for it to go). An empty name picks one.
func (c *Cluster) AddNode(name string) *Node {
	c.T.Helper()
	if name == "" {
		name = "e2e-" + c.Opts.Prefix + "-" + c.ID + "-" + RandSuffix()
	}
	n := &Node{Name: name}
	c.mu.Lock()
	c.nodes = append(c.nodes, n)
	c.mu.Unlock()
	Sh(c.T, "docker", "run", "-d", "--name", n.Name, "--network", c.Network,
		"--label", docker.DefaultNodeLabel+"="+n.Name, "--label", "io.gantry.test="+c.Opts.Prefix,
		"--sysctl", "net.ipv4.ip_forward=1", "gantry/pause:latest")
	f := strings.Fields(Sh(c.T, "docker", "inspect", "-f", "{{.State.Pid}} {{(index .NetworkSettings.Networks \""+c.Network+"\").IPAddress}}", n.Name))
	n.Pid, n.IP = f[0], f[1]
	n.KubeProxy = c.Start("kube-proxy@"+n.Name, n.Pid, append([]string{"--kubeconfig=" + c.Relay, "--hostname-override=" + n.Name,
		"--cluster-cidr=" + c.Subnet, "--healthz-bind-address=", "--metrics-bind-address=",
		"--min-sync-period=0s", "--log-level=debug"}, c.Opts.KubeProxyArgs...)...)
	n.Kubelet = c.Start("kubelet@"+n.Name, "", append([]string{"--kubeconfig=" + c.API.ConfigPath, "--hostname-override=" + n.Name,
		"--node-ip=" + n.IP, "--address=127.0.0.1", "--port=0", "--healthz-port=0", "--pod-network=" + c.Network,
		"--root-dir=" + filepath.Join(c.Dir, n.Name), "--node-status-update-frequency=1s", "--node-lease-renew-interval=1s", "--resync-interval=5s",
		"--register-with-taints=node.cloudprovider.kubernetes.io/uninitialized=true:NoSchedule", "--log-level=debug"}, c.Opts.KubeletArgs...)...)
	return n
}

// RemoveNode stops a node's daemons and removes its container and pods.
func (c *Cluster) RemoveNode(n *Node) {
	n.Kubelet.Stop()
	n.KubeProxy.Stop()
	RemoveContainers(c.T, "label=io.gantry.node="+n.Name)
	RemoveContainers(c.T, "name=^/"+n.Name+"$")
}

// RemoveContainers removes every container docker ps --filter finds, one
// at a time: concurrent removals on one network can leave Docker 20.10
// counting endpoints that are gone, and then the network cannot be removed
// (moby#42119).
func RemoveContainers(t testing.TB, filter string) {
	out, err := exec.Command("docker", "ps", "-aq", "--filter", filter).Output()
	if err != nil {
		t.Errorf("docker ps: %v", err)
		return
	}
	for _, id := range strings.Fields(string(out)) {
		if out, err := exec.Command("docker", "rm", "-f", id).CombinedOutput(); err != nil && !strings.Contains(string(out), "No such container") {
			t.Errorf("docker rm: %v: %s", err, out)
		}
	}
}

func (c *Cluster) cleanup() {
	c.mu.Lock()
	procs := slices.Clone(c.procs)
	nodes := slices.Clone(c.nodes)
	c.mu.Unlock()
	slices.Reverse(procs) // kubelets before the control plane
	for _, p := range procs {
		p.Stop()
	}
	if c.T.Failed() {
		for _, p := range procs {
			b, _ := os.ReadFile(p.Log)
			lines := strings.Split(string(b), "\n")
			if len(lines) > 80 {
				lines = lines[len(lines)-80:]
			}
			c.T.Logf("--- %s log (last lines):\n%s", p.Name, strings.Join(lines, "\n"))
		}
	}
	for _, n := range nodes {
		RemoveContainers(c.T, "label=io.gantry.node="+n.Name)
		RemoveContainers(c.T, "name=^/"+n.Name+"$")
	}
	RemoveContainers(c.T, "label="+docker.LabelCluster+"="+c.Name)
	if out, err := exec.Command("docker", "network", "rm", c.Network).CombinedOutput(); err != nil && !strings.Contains(string(out), "not found") {
		c.T.Errorf("remove network %s: %v: %s", c.Network, err, out)
	}
}

// WaitFor polls cond every 100ms until it holds, or fails the test after
// timeout with cond's last state.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
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
	t.Fatalf("timed out after %s waiting for %s; last: %s", timeout, what, last)
}

// WaitNodeInitialized waits for the node to be Ready, initialized by the
// cloud node controller and free of the node lifecycle controller's taints.
func (c *Cluster) WaitNodeInitialized(t testing.TB, n *Node) {
	t.Helper()
	WaitFor(t, "node "+n.Name+" Ready and initialized", 90*time.Second, func() (bool, string) {
		node, err := c.Client.Nodes().Get(context.Background(), n.Name)
		if err != nil {
			return false, err.Error()
		}
		for _, tn := range node.GetSpec().GetTaints() {
			// Initialized by the cloud, and schedulable: the node
			// lifecycle controller has dropped its not-ready taint.
			if tn.GetKey() == "node.cloudprovider.kubernetes.io/uninitialized" || strings.HasPrefix(tn.GetKey(), "node.kubernetes.io/") {
				return false, "still tainted " + tn.GetKey()
			}
		}
		return NodeReady(node) == "True" && node.GetSpec().GetProviderId() == "docker://"+n.Name,
			fmt.Sprint(node.GetSpec(), node.GetStatus().GetConditions())
	})
}
