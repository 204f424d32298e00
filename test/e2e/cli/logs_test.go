package cli

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLogsExec runs a kubelet on its fake runtime (its containers echo
// exec commands and log one line naming themselves) and reads logs and
// runs commands through gantry, the apiserver and the kubelet's API.
func TestLogsExec(t *testing.T) {
	c := startCluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	kubelet := exec.CommandContext(ctx, kubeletBin,
		"--kubeconfig="+c.server.ConfigPath,
		"--hostname-override=fake-node",
		"--runtime=fake",
		"--port=0",
		"--client-ca-file="+filepath.Join(c.server.DataDir, "pki", "ca.crt"),
		"--node-ip=127.0.0.1",
		"--healthz-port=0",
		"--root-dir="+t.TempDir(),
		"--log-level=warn")
	var klog bytes.Buffer
	kubelet.Stdout, kubelet.Stderr = &klog, &klog
	if err := kubelet.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = kubelet.Wait()
		if t.Failed() {
			t.Logf("kubelet log:\n%s", klog.String())
		}
	})

	pod := `apiVersion: v1
kind: Pod
metadata:
  name: two
spec:
  nodeName: fake-node
  containers:
  - name: app
    image: busybox:1.28
  - name: sidecar
    image: busybox:1.28
`
	if r := c.gantry(pod, "apply", "-f", "-"); r.code != 0 {
		t.Fatalf("apply: %s", r.stderr)
	}
	c.ok("wait", "--for=jsonpath={.status.phase}=Running", "pod/two", "--timeout=60s")
	deadline := time.Now().Add(30 * time.Second)
	var r result
	for {
		// The node's API endpoint may reach the apiserver a moment after
		// the pod runs.
		r = c.gantry("", "logs", "two")
		if r.code == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if r.code != 0 || !strings.HasPrefix(r.stdout, "fake log of ") {
		t.Fatalf("logs: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if r.stderr != "Defaulted container \"app\" out of: app, sidecar\n" {
		t.Errorf("logs stderr: %q", r.stderr)
	}
	r = c.ok("logs", "pod/two", "-c", "sidecar")
	if !strings.HasPrefix(r.stdout, "fake log of ") || r.stderr != "" {
		t.Errorf("logs -c: %q %q", r.stdout, r.stderr)
	}
	if got := c.ok("logs", "two", "--all-containers").stdout; strings.Count(got, "fake log of ") != 2 {
		t.Errorf("logs --all-containers: %q", got)
	}
	c.ok("label", "pod", "two", "app=two")
	if got := c.ok("logs", "-l", "app=two", "--all-containers", "--prefix").stdout; !strings.HasPrefix(got, "[pod/two/app] fake log of ") ||
		!strings.Contains(got, "\n[pod/two/sidecar] fake log of ") {
		t.Errorf("logs -l --prefix: %q", got)
	}
	r = c.ok("exec", "two", "-c", "app", "--", "echo", "hello", "world")
	if r.stdout != "echo hello world\n" {
		t.Errorf("exec: %q", r.stdout)
	}
	r = c.gantry("", "exec", "two")
	if r.code != 1 || !strings.Contains(r.stderr, "you must specify at least one command for the container") {
		t.Errorf("exec without a command: %d %q", r.code, r.stderr)
	}
	// drain refuses a pod no controller manages, then deletes it with
	// --force and waits for the kubelet to finish it.
	r = c.gantry("", "drain", "fake-node", "--timeout=60s")
	if r.code != 1 || !strings.Contains(r.stderr, "cannot delete Pods that declare no controller (use --force to override): default/two") {
		t.Errorf("drain without --force: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = c.ok("drain", "fake-node", "--force", "--ignore-daemonsets", "--grace-period=1", "--timeout=60s")
	want := "node/fake-node already cordoned\nevicting pod default/two\npod/two evicted\nnode/fake-node drained\n"
	if r.stdout != want {
		t.Errorf("drain --force: stdout %q, want %q", r.stdout, want)
	}
	if rows := table(c.ok("get", "node", "fake-node", "--no-headers").stdout); len(rows) != 1 || rows[0][1] != "Ready,SchedulingDisabled" {
		t.Errorf("drained node: %q", rows)
	}
	c.ok("uncordon", "fake-node")

	// taint through the shared update loop: its verb, then a refused
	// overwrite reported with exit 1, then the removal.
	if got := c.ok("taint", "nodes", "fake-node", "dedicated=e2e:NoSchedule").stdout; got != "node/fake-node tainted\n" {
		t.Errorf("taint: %q", got)
	}
	r = c.gantry("", "taint", "nodes", "fake-node", "dedicated=other:NoSchedule")
	if r.code != 1 || !strings.Contains(r.stderr, "already has dedicated taint(s) with same effect(s) and --overwrite is false") {
		t.Errorf("taint without --overwrite: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if got := c.ok("taint", "nodes", "fake-node", "dedicated:NoSchedule-").stdout; got != "node/fake-node untainted\n" {
		t.Errorf("untaint: %q", got)
	}

	r = c.gantry("", "logs", "nope")
	if r.code != 1 || r.stderr != "Error from server (NotFound): pods \"nope\" not found\n" {
		t.Errorf("logs of a missing pod: %d %q", r.code, r.stderr)
	}
}
