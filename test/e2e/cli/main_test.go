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

// gantryBin is the gantry binary under test.
var gantryBin string

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
	gantryBin = filepath.Join(dir, "gantry")
	build := exec.Command("go", "build", "-o", gantryBin, "github.com/gantryhq/gantry/cli/cmd/gantry")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "build gantry: %v\n", err)
		return 1
	}
	return m.Run()
}
