package framework

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Binaries are the daemons a Cluster runs (each built from
// <repo>/<name>/cmd/<name>).
var Binaries = []string{"scheduler", "controller-manager", "cloud-controller-manager", "kubelet", "kube-proxy"}

// Setup checks Docker and the tools a Cluster needs, builds the images
// (BuildImages; the lb image) and builds Binaries into binDir. repoRoot is
// the repository's root.
func Setup(repoRoot, binDir string) error {
	for _, tool := range []string{"nsenter", "iptables-restore", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is needed: %v", tool, err)
		}
	}
	if err := BuildImages(repoRoot); err != nil {
		return err
	}
	if out, err := exec.Command(filepath.Join(repoRoot, "hack", "images", "lb", "build.sh")).CombinedOutput(); err != nil {
		return fmt.Errorf("hack/images/lb/build.sh: %v: %s", err, out)
	}
	return BuildBinaries(repoRoot, binDir, Binaries...)
}

// BuildImages checks that Docker answers and builds the pod images
// (hack/build-images.sh: pause, demo, busybox).
func BuildImages(repoRoot string) error {
	if out, err := exec.Command("docker", "version", "--format", "{{.Server.APIVersion}}").CombinedOutput(); err != nil {
		return fmt.Errorf("docker is unavailable: %v: %s", err, out)
	}
	if out, err := exec.Command(filepath.Join(repoRoot, "hack", "build-images.sh")).CombinedOutput(); err != nil {
		return fmt.Errorf("hack/build-images.sh: %v: %s", err, out)
	}
	return nil
}

// BuildBinaries builds the daemons names (each its module's cmd/<name>)
// into binDir, static and in parallel.
func BuildBinaries(repoRoot, binDir string, names ...string) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(names))
	for _, name := range names {
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

// Main runs an e2e suite from its TestMain: prepare gets the repository's
// root and a temp dir to build into (removed after the tests) and returns
// what to undo after them (may be nil). Its error does not stop the run:
// it is kept in *setupErr, and each test fails with it (a missing Docker
// fails, never skips).
func Main(m *testing.M, name string, setupErr *error, prepare func(repoRoot, dir string) (cleanup func(), err error)) int {
	wd, _ := os.Getwd()
	root := filepath.Clean(filepath.Join(wd, "..", "..", ".."))
	dir, err := os.MkdirTemp("", name+"-e2e-")
	if err != nil {
		*setupErr = err
		return m.Run()
	}
	defer os.RemoveAll(dir)
	cleanup, err := prepare(root, dir)
	if cleanup != nil {
		defer cleanup()
	}
	*setupErr = err
	return m.Run()
}
