package cli

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// freePorts returns n loopback ports free at the time of the call.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// TestLocalUpCluster runs hack/local-up-cluster.sh (on the binaries
// TestMain built, every daemon but the Docker kubelet and kube-proxy, one
// hollow node) on free ports, uses the cluster with gantry, and stops it as
// Ctrl-C would.
func TestLocalUpCluster(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	p := freePorts(t, 6)
	cmd := exec.Command(filepath.Join(root, "hack", "local-up-cluster.sh"))
	cmd.Env = append(os.Environ(),
		"DATA_DIR="+dataDir,
		"BIN_DIR="+binDir,
		"SKIP_BUILD=1",
		"HOLLOW_NODES=1",
		"DOCKER_KUBELET=0",
		"KUBE_PROXY=0",
		"LOG_LEVEL=warn",
		fmt.Sprintf("API_PORT=%d", p[0]),
		fmt.Sprintf("API_HTTP_PORT=%d", p[1]),
		fmt.Sprintf("SCHEDULER_PORT=%d", p[2]),
		fmt.Sprintf("CONTROLLER_MANAGER_PORT=%d", p[3]),
		fmt.Sprintf("CLOUD_CONTROLLER_MANAGER_PORT=%d", p[4]),
		fmt.Sprintf("HOLLOW_HEALTHZ_BASE=%d", p[5]-1),
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if stopped {
			return
		}
		// The test failed half-way: stop the script, then anything of its
		// process group still running.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})

	lines := make(chan string, 100)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	var transcript []string
	waitFor := func(want string, timeout time.Duration) {
		t.Helper()
		deadline := time.After(timeout)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("script ended before %q:\n%s", want, strings.Join(transcript, "\n"))
				}
				transcript = append(transcript, l)
				if strings.Contains(l, "✗") {
					t.Fatalf("script failed:\n%s\n(logs in %s)", strings.Join(transcript, "\n"), filepath.Join(dataDir, "logs"))
				}
				if strings.Contains(l, want) {
					return
				}
			case <-deadline:
				t.Fatalf("no %q after %s:\n%s", want, timeout, strings.Join(transcript, "\n"))
			}
		}
	}
	waitFor("Cluster is ready", 5*time.Minute)
	waitFor("export GANTRY_CONFIG="+filepath.Join(dataDir, "admin.conf"), 5*time.Second)
	for _, step := range []string{"apiserver ready", "scheduler ready", "controller-manager ready", "cloud-controller-manager ready", "hollow-node-1 ready"} {
		found := false
		for _, l := range transcript {
			found = found || strings.Contains(l, "✓ "+step)
		}
		if !found {
			t.Errorf("no ✓ line for %q:\n%s", step, strings.Join(transcript, "\n"))
		}
	}

	// The cluster works: a deployment's pods run on the hollow node.
	gantry := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		c := exec.CommandContext(ctx, gantryBin, args...)
		c.Env = append(os.Environ(), "GANTRY_CONFIG="+filepath.Join(dataDir, "admin.conf"))
		b, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("gantry %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	gantry("wait", "--for=condition=Ready", "node/hollow-node-1", "--timeout=60s")
	gantry("create", "deployment", "web", "--image=nginx:1.25", "--replicas=2")
	if out := gantry("rollout", "status", "deployment/web", "--timeout=60s"); !strings.Contains(out, `deployment "web" successfully rolled out`) {
		t.Errorf("rollout status: %s", out)
	}
	rows := table(gantry("get", "pods", "-o", "wide", "--no-headers"))
	if len(rows) != 2 || rows[0][2] != "Running" || rows[0][6] != "hollow-node-1" {
		t.Errorf("pods: %q", rows)
	}

	// SIGTERM (as Ctrl-C) stops everything the script started.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor("stopped", 60*time.Second)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the script did not exit after stopping the cluster")
	}
	stopped = true
	// No daemon of its process group is left.
	if err := syscall.Kill(-cmd.Process.Pid, 0); err == nil {
		t.Errorf("processes of the script's group are still running")
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if _, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p[1]), time.Second); err == nil {
		t.Errorf("the apiserver still answers after the script stopped")
	}
}
