// Package kubelet holds the kubelet's end-to-end tests: the kubelet binary,
// against an in-process apiserver, running pods as real Docker containers.
// They FAIL when Docker is unavailable. Each test runs its own kubelet on
// its own node and Docker network and removes every container and network
// it made.
package kubelet

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
	e2e "github.com/gantryhq/gantry/test/e2e/framework"
	"github.com/gantryhq/gantry/test/integration/framework"
)

var (
	repoRoot   string
	kubeletBin string
	setupErr   error
)

func TestMain(m *testing.M) {
	os.Exit(e2e.Main(m, "kubelet", &setupErr, func(root, dir string) (func(), error) {
		repoRoot = root
		return nil, setup(dir)
	}))
}

// setup checks Docker, builds the pod images and the kubelet binary.
func setup(dir string) error {
	if err := e2e.BuildImages(repoRoot); err != nil {
		return err
	}
	kubeletBin = filepath.Join(dir, "kubelet")
	return e2e.BuildBinaries(repoRoot, dir, "kubelet")
}

func randSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// env is one test's cluster: an apiserver and a kubelet on Docker.
type env struct {
	t       testing.TB
	api     *apiservertest.Server
	cs      *client.Clientset
	node    string
	network string
	rootDir string
	logPath string
	extra   []string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// newEnv starts an apiserver and a kubelet (with extra flags).
func newEnv(t testing.TB, extra ...string) *env {
	t.Helper()
	return newEnvSubnet(t, "", extra...)
}

// newEnvSubnet is newEnv with the pod network made beforehand with subnet
// (when not empty).
func newEnvSubnet(t testing.TB, subnet string, extra ...string) *env {
	t.Helper()
	if setupErr != nil {
		t.Fatalf("setup: %v", setupErr)
	}
	api := framework.StartAPIServer(t, apiservertest.Options{})
	id := randSuffix()
	e := &env{
		t:       t,
		api:     api,
		cs:      framework.Client(t, api),
		node:    "e2e-" + id,
		network: "gantry-e2e-" + id,
		rootDir: t.TempDir(),
		extra:   extra,
	}
	e.logPath = filepath.Join(e.rootDir, "kubelet.log")
	t.Cleanup(e.cleanup)
	if subnet != "" {
		docker(t, "network", "create", "--subnet", subnet, "--label", "io.gantry.managed=true", e.network)
	}
	e.startKubelet()
	e.waitNodeReady()
	return e
}

func (e *env) startKubelet() {
	e.t.Helper()
	args := []string{
		"--kubeconfig=" + e.api.ConfigPath,
		"--hostname-override=" + e.node,
		"--node-ip=127.0.0.1",
		"--address=127.0.0.1",
		"--port=0",
		"--healthz-port=0",
		"--pod-network=" + e.network,
		"--root-dir=" + filepath.Join(e.rootDir, "root"),
		"--client-ca-file=" + filepath.Join(e.api.DataDir, "pki", "ca.crt"),
		"--crashloop-backoff-initial=1s",
		"--crashloop-backoff-max=8s",
		"--image-pull-backoff-initial=1s",
		"--image-pull-backoff-max=4s",
		"--node-status-update-frequency=1s",
		"--resync-interval=5s",
		"--log-level=debug",
	}
	args = append(args, e.extra...)
	f, err := os.OpenFile(e.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		e.t.Fatal(err)
	}
	cmd := exec.Command(kubeletBin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		e.t.Fatalf("start kubelet: %v", err)
	}
	e.cmd, e.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); f.Close(); close(e.exited) }()
}

// stopKubelet signals the kubelet and waits for it.
func (e *env) stopKubelet(sig syscall.Signal) {
	if e.cmd == nil {
		return
	}
	_ = e.cmd.Process.Signal(sig)
	select {
	case <-e.exited:
	case <-time.After(15 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.exited
	}
	e.cmd = nil
}

func (e *env) cleanup() {
	e.stopKubelet(syscall.SIGTERM)
	if e.t.Failed() {
		if b, err := os.ReadFile(e.logPath); err == nil {
			lines := strings.Split(string(b), "\n")
			if len(lines) > 150 {
				lines = lines[len(lines)-150:]
			}
			e.t.Logf("kubelet log (last lines):\n%s", strings.Join(lines, "\n"))
		}
	}
	e2e.RemoveContainers(e.t, "label=io.gantry.node="+e.node)
	e2e.RemoveContainers(e.t, "label=io.gantry.bench="+e.node)
	// The engine may take a moment to release the endpoints of containers
	// just removed.
	for try := 0; ; try++ {
		out, err := exec.Command("docker", "network", "rm", e.network).CombinedOutput()
		if err == nil || strings.Contains(string(out), "not found") {
			break
		}
		if try == 20 {
			e.t.Errorf("remove network %s: %v: %s", e.network, err, out)
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (e *env) waitNodeReady() {
	e.t.Helper()
	e.waitFor("node Ready", 60*time.Second, func() (bool, string) {
		n, err := e.cs.Nodes().Get(context.Background(), e.node)
		if err != nil {
			return false, err.Error()
		}
		for _, c := range n.GetStatus().GetConditions() {
			if c.GetType() == "Ready" && c.GetStatus() == "True" && n.GetStatus().GetDaemonEndpoints().GetKubeletEndpoint().GetPort() > 0 {
				return true, ""
			}
		}
		return false, fmt.Sprint(n.GetStatus())
	})
}

// waitFor polls cond until it holds or timeout passes.
func (e *env) waitFor(what string, timeout time.Duration, cond func() (bool, string)) {
	e.t.Helper()
	e2e.WaitFor(e.t, what, timeout, cond)
}

// pod makes a pod of one container on the env's node.
func (e *env) pod(name, image string, args ...string) *corev1.Pod {
	return &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: &corev1.PodSpec{
			NodeName:                      e.node,
			TerminationGracePeriodSeconds: proto.Int64(2),
			Containers: []*corev1.Container{{
				Name: "main", Image: image, Args: args, ImagePullPolicy: "IfNotPresent",
			}},
		},
	}
}

func (e *env) create(p *corev1.Pod) *corev1.Pod {
	e.t.Helper()
	out, err := e.cs.Pods(p.Metadata.Namespace).Create(context.Background(), p)
	if err != nil {
		e.t.Fatalf("create pod %s: %v", p.Metadata.Name, err)
	}
	return out
}

func (e *env) get(name string) *corev1.Pod {
	e.t.Helper()
	p, err := e.cs.Pods("default").Get(context.Background(), name)
	if err != nil {
		e.t.Fatalf("get pod %s: %v", name, err)
	}
	return p
}

// waitPod waits for cond on the pod name.
func (e *env) waitPod(name, what string, timeout time.Duration, cond func(*corev1.Pod) bool) *corev1.Pod {
	e.t.Helper()
	var p *corev1.Pod
	e.waitFor(fmt.Sprintf("pod %s: %s", name, what), timeout, func() (bool, string) {
		var err error
		p, err = e.cs.Pods("default").Get(context.Background(), name)
		if err != nil {
			return false, err.Error()
		}
		return cond(p), fmt.Sprint(p.GetStatus())
	})
	return p
}

func containerStatus(p *corev1.Pod) *corev1.ContainerStatus {
	if cs := p.GetStatus().GetContainerStatuses(); len(cs) > 0 {
		return cs[0]
	}
	return &corev1.ContainerStatus{}
}

func condition(p *corev1.Pod, typ string) string {
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == typ {
			return c.GetStatus()
		}
	}
	return ""
}

func docker(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(bytes.TrimSpace(out))
}
