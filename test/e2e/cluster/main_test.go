// Package cluster is Gantry's end-to-end suite (issue 9): one cluster made
// of the real binaries — an in-process apiserver on embedded etcd, the
// scheduler, controller-manager and cloud-controller-manager (docker
// provider), and two nodes, each a kubelet plus a kube-proxy running inside
// a node container's network namespace — with pods and load balancers as
// real Docker containers. The scenarios run in order on that one cluster
// (see TestCluster). It FAILS when Docker is unavailable.
//
// The topology, all made by the test and removed by it:
//
//	test network (docker bridge, unique name)
//	├── node containers (gantry/pause, label gantry.dev/node=<node>): each is
//	│   one node's network namespace; its kube-proxy runs inside it (nsenter),
//	│   so Service rules live there, never in this machine's iptables
//	├── pod containers (the kubelets, run as processes here, put them there)
//	└── the load balancer container the cloud-controller-manager starts
//
// The processes in the node namespaces reach the apiserver (which listens on
// 127.0.0.1) through a relay on the network's gateway address. A pod that
// needs a Service's cluster IP gets a route to it through its node's address
// (added by the test inside that pod's network namespace): on one machine
// the compose cluster sends that traffic through the host's kube-proxy, which
// a test may not touch.
package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	repoRoot string
	binDir   string
	setupErr error
)

// v2Image is gantry/demo:latest tagged again for the rolling update; the
// tag is removed after the run.
const v2Image = "gantry/demo:e2e-v2"

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	wd, _ := os.Getwd()
	repoRoot = filepath.Clean(filepath.Join(wd, "..", "..", ".."))
	dir, err := os.MkdirTemp("", "cluster-e2e-")
	if err != nil {
		setupErr = err
		return m.Run()
	}
	defer os.RemoveAll(dir)
	binDir = dir
	setupErr = setup()
	defer func() { _ = exec.Command("docker", "rmi", v2Image).Run() }()
	return m.Run()
}

// setup checks Docker and the tools, builds the images (pause, demo,
// busybox, lb) and the binaries (in parallel).
func setup() error {
	if out, err := exec.Command("docker", "version", "--format", "{{.Server.APIVersion}}").CombinedOutput(); err != nil {
		return fmt.Errorf("docker is unavailable: %v: %s", err, out)
	}
	for _, tool := range []string{"nsenter", "iptables-restore", "ip"} {
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
	if out, err := exec.Command("docker", "tag", "gantry/demo:latest", v2Image).CombinedOutput(); err != nil {
		return fmt.Errorf("docker tag: %v: %s", err, out)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for _, name := range []string{"scheduler", "controller-manager", "cloud-controller-manager", "kubelet", "kube-proxy"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, name), "./cmd/"+name)
			cmd.Dir = filepath.Join(repoRoot, name)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("build %s: %v: %s", name, err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
