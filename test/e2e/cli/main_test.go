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
	// One go build for all of them: they share the build graph.
	build := exec.Command("go", "build", "-o", dir+string(os.PathSeparator),
		"github.com/gantryhq/gantry/cli/cmd/gantry",
		"github.com/gantryhq/gantry/kubelet/cmd/kubelet",
		"github.com/gantryhq/gantry/apiserver/cmd/apiserver",
		"github.com/gantryhq/gantry/scheduler/cmd/scheduler",
		"github.com/gantryhq/gantry/controller-manager/cmd/controller-manager",
		"github.com/gantryhq/gantry/cloud-controller-manager/cmd/cloud-controller-manager")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "build the binaries: %v\n", err)
		return 1
	}
	return m.Run()
}
