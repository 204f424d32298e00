// Package cli is the end-to-end test of the gantry command: the real
// binary, built once in TestMain, driven against a real apiserver on an
// embedded etcd, as a user at a shell would drive it.
package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// gantryBin is the gantry binary under test; kubeletBin a kubelet, run
// with its fake runtime to serve logs and exec. binDir holds them and the
// other daemons hack/local-up-cluster.sh starts.
var gantryBin, kubeletBin, binDir string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gantry-e2e-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	gantryBin = filepath.Join(dir, "gantry")
	kubeletBin = filepath.Join(dir, "kubelet")
	for bin, pkg := range map[string]string{
		gantryBin:                                      "github.com/gantryhq/gantry/cli/cmd/gantry",
		kubeletBin:                                     "github.com/gantryhq/gantry/kubelet/cmd/kubelet",
		filepath.Join(dir, "apiserver"):                "github.com/gantryhq/gantry/apiserver/cmd/apiserver",
		filepath.Join(dir, "scheduler"):                "github.com/gantryhq/gantry/scheduler/cmd/scheduler",
		filepath.Join(dir, "controller-manager"):       "github.com/gantryhq/gantry/controller-manager/cmd/controller-manager",
		filepath.Join(dir, "cloud-controller-manager"): "github.com/gantryhq/gantry/cloud-controller-manager/cmd/cloud-controller-manager",
	} {
		build := exec.Command("go", "build", "-o", bin, pkg)
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n", pkg, err)
			return 1
		}
	}
	return m.Run()
}
