package kubelet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/kubelet/internal/runtime"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Waiting reasons of containers, as Kubernetes names them.
const (
	reasonContainerCreating = "ContainerCreating"
	reasonCrashLoopBackOff  = "CrashLoopBackOff"
	reasonErrImagePull      = "ErrImagePull"
	reasonImagePullBackOff  = "ImagePullBackOff"
	reasonErrImageNeverPull = "ErrImageNeverPull"
	reasonPodInitializing   = "PodInitializing"
)

// waiting is why a container does not run.
type waiting struct{ reason, message string }

// decision is what a sync decided for a pod.
type decision struct {
	actions runtime.Actions
	waiting map[string]waiting
	requeue time.Duration
}

func (d *decision) wait(name, reason, message string) {
	if d.waiting == nil {
		d.waiting = map[string]waiting{}
	}
	d.waiting[name] = waiting{reason, message}
}

func (d *decision) requeueAfter(t time.Duration) {
	if t > 0 && (d.requeue == 0 || t < d.requeue) {
		d.requeue = t
	}
}

func podKey(p *corev1.Pod) string {
	return p.GetMetadata().GetNamespace() + "/" + p.GetMetadata().GetName()
}

func isTerminal(phase string) bool { return phase == "Succeeded" || phase == "Failed" }

// gracePeriod is how long a deleted pod's containers get between SIGTERM
// and SIGKILL.
func gracePeriod(p *corev1.Pod) time.Duration {
	if g := p.GetMetadata().DeletionGracePeriodSeconds; g != nil {
		return time.Duration(max(*g, 0)) * time.Second
	}
	if g := p.GetSpec().TerminationGracePeriodSeconds; g != nil {
		return time.Duration(max(*g, 0)) * time.Second
	}
	return 30 * time.Second
}

// syncPod is the reconcile of one pod; see the package documentation.
func (k *Kubelet) syncPod(ctx context.Context, uid string) (time.Duration, bool, error) {
	k.mu.Lock()
	pod := k.pods[uid]
	gone := k.gone[uid]
	k.mu.Unlock()

	if pod == nil {
		return 0, true, k.removePod(ctx, uid, gone)
	}
	log := k.log.With(zap.String("pod", podKey(pod)), zap.String("uid", uid))

	if pod.GetMetadata().GetDeletionTimestamp() != nil {
		k.mu.Lock()
		done := k.terminated[uid]
		k.mu.Unlock()
		if done {
			return 0, false, nil // deleted; waiting for the informer to say so
		}
		return k.terminatePod(ctx, pod, log)
	}

	st, err := k.rt.PodStatus(ctx, uid)
	if err != nil {
		return 0, false, fmt.Errorf("read pod status: %w", err)
	}
	if isTerminal(pod.GetStatus().GetPhase()) {
		// A finished pod runs nothing more; stop what is left (its sandbox).
		if st.Running() {
			k.prober.removePod(uid)
			if err := k.rt.KillPod(ctx, uid, gracePeriod(pod)); err != nil {
				return 0, false, fmt.Errorf("stop finished pod: %w", err)
			}
		}
		return 0, false, nil
	}

	var deadlineIn time.Duration
	if ad := pod.GetSpec().ActiveDeadlineSeconds; ad != nil && pod.GetStatus().GetStartTime() != nil {
		deadlineIn = time.Until(pod.GetStatus().GetStartTime().AsTime().Add(time.Duration(*ad) * time.Second))
		if deadlineIn <= 0 {
			return 0, false, k.failPod(ctx, pod, "DeadlineExceeded", "Pod was active on the node longer than the specified deadline")
		}
	}

	d := k.computeActions(pod, st, time.Now())
	d.requeueAfter(deadlineIn)
	if !d.actions.Empty() {
		k.ensureImages(ctx, pod, &d)
		if !d.actions.Empty() {
			log.Debug("sync pod", zap.Bool("sandbox", d.actions.CreateSandbox), zap.Int("start", len(d.actions.Start)), zap.Int("kill", len(d.actions.Kill)))
			d.actions.Status = st
			k.nodeMu.Lock()
			d.actions.PodCIDR = k.podCIDR
			k.nodeMu.Unlock()
			res := k.rt.SyncPod(ctx, pod, &d.actions)
			if res.SandboxErr != nil {
				log.Warn("create pod sandbox", zap.Error(res.SandboxErr))
				for _, c := range pod.GetSpec().GetContainers() {
					d.wait(c.GetName(), reasonContainerCreating, res.SandboxErr.Error())
				}
				d.requeueAfter(2 * time.Second)
			}
			for _, sc := range d.actions.Start {
				if _, failed := res.StartErrors[sc.Container.GetName()]; !failed && res.SandboxErr == nil {
					k.cfg.Recorder.Eventf(pod, record.Normal, "Started", "Started container %s", sc.Container.GetName())
				}
			}
			for _, kc := range d.actions.Kill {
				if kc.Reason == "SpecChanged" {
					k.cfg.Recorder.Eventf(pod, record.Normal, "Killing", "Container %s definition changed, will be restarted", kc.Name)
					continue
				}
				k.cfg.Recorder.Eventf(pod, record.Normal, "Killing", "Container %s failed its liveness or startup probe, will be restarted", kc.Name)
			}
			for name, e := range res.StartErrors {
				k.cfg.Recorder.Eventf(pod, record.Warning, "Failed", "Error: %s", e.Error())
				d.wait(name, e.Reason, e.Err.Error())
				// A container that cannot start is retried with back-off,
				// as a crashing one is.
				key := uid + "/" + name
				k.mu.Lock()
				k.startErrs[key] = waiting{e.Reason, e.Err.Error()}
				k.mu.Unlock()
				d.requeueAfter(k.crashBackoff.next(key, time.Now()))
			}
			if st, err = k.rt.PodStatus(ctx, uid); err != nil {
				return 0, false, fmt.Errorf("read pod status: %w", err)
			}
			if k.runPostStart(ctx, pod, d.actions.Start, st) {
				if st, err = k.rt.PodStatus(ctx, uid); err != nil {
					return 0, false, fmt.Errorf("read pod status: %w", err)
				}
			}
		}
	}
	k.prober.sync(pod, st)
	status := k.generateStatus(pod, st, d.waiting)
	if isTerminal(status.GetPhase()) && st.Running() {
		k.prober.removePod(uid)
		if err := k.rt.KillPod(ctx, uid, gracePeriod(pod)); err != nil {
			return 0, false, fmt.Errorf("stop finished pod: %w", err)
		}
	}
	if err := k.updateStatus(ctx, pod, status); err != nil {
		return 0, false, err
	}
	if status.GetPhase() == "Running" {
		k.mu.Lock()
		if t, ok := k.firstSeen[uid]; ok {
			k.cfg.Metrics.podStart.Observe(time.Since(t).Seconds())
			delete(k.firstSeen, uid)
		}
		k.mu.Unlock()
	}
	return d.requeue, false, nil
}

// failPod kills a pod and marks it Failed with reason.
func (k *Kubelet) failPod(ctx context.Context, pod *corev1.Pod, reason, message string) error {
	uid := pod.GetMetadata().GetUid()
	k.prober.removePod(uid)
	k.cfg.Recorder.Event(pod, record.Warning, reason, message)
	if err := k.rt.KillPod(ctx, uid, gracePeriod(pod)); err != nil {
		return fmt.Errorf("kill pod: %w", err)
	}
	st, err := k.rt.PodStatus(ctx, uid)
	if err != nil {
		return fmt.Errorf("read pod status: %w", err)
	}
	status := k.generateStatus(pod, st, nil)
	status.Phase, status.Reason, status.Message = "Failed", reason, message
	for _, c := range status.GetConditions() {
		if c.GetType() == "Ready" || c.GetType() == "ContainersReady" {
			c.Status, c.Reason, c.Message = "False", "PodFailed", ""
		}
	}
	return k.updateStatus(ctx, pod, status)
}

// terminatePod kills a pod being deleted, removes its containers and then
// the pod object, with its uid as a precondition.
func (k *Kubelet) terminatePod(ctx context.Context, pod *corev1.Pod, log *zap.Logger) (time.Duration, bool, error) {
	uid := pod.GetMetadata().GetUid()
	grace := gracePeriod(pod)
	k.prober.removePod(uid)
	log.Info("killing pod", zap.Duration("grace", grace))
	for _, c := range pod.GetSpec().GetContainers() {
		k.cfg.Recorder.Eventf(pod, record.Normal, "Killing", "Stopping container %s", c.GetName())
	}
	grace = k.runPreStop(ctx, pod, grace, log)
	if err := k.rt.KillPod(ctx, uid, grace); err != nil {
		return 0, false, fmt.Errorf("kill pod: %w", err)
	}
	if err := k.rt.RemovePod(ctx, uid); err != nil {
		return 0, false, fmt.Errorf("remove pod containers: %w", err)
	}
	k.forget(uid)
	zero := int64(0)
	err := k.cs.Pods(pod.GetMetadata().GetNamespace()).Delete(ctx, pod.GetMetadata().GetName(), client.DeleteOptions{
		GracePeriodSeconds: &zero,
		Preconditions:      &client.Preconditions{UID: uid},
	})
	if err != nil && !client.IsNotFound(err) && !client.IsConflict(err) {
		return 0, false, fmt.Errorf("delete pod: %w", err)
	}
	log.Info("pod deleted")
	k.mu.Lock()
	k.terminated[uid] = true
	k.mu.Unlock()
	// The informer's delete event ends the worker; until then nothing runs.
	return 0, false, nil
}

// removePod removes the containers of a pod the apiserver no longer has.
func (k *Kubelet) removePod(ctx context.Context, uid string, last *corev1.Pod) error {
	k.prober.removePod(uid)
	grace := 2 * time.Second
	if last != nil {
		grace = min(gracePeriod(last), 30*time.Second)
	}
	st, err := k.rt.PodStatus(ctx, uid)
	if err != nil {
		return err
	}
	if !st.Empty() {
		k.log.Info("removing containers of deleted pod", zap.String("uid", uid), zap.String("pod", st.Namespace+"/"+st.Name))
		if err := k.rt.KillPod(ctx, uid, grace); err != nil {
			return err
		}
		if err := k.rt.RemovePod(ctx, uid); err != nil {
			return err
		}
	}
	k.forget(uid)
	k.mu.Lock()
	delete(k.gone, uid)
	k.mu.Unlock()
	return nil
}

func shouldRestart(policy string, exitCode int) bool {
	switch policy {
	case "Never":
		return false
	case "OnFailure":
		return exitCode != 0
	default:
		return true
	}
}

// computeActions decides what the runtime must do to pod, whose containers
// are as st says, at now.
func (k *Kubelet) computeActions(pod *corev1.Pod, st *runtime.PodStatus, now time.Time) decision {
	var d decision
	uid := pod.GetMetadata().GetUid()
	policy := pod.GetSpec().GetRestartPolicy()
	sandboxOK := st.Sandbox != nil && st.Sandbox.Running
	grace := gracePeriod(pod)

	type plan struct {
		c       *corev1.Container
		attempt int
	}
	var start []plan
	var running []plan

	// Init containers run one at a time, each to success, before the app
	// containers start.
	initDone := true
	for _, c := range pod.GetSpec().GetInitContainers() {
		name := c.GetName()
		latest := st.Latest(name)
		if latest != nil && latest.State == runtime.StateExited && latest.ExitCode == 0 {
			continue
		}
		initDone = false
		key := uid + "/" + name
		switch {
		case latest == nil:
			if in, wait := k.crashBackoff.inBackoff(key, k.crashBackoff.since(key), now); in {
				d.wait(name, reasonCrashLoopBackOff, "back-off starting init container "+name)
				d.requeueAfter(wait)
				break
			}
			start = append(start, plan{c, 0})
		case latest.State == runtime.StateExited:
			if policy == "Never" {
				break // the pod has failed
			}
			if in, wait := k.crashBackoff.inBackoff(key, latest.FinishedAt, now); in {
				d.wait(name, reasonCrashLoopBackOff, fmt.Sprintf("back-off %s restarting failed init container=%s pod=%s_%s(%s)",
					k.crashBackoff.current(key), name, pod.GetMetadata().GetName(), pod.GetMetadata().GetNamespace(), uid))
				d.requeueAfter(wait)
				break
			}
			k.crashBackoff.next(key, latest.FinishedAt)
			start = append(start, plan{c, latest.Attempt + 1})
		}
		break
	}
	if !initDone {
		for _, c := range pod.GetSpec().GetContainers() {
			d.wait(c.GetName(), reasonPodInitializing, "")
		}
		if len(start) > 0 && !sandboxOK {
			d.actions.CreateSandbox = true
			if st.Sandbox != nil {
				d.actions.SandboxAttempt = st.Sandbox.Attempt + 1
			}
		}
		for _, p := range start {
			d.actions.Start = append(d.actions.Start, runtime.StartContainer{Container: p.c, Attempt: p.attempt})
		}
		return d
	}

	for _, c := range pod.GetSpec().GetContainers() {
		name := c.GetName()
		latest := st.Latest(name)
		switch {
		case latest == nil:
			key := uid + "/" + name
			if in, wait := k.crashBackoff.inBackoff(key, k.crashBackoff.since(key), now); in {
				k.mu.Lock()
				e, ok := k.startErrs[key]
				k.mu.Unlock()
				if !ok {
					e = waiting{reason: reasonContainerCreating}
				}
				d.wait(name, e.reason, e.message)
				d.requeueAfter(wait)
				continue
			}
			start = append(start, plan{c, 0})
		case latest.State == runtime.StateRunning || latest.State == runtime.StateCreated:
			live := k.prober.result(uid, latest.ID, c, liveness)
			started := k.prober.result(uid, latest.ID, c, startup)
			if latest.State == runtime.StateRunning && (!live || (!started && k.prober.isSet(probeKey{uid, latest.ID, startup}, false))) {
				g := grace
				pr := c.GetLivenessProbe()
				if !started {
					pr = c.GetStartupProbe()
				}
				if pr.TerminationGracePeriodSeconds != nil {
					g = time.Duration(*pr.TerminationGracePeriodSeconds) * time.Second
				}
				d.actions.Kill = append(d.actions.Kill, runtime.KillContainer{ID: latest.ID, Name: name, Grace: g, Reason: "Unhealthy"})
				continue
			}
			if latest.Hash != "" && latest.Hash != runtime.ContainerHash(c) {
				// Its spec changed (a new image): run the new one.
				d.actions.Kill = append(d.actions.Kill, runtime.KillContainer{ID: latest.ID, Name: name, Grace: grace, Reason: "SpecChanged"})
				start = append(start, plan{c, latest.Attempt + 1})
				continue
			}
			running = append(running, plan{c, latest.Attempt + 1})
		default: // exited
			if !shouldRestart(policy, latest.ExitCode) {
				continue
			}
			key := uid + "/" + name
			if latest.FinishedAt.Sub(latest.StartedAt) > 2*k.cfg.CrashLoopBackOffMax {
				k.crashBackoff.reset(key) // it ran well for long: start over
			}
			if in, wait := k.crashBackoff.inBackoff(key, latest.FinishedAt, now); in {
				k.cfg.Recorder.Eventf(pod, record.Warning, "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)",
					name, pod.GetMetadata().GetName(), pod.GetMetadata().GetNamespace(), uid)
				d.wait(name, reasonCrashLoopBackOff, fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)",
					k.crashBackoff.current(key), name, pod.GetMetadata().GetName(), pod.GetMetadata().GetNamespace(), uid))
				d.requeueAfter(wait)
				continue
			}
			k.crashBackoff.next(key, latest.FinishedAt)
			start = append(start, plan{c, latest.Attempt + 1})
		}
	}
	if !sandboxOK && (len(start) > 0 || len(running) > 0) {
		d.actions.CreateSandbox = true
		if st.Sandbox != nil {
			d.actions.SandboxAttempt = st.Sandbox.Attempt + 1
			// The sandbox died: what ran in it runs again in the new one.
			start = append(start, running...)
		}
	}
	for _, p := range start {
		d.actions.Start = append(d.actions.Start, runtime.StartContainer{Container: p.c, Attempt: p.attempt})
		if p.attempt > 0 {
			k.cfg.Metrics.restarts.Inc()
		}
	}
	return d
}

// pullFailed holds container name back with ErrImagePull and starts or
// extends its pull back-off (key). The pod is synced again halfway through
// the back-off, so that its status moves on to ImagePullBackOff, and at
// its end.
func (k *Kubelet) pullFailed(d *decision, key, name string, err error, now time.Time) {
	d.wait(name, reasonErrImagePull, err.Error())
	d.requeueAfter(k.pullBackoff.next(key, now) / 2)
}

// ensureImages applies each started container's imagePullPolicy: it pulls
// what must be pulled and holds back (with ErrImagePull, ImagePullBackOff
// or ErrImageNeverPull) containers whose image is not there.
func (k *Kubelet) ensureImages(ctx context.Context, pod *corev1.Pod, d *decision) {
	uid := pod.GetMetadata().GetUid()
	kept := d.actions.Start[:0]
	for _, s := range d.actions.Start {
		c := s.Container
		name, image := c.GetName(), c.GetImage()
		key := uid + "/" + name
		now := time.Now()
		if in, wait := k.pullBackoff.inBackoff(key, k.pullBackoff.since(key), now); in {
			k.cfg.Recorder.Eventf(pod, record.Normal, "BackOff", "Back-off pulling image %q", image)
			d.wait(name, reasonImagePullBackOff, fmt.Sprintf("Back-off pulling image %q", image))
			d.requeueAfter(wait)
			continue
		}
		present, err := k.rt.ImagePresent(ctx, image)
		if err != nil {
			k.pullFailed(d, key, name, err, now)
			continue
		}
		policy := c.GetImagePullPolicy()
		if policy == "" {
			policy = "IfNotPresent"
		}
		pull := false
		switch policy {
		case "Never":
			if !present {
				d.wait(name, reasonErrImageNeverPull, fmt.Sprintf("Container image %q is not present with pull policy of Never", image))
				d.requeueAfter(k.cfg.ImagePullBackOffInitial)
				continue
			}
		case "Always":
			pull = true
			if present && k.cfg.ImagePullFallbackLocal && k.recentPullFailure(image, now) {
				pull = false
			}
		default:
			pull = !present
		}
		if pull {
			k.cfg.Recorder.Eventf(pod, record.Normal, "Pulling", "Pulling image %q", image)
			if err := k.rt.PullImage(ctx, image); err == nil {
				k.cfg.Recorder.Eventf(pod, record.Normal, "Pulled", "Successfully pulled image %q", image)
			} else {
				if present && k.cfg.ImagePullFallbackLocal {
					k.log.Info("pull failed; running the local image", zap.String("image", image), zap.Error(err))
					k.mu.Lock()
					k.pullFailures[image] = now
					k.mu.Unlock()
				} else {
					k.log.Info("pull failed", zap.String("pod", podKey(pod)), zap.String("image", image), zap.Error(err))
					k.cfg.Recorder.Eventf(pod, record.Warning, "Failed", "Failed to pull image %q: %v", image, err)
					k.pullFailed(d, key, name, err, now)
					continue
				}
			}
		} else {
			k.cfg.Recorder.Eventf(pod, record.Normal, "Pulled", "Container image %q already present on machine", image)
		}
		k.pullBackoff.reset(key)
		kept = append(kept, s)
	}
	d.actions.Start = kept
}

func (k *Kubelet) recentPullFailure(image string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, ok := k.pullFailures[image]
	return ok && now.Sub(t) < 5*time.Minute
}

// generateStatus is the pod status that st, the waiting reasons and the
// probe results make, merged with what the pod's status already holds
// (the scheduler's condition, transition times, start time).
func (k *Kubelet) generateStatus(pod *corev1.Pod, st *runtime.PodStatus, w map[string]waiting) *corev1.PodStatus {
	uid := pod.GetMetadata().GetUid()
	old := pod.GetStatus()
	out := &corev1.PodStatus{
		NominatedNodeName:  old.GetNominatedNodeName(),
		QosClass:           old.GetQosClass(),
		StartTime:          old.GetStartTime(),
		ObservedGeneration: pod.GetMetadata().GetGeneration(),
	}
	if out.StartTime == nil {
		out.StartTime = timestamppb.Now()
	}
	k.nodeMu.Lock()
	out.HostIp = k.hostIP
	k.nodeMu.Unlock()
	if out.HostIp != "" {
		out.HostIps = []*corev1.HostIP{{Ip: out.HostIp}}
	}
	if pod.GetSpec().GetHostNetwork() {
		out.PodIp = out.HostIp
	} else if st.Sandbox != nil && st.Sandbox.Running && st.Sandbox.IP != "" {
		out.PodIp = st.Sandbox.IP
	} else {
		out.PodIp = old.GetPodIp()
	}
	if out.PodIp != "" {
		out.PodIps = []*corev1.PodIP{{Ip: out.PodIp}}
	}
	oldStatuses := map[string]*corev1.ContainerStatus{}
	for _, cs := range old.GetContainerStatuses() {
		oldStatuses[cs.GetName()] = cs
	}

	oldInit := map[string]*corev1.ContainerStatus{}
	for _, cs := range old.GetInitContainerStatuses() {
		oldInit[cs.GetName()] = cs
	}
	var incomplete []string
	initFailed := false
	for _, c := range pod.GetSpec().GetInitContainers() {
		cs := k.containerStatus(uid, c, st, w, oldInit[c.GetName()])
		term := cs.GetState().GetTerminated()
		switch {
		case term != nil && term.GetExitCode() == 0:
			cs.Ready = true
		case term != nil || cs.GetLastState().GetTerminated().GetExitCode() != 0:
			initFailed = initFailed || term != nil
			incomplete = append(incomplete, c.GetName())
		default:
			incomplete = append(incomplete, c.GetName())
		}
		out.InitContainerStatuses = append(out.InitContainerStatuses, cs)
	}

	var waitingN, runningN, stoppedN, succeededN int
	var unready []string
	for _, c := range pod.GetSpec().GetContainers() {
		cs := k.containerStatus(uid, c, st, w, oldStatuses[c.GetName()])
		if !cs.Ready {
			unready = append(unready, c.GetName())
		}
		switch {
		case cs.State.Running != nil:
			runningN++
		case cs.State.Terminated != nil:
			stoppedN++
			if cs.State.Terminated.ExitCode == 0 {
				succeededN++
			}
		case cs.LastState.GetTerminated() != nil:
			stoppedN++
		default:
			waitingN++
		}
		out.ContainerStatuses = append(out.ContainerStatuses, cs)
	}

	policy := pod.GetSpec().GetRestartPolicy()
	switch {
	case isTerminal(old.GetPhase()):
		out.Phase = old.GetPhase()
	case initFailed && policy == "Never":
		out.Phase = "Failed"
	case len(incomplete) > 0:
		out.Phase = "Pending"
	case waitingN > 0:
		out.Phase = "Pending"
	case runningN > 0:
		out.Phase = "Running"
	case stoppedN > 0:
		switch {
		case policy == "Always" || policy == "":
			out.Phase = "Running"
		case stoppedN == succeededN:
			out.Phase = "Succeeded"
		case policy == "Never":
			out.Phase = "Failed"
		default:
			out.Phase = "Running"
		}
	default:
		out.Phase = "Pending"
	}

	oldConds := map[string]*corev1.PodCondition{}
	for _, c := range old.GetConditions() {
		oldConds[c.GetType()] = c
	}
	cond := func(typ string, ok bool, reason, message string) {
		status := "False"
		if ok {
			status, reason, message = "True", "", ""
		}
		c := &corev1.PodCondition{Type: typ, Status: status, Reason: reason, Message: message, LastTransitionTime: timestamppb.Now(), ObservedGeneration: out.ObservedGeneration}
		if o := oldConds[typ]; o != nil && o.GetStatus() == status && o.GetLastTransitionTime() != nil {
			c.LastTransitionTime = o.GetLastTransitionTime()
		}
		out.Conditions = append(out.Conditions, c)
	}
	if o := oldConds["PodScheduled"]; o != nil {
		out.Conditions = append(out.Conditions, o)
	} else {
		cond("PodScheduled", true, "", "")
	}
	cond("PodReadyToStartContainers", st.Sandbox != nil && st.Sandbox.Running, "", "")
	cond("Initialized", len(incomplete) == 0, "ContainersNotInitialized", fmt.Sprintf("containers with incomplete status: %v", incomplete))
	reason, message := "ContainersNotReady", fmt.Sprintf("containers with unready status: %v", unready)
	if isTerminal(out.Phase) {
		reason, message = "PodCompleted", ""
	}
	ready := len(unready) == 0 && !isTerminal(out.Phase)
	cond("ContainersReady", ready, reason, message)
	if ready {
		for _, g := range pod.GetSpec().GetReadinessGates() {
			if oc := oldConds[g.GetConditionType()]; oc == nil || oc.GetStatus() != "True" {
				ready, reason, message = false, "ReadinessGatesNotReady", "corresponding condition of pod readiness gate \""+g.GetConditionType()+"\" does not exist."
				break
			}
		}
	}
	cond("Ready", ready, reason, message)
	for _, c := range old.GetConditions() {
		switch c.GetType() {
		case "PodScheduled", "PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready":
		default:
			out.Conditions = append(out.Conditions, c) // readiness gates and others belong to their writers
		}
	}
	return out
}

// containerStatus is the status of container c as st, the waiting reasons
// and the probes say; old is its previous status, if any.
func (k *Kubelet) containerStatus(uid string, c *corev1.Container, st *runtime.PodStatus, w map[string]waiting, old *corev1.ContainerStatus) *corev1.ContainerStatus {
	name := c.GetName()
	cs := &corev1.ContainerStatus{Name: name, Image: c.GetImage(), State: &corev1.ContainerState{}, Started: proto.Bool(false)}
	latest := st.Latest(name)
	wt, hasWait := w[name]
	if latest == nil {
		if !hasWait {
			wt = waiting{reason: reasonContainerCreating}
		}
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: wt.reason, Message: wt.message}
		if old != nil {
			cs.RestartCount = old.GetRestartCount()
			cs.LastState = old.GetLastState()
		}
		return cs
	}
	cs.ContainerId = k.rt.Type() + "://" + latest.ID
	cs.ImageId = latest.ImageID
	cs.RestartCount = int32(latest.Attempt)
	if prev := st.Previous(name); prev != nil && prev.State == runtime.StateExited {
		cs.LastState = &corev1.ContainerState{Terminated: terminated(prev, k.rt.Type())}
	}
	switch latest.State {
	case runtime.StateRunning:
		started := k.prober.result(uid, latest.ID, c, startup)
		cs.Started = proto.Bool(started)
		cs.Ready = started && k.prober.result(uid, latest.ID, c, readiness)
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: timestamppb.New(latest.StartedAt)}
	case runtime.StateExited:
		term := terminated(latest, k.rt.Type())
		if hasWait {
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: wt.reason, Message: wt.message}
			cs.LastState = &corev1.ContainerState{Terminated: term}
		} else {
			cs.State.Terminated = term
		}
	default:
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: reasonContainerCreating}
	}
	return cs
}

func terminated(c *runtime.ContainerStatus, rtType string) *corev1.ContainerStateTerminated {
	reason := c.Reason
	if reason == "" {
		reason = "Completed"
		if c.ExitCode != 0 {
			reason = "Error"
		}
	}
	t := &corev1.ContainerStateTerminated{
		ExitCode:    int32(c.ExitCode),
		Reason:      reason,
		Message:     c.Message,
		ContainerId: rtType + "://" + c.ID,
	}
	if !c.StartedAt.IsZero() {
		t.StartedAt = timestamppb.New(c.StartedAt)
	}
	if !c.FinishedAt.IsZero() {
		t.FinishedAt = timestamppb.New(c.FinishedAt)
	}
	return t
}

// updateStatus writes status when it differs from the pod's.
func (k *Kubelet) updateStatus(ctx context.Context, pod *corev1.Pod, status *corev1.PodStatus) error {
	uid := pod.GetMetadata().GetUid()
	// Nothing to write when the cached pod already says so — unless a
	// write of ours that the cache has not caught up with said otherwise
	// (a stale cache must not hide that the last word was different).
	k.mu.Lock()
	last := k.written[uid]
	k.mu.Unlock()
	if proto.Equal(pod.GetStatus(), status) && (last == nil || proto.Equal(last, status)) {
		return nil
	}
	next := &corev1.Pod{Metadata: pod.GetMetadata(), Spec: pod.GetSpec(), Status: status}
	k.mu.Lock()
	k.written[uid] = status
	k.mu.Unlock()
	_, err := k.cs.Pods(pod.GetMetadata().GetNamespace()).UpdateStatus(ctx, next)
	switch {
	case err == nil:
		return nil
	case client.IsNotFound(err):
		return nil
	case client.IsConflict(err):
		// The cache is behind; its next event syncs again.
		k.mu.Lock()
		delete(k.written, uid)
		k.mu.Unlock()
		return errConflict
	default:
		k.mu.Lock()
		delete(k.written, uid)
		k.mu.Unlock()
		return fmt.Errorf("update pod status: %w", err)
	}
}

var errConflict = errors.New("pod status update conflict; retrying")

// forget drops the back-off state of the pod uid.
func (k *Kubelet) forget(uid string) {
	k.crashBackoff.resetPrefix(uid + "/")
	k.pullBackoff.resetPrefix(uid + "/")
	k.mu.Lock()
	for key := range k.startErrs {
		if strings.HasPrefix(key, uid+"/") {
			delete(k.startErrs, key)
		}
	}
	k.mu.Unlock()
}
