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
	"os"
	"testing"

	"github.com/gantryhq/gantry/test/e2e/framework"
)

var (
	binDir   string
	setupErr error
)

func TestMain(m *testing.M) {
	os.Exit(framework.Main(m, "ccm", &setupErr, func(repoRoot, dir string) (func(), error) {
		binDir = dir
		return nil, framework.Setup(repoRoot, dir)
	}))
}
