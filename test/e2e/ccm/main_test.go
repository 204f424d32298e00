// Package ccm is the cloud-controller-manager's end-to-end test: the real
// binaries (scheduler, controller-manager, cloud-controller-manager with the
// docker provider, kubelets and kube-proxies) against an in-process
// apiserver, with pods, nodes and load balancers as real Docker containers.
// It FAILS when Docker is unavailable.
//
// The topology, all made by the test and removed by it:
//
//	test network (docker bridge, unique name)
//	├── node containers (gantry/pause, label gantry.dev/node=<node>): each is
//	│   one node's network namespace; its kube-proxy runs inside it (nsenter),
//	│   so NodePort rules live there, never in this machine's iptables, and
//	│   its address is the node's InternalIP (the kubelet's --node-ip)
//	├── pod containers (the kubelets, run as processes here, put them on the
//	│   network)
//	└── the load balancer container the cloud-controller-manager starts
//
// The processes in the node namespaces reach the apiserver (which listens on
// 127.0.0.1) through a relay the test runs on its network's gateway address.
package ccm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var (
	repoRoot string
	binDir   string
	setupErr error
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	wd, _ := os.Getwd()
	repoRoot = filepath.Clean(filepath.Join(wd, "..", "..", ".."))
	dir, err := os.MkdirTemp("", "ccm-e2e-")
	if err != nil {
		setupErr = err
		return m.Run()
	}
	defer os.RemoveAll(dir)
	binDir = dir
	setupErr = setup()
	return m.Run()
}

// setup checks Docker, builds the images (pause, demo, lb) and the binaries.
func setup() error {
	if out, err := exec.Command("docker", "version", "--format", "{{.Server.APIVersion}}").CombinedOutput(); err != nil {
		return fmt.Errorf("docker is unavailable: %v: %s", err, out)
	}
	for _, tool := range []string{"nsenter", "iptables-restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is needed: %v", tool, err)
		}
	}
	if out, err := exec.Command(filepath.Join(repoRoot, "hack", "build-images.sh")).CombinedOutput(); err != nil {
		return fmt.Errorf("hack/build-images.sh: %v: %s", err, out)
	}
	if out, err := exec.Command(filepath.Join(repoRoot, "hack", "images", "lb", "build.sh")).CombinedOutput(); err != nil {
		return fmt.Errorf("hack/images/lb/build.sh: %v: %s", err, out)
	}
	for mod, name := range map[string]string{
		"scheduler": "scheduler", "controller-manager": "controller-manager",
		"cloud-controller-manager": "cloud-controller-manager", "kubelet": "kubelet", "kube-proxy": "kube-proxy",
	} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, name), "./cmd/"+name)
		cmd.Dir = filepath.Join(repoRoot, mod)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v: %s", name, err, out)
		}
	}
	return nil
}
