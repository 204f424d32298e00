package kubelet

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/kubelet/internal/runtime"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// runHook runs a lifecycle handler (exec, httpGet, tcpSocket or sleep)
// against a container; nil is success.
func (k *Kubelet) runHook(ctx context.Context, h *corev1.LifecycleHandler, c *corev1.Container, containerID, podIP string, timeout time.Duration) error {
	if s := h.GetSleep(); s != nil {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(s.GetSeconds()) * time.Second):
			return nil
		}
	}
	pr := &corev1.Probe{Exec: h.GetExec(), HttpGet: h.GetHttpGet(), TcpSocket: h.GetTcpSocket()}
	return k.prober.probe(ctx, pr, c, containerID, podIP, timeout)
}

func podIP(st *runtime.PodStatus) string {
	if st != nil && st.Sandbox != nil && st.Sandbox.Running {
		return st.Sandbox.IP
	}
	return ""
}

// runPreStop runs the preStop hooks of the pod's running containers, in
// parallel, within grace; it returns how much of grace is left for
// SIGTERM (at least 2s, as Kubernetes gives after a hook).
func (k *Kubelet) runPreStop(ctx context.Context, pod *corev1.Pod, grace time.Duration, log *zap.Logger) time.Duration {
	st, err := k.rt.PodStatus(ctx, pod.GetMetadata().GetUid())
	if err != nil {
		return grace
	}
	start := time.Now()
	hctx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	var wg sync.WaitGroup
	ran := false
	for _, c := range pod.GetSpec().GetContainers() {
		h := c.GetLifecycle().GetPreStop()
		latest := st.Latest(c.GetName())
		if h == nil || latest == nil || latest.State != runtime.StateRunning {
			continue
		}
		ran = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := k.runHook(hctx, h, c, latest.ID, podIP(st), grace); err != nil {
				log.Info("preStop hook failed", zap.String("container", c.GetName()), zap.Error(err))
				k.cfg.Recorder.Eventf(pod, record.Warning, "FailedPreStopHook", "PreStopHook failed for container %s: %v", c.GetName(), err)
			}
		}()
	}
	wg.Wait()
	if !ran {
		return grace
	}
	return max(grace-time.Since(start), 2*time.Second)
}

// runPostStart runs the postStart hooks of the containers just started;
// a container whose hook fails is killed (and restarted per the pod's
// restart policy). It reports whether it killed any.
func (k *Kubelet) runPostStart(ctx context.Context, pod *corev1.Pod, started []runtime.StartContainer, st *runtime.PodStatus) bool {
	var kill []runtime.KillContainer
	for _, s := range started {
		c := s.Container
		h := c.GetLifecycle().GetPostStart()
		latest := st.Latest(c.GetName())
		if h == nil || latest == nil || latest.State != runtime.StateRunning || latest.Attempt != s.Attempt {
			continue
		}
		if err := k.runHook(ctx, h, c, latest.ID, podIP(st), 30*time.Second); err != nil {
			k.cfg.Recorder.Eventf(pod, record.Warning, "FailedPostStartHook", "PostStartHook failed for container %s: %v", c.GetName(), err)
			kill = append(kill, runtime.KillContainer{ID: latest.ID, Name: c.GetName(), Grace: gracePeriod(pod), Reason: "FailedPostStartHook"})
		}
	}
	if len(kill) == 0 {
		return false
	}
	k.rt.SyncPod(ctx, pod, &runtime.Actions{Kill: kill, Status: st})
	return true
}
