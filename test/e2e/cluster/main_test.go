// Package cluster is Gantry's end-to-end suite (issue 9): one cluster made
// of the real binaries (test/e2e/framework) — an in-process apiserver on
// embedded etcd, the scheduler, controller-manager and
// cloud-controller-manager (docker provider), and two nodes, each a kubelet
// plus a kube-proxy running inside a node container's network namespace —
// with pods and load balancers as real Docker containers. The scenarios run
// in order on that one cluster (see TestCluster). It FAILS when Docker is
// unavailable.
//
// A pod that needs a Service's cluster IP gets a route to it through its
// node's address (added by the test inside that pod's network namespace):
// on one machine the compose cluster sends that traffic through the host's
// kube-proxy, which a test may not touch. The node kube-proxies run with
// --masquerade-all so that the answers come back the same way.
package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/gantryhq/gantry/test/e2e/framework"
)

var (
	binDir   string
	setupErr error
)

// v2Image is gantry/demo:latest tagged again for the rolling update (per
// process, so that runs side by side do not untag each other's); the tag is
// removed after the run.
var v2Image = fmt.Sprintf("gantry/demo:e2e-v2-%d", os.Getpid())

func TestMain(m *testing.M) {
	os.Exit(framework.Main(m, "cluster", &setupErr, func(repoRoot, dir string) (func(), error) {
		binDir = dir
		if err := framework.Setup(repoRoot, dir); err != nil {
			return nil, err
		}
		if out, err := exec.Command("docker", "tag", "gantry/demo:latest", v2Image).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("docker tag: %v: %s", err, out)
		}
		return func() { _ = exec.Command("docker", "rmi", v2Image).Run() }, nil
	}))
}

// newCluster starts the cluster's control plane with short periods: node
// grace 6s (kubelet Leases renewed every second), cron jobs checked every
// 2s.
func newCluster(t *testing.T) *framework.Cluster {
	t.Helper()
	if setupErr != nil {
		t.Fatalf("setup: %v", setupErr)
	}
	return framework.Start(t, framework.Options{
		BinDir:                binDir,
		Prefix:                "cluster",
		ControllerManagerArgs: []string{"--node-monitor-grace-period=6s", "--cronjob-resync-period=2s"},
		KubeletArgs:           []string{"--node-lease-duration-seconds=6"},
		KubeProxyArgs:         []string{"--masquerade-all"},
	})
}
