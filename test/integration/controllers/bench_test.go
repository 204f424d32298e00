package controllers

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/informer"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
	"github.com/gantryhq/gantry/test/integration/framework"
)

// controllerManagerBinary returns $CONTROLLER_MANAGER_BIN or builds the
// binary into dir.
func controllerManagerBinary(b *testing.B, dir string) string {
	if p := os.Getenv("CONTROLLER_MANAGER_BIN"); p != "" {
		return p
	}
	out := filepath.Join(dir, "controller-manager")
	cmd := exec.Command("go", "build", "-o", out, "github.com/gantryhq/gantry/controller-manager/cmd/controller-manager")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if o, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build controller-manager: %v\n%s", err, o)
	}
	return out
}

// cpuSeconds is a process's user+system CPU time so far.
func cpuSeconds(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// fields after the command: state(0) ... utime(11) stime(12)
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return (ut + st) / 100, nil // USER_HZ is 100 on Linux
}

// BenchmarkReplicaSet1000 scales a ReplicaSet from 0 to 1,000 pods with the
// controller-manager binary (every controller on) against an in-process
// apiserver and hollow nodes, and reports how long until all pods exist
// (create-1000-ms), until all are Running and Ready (running-1000-ms),
// and the controller-manager's CPU time over the scale (cm-cpu-s).
func BenchmarkReplicaSet1000(b *testing.B) {
	const n = 1000
	bin := controllerManagerBinary(b, b.TempDir())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// The apiserver and etcd log nothing: their slow-request warnings
		// would bury the figures.
		s := framework.StartAPIServer(b, apiservertest.Options{Logger: zap.NewNop()})
		cs := framework.Client(b, s)
		ctx, cancel := context.WithCancel(context.Background())
		h, err := StartHollow(ctx, cs, HollowOptions{Nodes: 10, Workers: 32, LeaseRenew: 5 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(bin, "--kubeconfig", s.ConfigPath, "--port", "0", "--leader-elect=false", "--log-level", "warn")
		logPath := filepath.Join(b.TempDir(), "controller-manager.log")
		logFile, err := os.Create(logPath)
		if err != nil {
			b.Fatal(err)
		}
		defer logFile.Close()
		cmd.Stderr = logFile
		b.Cleanup(func() {
			if b.Failed() {
				if out, err := os.ReadFile(logPath); err == nil {
					b.Logf("controller-manager log:\n%s", out)
				}
			}
		})
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		rs := &appsv1.ReplicaSet{
			Metadata: &metav1.ObjectMeta{Name: "bench", Namespace: "default"},
			Spec: &appsv1.ReplicaSetSpec{Replicas: ptr.To(int32(0)),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "bench"}}, Template: template("bench", "img:1")},
		}
		if _, err := cs.ReplicaSets("default").Create(ctx, rs); err != nil {
			b.Fatal(err)
		}
		// The controller-manager is up once it has written the status.
		deadline := time.Now().Add(60 * time.Second)
		for {
			r, err := cs.ReplicaSets("default").Get(ctx, "bench")
			if err == nil && r.GetStatus().GetObservedGeneration() == 1 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatal("controller-manager did not sync the replica set")
			}
			time.Sleep(20 * time.Millisecond)
		}

		var mu sync.Mutex
		created, running := map[string]bool{}, map[string]bool{}
		allCreated, allRunning := make(chan time.Time, 1), make(chan time.Time, 1)
		f := informer.NewFactory(cs)
		inf := f.Pods()
		see := func(p *corev1.Pod) {
			mu.Lock()
			defer mu.Unlock()
			k := p.GetMetadata().GetName()
			if !created[k] {
				created[k] = true
				if len(created) == n {
					allCreated <- time.Now()
				}
			}
			if !running[k] && p.GetStatus().GetPhase() == "Running" && isReady(p) {
				running[k] = true
				if len(running) == n {
					allRunning <- time.Now()
				}
			}
		}
		inf.AddEventHandler(informer.Handler[*corev1.Pod]{OnAdd: see, OnUpdate: func(_, p *corev1.Pod) { see(p) }})
		f.Start(ctx)
		f.WaitForCacheSync(ctx)

		cpu0, err := cpuSeconds(cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		err = client.RetryOnConflict(ctx, func() error {
			r, err := cs.ReplicaSets("default").Get(ctx, "bench")
			if err != nil {
				return err
			}
			r.Spec.Replicas = ptr.To(int32(n))
			_, err = cs.ReplicaSets("default").Update(ctx, r)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		timeout := time.After(5 * time.Minute)
		var createdAt, runningAt time.Time
		select {
		case createdAt = <-allCreated:
		case <-timeout:
			b.Fatalf("only %d pods created", len(created))
		}
		select {
		case runningAt = <-allRunning:
		case <-timeout:
			b.Fatalf("only %d pods running", len(running))
		}
		b.StopTimer()
		cpu1, err := cpuSeconds(cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(createdAt.Sub(start).Milliseconds()), "create-1000-ms")
		b.ReportMetric(float64(runningAt.Sub(start).Milliseconds()), "running-1000-ms")
		b.ReportMetric(cpu1-cpu0, "cm-cpu-s")

		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		cancel()
		h.Stop()
		f.Shutdown()
	}
}
