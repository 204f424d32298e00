package framework

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// Binaries are the daemons a Cluster runs (each built from
// <repo>/<name>/cmd/<name>).
var Binaries = []string{"scheduler", "controller-manager", "cloud-controller-manager", "kubelet", "kube-proxy"}

// Setup checks Docker and the tools a Cluster needs, builds the images
// (hack/build-images.sh: pause, demo, busybox; the lb image) and builds
// Binaries into binDir, in parallel. repoRoot is the repository's root.
func Setup(repoRoot, binDir string) error {
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
	var wg sync.WaitGroup
	errs := make(chan error, len(Binaries))
	for _, name := range Binaries {
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
