package kubelet

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/podexec"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func httpProbe(path string, port int32) *corev1.Probe {
	return &corev1.Probe{
		HttpGet:        &corev1.HTTPGetAction{Path: path, Port: &metav1.IntOrString{Value: &metav1.IntOrString_IntVal{IntVal: port}}},
		PeriodSeconds:  1,
		TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1,
	}
}

func TestPodRunsWithIP(t *testing.T) {
	e := newEnv(t)
	p := e.pod("web", "gantry/demo:latest", "--message=hello from e2e")
	p.Spec.Containers[0].Env = []*corev1.EnvVar{{Name: "GREETING", Value: "hi"}}
	p.Spec.Containers[0].ReadinessProbe = httpProbe("/healthz", 8080)
	p.Spec.Containers[0].Resources = &corev1.ResourceRequirements{Limits: map[string]*metav1.Quantity{"memory": {Value: "64Mi"}, "cpu": {Value: "500m"}}}
	p.Spec.Volumes = []*corev1.Volume{{Name: "scratch", EmptyDir: &corev1.EmptyDirVolumeSource{}}}
	p.Spec.Containers[0].VolumeMounts = []*corev1.VolumeMount{{Name: "scratch", MountPath: "/scratch"}}
	e.create(p)
	p = e.waitPod("web", "Running and Ready", 60*time.Second, func(p *corev1.Pod) bool {
		return p.GetStatus().GetPhase() == "Running" && condition(p, "Ready") == "True"
	})
	st := p.GetStatus()
	if st.GetPodIp() == "" || st.GetHostIp() != "127.0.0.1" || st.GetStartTime() == nil {
		t.Fatalf("status: %v", st)
	}
	for _, c := range []string{"PodScheduled", "Initialized", "ContainersReady", "Ready"} {
		if condition(p, c) != "True" {
			t.Errorf("condition %s = %q", c, condition(p, c))
		}
	}
	cs := containerStatus(p)
	if !strings.HasPrefix(cs.GetContainerId(), "docker://") || cs.GetState().GetRunning() == nil || !cs.GetReady() {
		t.Errorf("container status: %v", cs)
	}
	// The pod answers on its IP, from the host.
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + st.GetPodIp() + ":8080/")
	if err != nil {
		t.Fatalf("GET pod: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "pod IP: "+st.GetPodIp()) || !strings.Contains(string(body), "hostname: web") || !strings.Contains(string(body), "hello from e2e") {
		t.Errorf("answer: %q", body)
	}
	// Every container is labelled; the app container has its limits, env
	// and volume, and joins the pause container's network.
	id := strings.TrimPrefix(cs.GetContainerId(), "docker://")
	got := docker(t, "inspect", "--format",
		`{{index .Config.Labels "io.gantry.pod.uid"}} {{index .Config.Labels "io.gantry.pod.namespace"}} {{index .Config.Labels "io.gantry.pod.name"}} {{index .Config.Labels "io.gantry.container.name"}} {{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.NetworkMode}}`, id)
	fields := strings.Fields(got)
	if len(fields) != 7 || fields[0] != p.GetMetadata().GetUid() || fields[1] != "default" || fields[2] != "web" || fields[3] != "main" ||
		fields[4] != "67108864" || fields[5] != "500000000" || !strings.HasPrefix(fields[6], "container:") {
		t.Errorf("app container: %s", got)
	}
	sandbox := strings.TrimPrefix(fields[6], "container:")
	if name := docker(t, "inspect", "--format", `{{index .Config.Labels "io.gantry.container.name"}} {{.Config.Image}}`, sandbox); name != "POD gantry/pause:latest" {
		t.Errorf("sandbox: %s", name)
	}
	if env := docker(t, "inspect", "--format", `{{range .Config.Env}}{{.}} {{end}}`, id); !strings.Contains(env, "GREETING=hi") {
		t.Errorf("env: %s", env)
	}
	// The node lists its images.
	e.waitFor("node images", 20*time.Second, func() (bool, string) {
		n, err := e.cs.Nodes().Get(context.Background(), e.node)
		if err != nil {
			return false, err.Error()
		}
		for _, im := range n.GetStatus().GetImages() {
			for _, name := range im.GetNames() {
				if name == "gantry/demo:latest" && im.GetSizeBytes() > 0 {
					return true, ""
				}
			}
		}
		return false, fmt.Sprint(n.GetStatus().GetImages())
	})
}

func TestLivenessProbeRestartsContainer(t *testing.T) {
	e := newEnv(t)
	p := e.pod("live", "gantry/demo:latest", "--fail-healthz-after=3s")
	p.Spec.Containers[0].LivenessProbe = httpProbe("/healthz", 8080)
	e.create(p)
	e.waitPod("live", "Running", 60*time.Second, func(p *corev1.Pod) bool { return p.GetStatus().GetPhase() == "Running" })
	p = e.waitPod("live", "restarted by its liveness probe", 30*time.Second, func(p *corev1.Pod) bool {
		cs := containerStatus(p)
		return cs.GetRestartCount() >= 1 && cs.GetLastState().GetTerminated() != nil
	})
	if ph := p.GetStatus().GetPhase(); ph != "Running" {
		t.Errorf("phase %s", ph)
	}
}

func TestCrashLoopBackOff(t *testing.T) {
	e := newEnv(t)
	p := e.pod("crash", "busybox:latest")
	p.Spec.Containers[0].Command = []string{"sh", "-c", "echo crashing; exit 3"}
	e.create(p)
	var restarts []time.Time
	sawBackOff := false
	last := int32(-1)
	e.waitFor("four restarts", 60*time.Second, func() (bool, string) {
		p := e.get("crash")
		cs := containerStatus(p)
		if cs.GetState().GetWaiting().GetReason() == "CrashLoopBackOff" {
			sawBackOff = true
		}
		if cs.GetRestartCount() != last {
			last = cs.GetRestartCount()
			restarts = append(restarts, time.Now())
		}
		return cs.GetRestartCount() >= 4, fmt.Sprint(cs)
	})
	if !sawBackOff {
		t.Error("never saw CrashLoopBackOff")
	}
	p = e.get("crash")
	if term := containerStatus(p).GetLastState().GetTerminated(); term.GetExitCode() != 3 {
		t.Errorf("lastState: %v", containerStatus(p).GetLastState())
	}
	// The previous instance's logs, through the apiserver.
	var prev bytes.Buffer
	if err := podexec.Logs(context.Background(), e.cs.Conn(), podexec.LogOptions{Namespace: "default", Name: "crash", Previous: true}, &prev, io.Discard); err != nil || prev.String() != "crashing\n" {
		t.Errorf("previous logs: %v %q", err, prev.String())
	}
	// Back-off 1s, 2s, 4s: later gaps between restarts are longer.
	n := len(restarts)
	if n < 4 {
		t.Fatalf("restarts seen: %v", restarts)
	}
	early, late := restarts[n-3].Sub(restarts[n-4]), restarts[n-1].Sub(restarts[n-2])
	if late < early+time.Second {
		t.Errorf("back-off does not grow: gap %v then %v", early, late)
	}
}

func TestRestartPolicyNever(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, phase string
		code        int32
	}{{"ok", "Succeeded", 0}, {"fail", "Failed", 1}} {
		p := e.pod(tc.name, "busybox:latest")
		p.Spec.RestartPolicy = "Never"
		p.Spec.Containers[0].Command = []string{"sh", "-c", "sleep 1; printf " + tc.name + " > /dev/termination-log; exit " + fmt.Sprint(tc.code)}
		e.create(p)
	}
	for _, tc := range []struct {
		name, phase string
		code        int32
	}{{"ok", "Succeeded", 0}, {"fail", "Failed", 1}} {
		p := e.waitPod(tc.name, tc.phase, 60*time.Second, func(p *corev1.Pod) bool { return p.GetStatus().GetPhase() == tc.phase })
		cs := containerStatus(p)
		if cs.GetState().GetTerminated().GetExitCode() != tc.code || cs.GetRestartCount() != 0 || cs.GetState().GetTerminated().GetMessage() != tc.name {
			t.Errorf("%s: container status %v", tc.name, cs)
		}
	}
}

func TestMissingImage(t *testing.T) {
	e := newEnv(t)
	e.create(e.pod("nope", "gantry/does-not-exist:1"))
	e.waitPod("nope", "ErrImagePull", 60*time.Second, func(p *corev1.Pod) bool {
		return containerStatus(p).GetState().GetWaiting().GetReason() == "ErrImagePull"
	})
	p := e.waitPod("nope", "ImagePullBackOff", 30*time.Second, func(p *corev1.Pod) bool {
		return containerStatus(p).GetState().GetWaiting().GetReason() == "ImagePullBackOff"
	})
	if p.GetStatus().GetPhase() != "Pending" {
		t.Errorf("phase %s", p.GetStatus().GetPhase())
	}
}

func TestGracefulDeletion(t *testing.T) {
	e := newEnv(t)
	p := e.pod("slow", "gantry/demo:latest", "--term-delay=1h")
	p.Spec.TerminationGracePeriodSeconds = proto.Int64(3)
	e.create(p)
	p = e.waitPod("slow", "Running", 60*time.Second, func(p *corev1.Pod) bool { return p.GetStatus().GetPhase() == "Running" })
	id := strings.TrimPrefix(containerStatus(p).GetContainerId(), "docker://")

	// Follow the container's kill signals.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := exec.CommandContext(ctx, "docker", "events", "--filter", "container="+id, "--filter", "event=kill", "--format", "{{.Actor.Attributes.signal}}")
	out, _ := ev.StdoutPipe()
	if err := ev.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = ev.Wait() }()
	type sig struct {
		at  time.Time
		sig string
	}
	sigs := make(chan sig, 8)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			sigs <- sig{time.Now(), strings.TrimSpace(sc.Text())}
		}
	}()
	time.Sleep(300 * time.Millisecond) // let the events stream start

	start := time.Now()
	if err := e.cs.Pods("default").Delete(ctx, "slow", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	var term, kill time.Time
	timeout := time.After(20 * time.Second)
	for kill.IsZero() {
		select {
		case s := <-sigs:
			switch s.sig {
			case "15":
				term = s.at
			case "9":
				kill = s.at
			}
		case <-timeout:
			t.Fatalf("no SIGKILL (SIGTERM at %v)", term)
		}
	}
	if term.IsZero() || term.Sub(start) > 2*time.Second {
		t.Errorf("SIGTERM %v after the delete, want at once", term.Sub(start))
	}
	if g := kill.Sub(term); g < 2500*time.Millisecond || g > 5*time.Second {
		t.Errorf("SIGKILL %v after SIGTERM, want about the 3s grace period", g)
	}
	e.waitFor("pod removed", 20*time.Second, func() (bool, string) {
		_, err := e.cs.Pods("default").Get(ctx, "slow")
		return client.IsNotFound(err), fmt.Sprint(err)
	})
	if left := docker(t, "ps", "-aq", "--filter", "label=io.gantry.pod.uid="+p.GetMetadata().GetUid()); left != "" {
		t.Errorf("containers left: %s", left)
	}
}

func TestLogsAndExecThroughAPIServer(t *testing.T) {
	e := newEnv(t)
	p := e.pod("shell", "busybox:latest")
	p.Spec.Containers[0].Command = []string{"sh", "-c", "echo line-1; echo err-1 >&2; sleep 0.5; echo line-2; sleep 3600"}
	e.create(p)
	e.waitPod("shell", "Running", 60*time.Second, func(p *corev1.Pod) bool { return p.GetStatus().GetPhase() == "Running" })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := e.cs.Conn()

	var stdout, stderr bytes.Buffer
	e.waitFor("logs", 10*time.Second, func() (bool, string) {
		stdout.Reset()
		stderr.Reset()
		err := podexec.Logs(ctx, conn, podexec.LogOptions{Namespace: "default", Name: "shell"}, &stdout, &stderr)
		return err == nil && stdout.String() == "line-1\nline-2\n" && stderr.String() == "err-1\n", fmt.Sprintf("%v %q %q", err, stdout.String(), stderr.String())
	})
	tail := int64(1)
	stdout.Reset()
	if err := podexec.Logs(ctx, conn, podexec.LogOptions{Namespace: "default", Name: "shell", TailLines: &tail}, &stdout, io.Discard); err != nil || stdout.String() != "line-2\n" {
		t.Errorf("tail 1: %v %q", err, stdout.String())
	}
	stdout.Reset()
	if err := podexec.Logs(ctx, conn, podexec.LogOptions{Namespace: "default", Name: "shell", Timestamps: true}, &stdout, io.Discard); err != nil || !strings.Contains(stdout.String(), "Z line-1") {
		t.Errorf("timestamps: %v %q", err, stdout.String())
	}
	// Follow streams what is written later.
	fctx, fcancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	go func() {
		_ = podexec.Logs(fctx, conn, podexec.LogOptions{Namespace: "default", Name: "shell", Follow: true}, pw, io.Discard)
		pw.Close()
	}()
	code, err := podexec.Exec(ctx, conn, podexec.ExecOptions{Namespace: "default", Name: "shell", Command: []string{"sh", "-c", "echo followed > /proc/1/fd/1"}})
	if err != nil || code != 0 {
		t.Fatalf("exec write to PID 1's stdout: %d %v", code, err)
	}
	sc := bufio.NewScanner(pr)
	found := false
	for sc.Scan() {
		if sc.Text() == "followed" {
			found = true
			break
		}
	}
	fcancel()
	if !found {
		t.Error("follow did not see the new line")
	}

	// Exec: stdin in, stdout and stderr out, exit code back.
	stdout.Reset()
	stderr.Reset()
	code, err = podexec.Exec(ctx, conn, podexec.ExecOptions{
		Namespace: "default", Name: "shell",
		Command: []string{"sh", "-c", "cat; echo oops >&2; exit 7"},
		Stdin:   strings.NewReader("from stdin\n"),
		Stdout:  &stdout, Stderr: &stderr,
	})
	if err != nil || code != 7 || stdout.String() != "from stdin\n" || stderr.String() != "oops\n" {
		t.Errorf("exec: code %d err %v stdout %q stderr %q", code, err, stdout.String(), stderr.String())
	}
	// Errors: no such pod; previous logs of a container that never restarted.
	_, err = podexec.Exec(ctx, conn, podexec.ExecOptions{Namespace: "default", Name: "nope", Command: []string{"true"}})
	if status.Code(err) != codes.NotFound {
		t.Errorf("exec in a missing pod: %v", err)
	}
	err = podexec.Logs(ctx, conn, podexec.LogOptions{Namespace: "default", Name: "shell", Previous: true}, io.Discard, io.Discard)
	if status.Code(err) != codes.NotFound {
		t.Errorf("previous logs: %v", err)
	}
}

func TestKubeletRestartRestartsNothing(t *testing.T) {
	e := newEnv(t)
	p := e.pod("steady", "gantry/demo:latest")
	p.Spec.Containers[0].ReadinessProbe = httpProbe("/healthz", 8080)
	e.create(p)
	p = e.waitPod("steady", "Ready", 60*time.Second, func(p *corev1.Pod) bool { return condition(p, "Ready") == "True" })
	before := containerStatus(p)
	ids := docker(t, "ps", "-q", "--no-trunc", "--filter", "label=io.gantry.pod.uid="+p.GetMetadata().GetUid())

	e.stopKubelet(syscall.SIGKILL)
	e.startKubelet()
	time.Sleep(6 * time.Second)
	e.waitNodeReady()
	after := containerStatus(e.get("steady"))
	if after.GetContainerId() != before.GetContainerId() || after.GetRestartCount() != 0 || !after.GetReady() {
		t.Errorf("container after the kubelet restart: %v, before: %v", after, before)
	}
	if now := docker(t, "ps", "-q", "--no-trunc", "--filter", "label=io.gantry.pod.uid="+p.GetMetadata().GetUid()); now != ids {
		t.Errorf("containers changed: %q, were %q", now, ids)
	}
	if condition(e.get("steady"), "Ready") != "True" {
		t.Error("pod not Ready after the kubelet restart")
	}
}

func TestPodIPFromNodePodCIDR(t *testing.T) {
	e := newEnvSubnet(t, "10.213.0.0/16")
	ctx := context.Background()
	err := client.RetryOnConflict(ctx, func() error {
		n, err := e.cs.Nodes().Get(ctx, e.node)
		if err != nil {
			return err
		}
		n.Spec.PodCidr = "10.213.7.0/24"
		n.Spec.PodCidrs = []string{"10.213.7.0/24"}
		_, err = e.cs.Nodes().Update(ctx, n)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the kubelet's node informer hears of it
	// A burst: the sandboxes start at once, and must still get distinct
	// addresses.
	names := []string{"a", "b", "c", "d", "e", "f"}
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.cs.Pods("default").Create(ctx, e.pod(name, "gantry/pause:latest")); err != nil {
				t.Errorf("create pod %s: %v", name, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	ips := map[string]string{}
	for _, name := range names {
		p := e.waitPod(name, "Running", 90*time.Second, func(p *corev1.Pod) bool { return p.GetStatus().GetPhase() == "Running" })
		ip := p.GetStatus().GetPodIp()
		if !strings.HasPrefix(ip, "10.213.7.") || ip == "10.213.7.0" || ip == "10.213.7.1" {
			t.Errorf("pod %s IP %s, want one of 10.213.7.0/24 past the gateway", name, ip)
		}
		if other, dup := ips[ip]; dup {
			t.Errorf("pods %s and %s share IP %s", other, name, ip)
		}
		ips[ip] = name
	}
}

func TestFakeRuntimeBinary(t *testing.T) {
	e := newEnv(t, "--runtime=fake", "--node-labels=pool=hollow", "--register-with-taints=dedicated=hollow:NoSchedule", "--capacity=cpu=64,pods=500")
	n, err := e.cs.Nodes().Get(context.Background(), e.node)
	if err != nil {
		t.Fatal(err)
	}
	if n.GetMetadata().GetLabels()["pool"] != "hollow" || len(n.GetSpec().GetTaints()) != 1 ||
		n.GetStatus().GetCapacity()["cpu"].GetValue() != "64" || n.GetStatus().GetNodeInfo().GetContainerRuntimeVersion() != "fake://0.0.0" {
		t.Errorf("node: %v %v", n.GetMetadata().GetLabels(), n.GetStatus())
	}
	e.create(e.pod("hollow", "no-such-image:anywhere"))
	p := e.waitPod("hollow", "Running", 30*time.Second, func(p *corev1.Pod) bool { return p.GetStatus().GetPhase() == "Running" })
	if !strings.HasPrefix(p.GetStatus().GetPodIp(), "10.200.") {
		t.Errorf("pod IP %s", p.GetStatus().GetPodIp())
	}
	if out := docker(t, "ps", "-aq", "--filter", "label=io.gantry.node="+e.node); out != "" {
		t.Errorf("the fake runtime made containers: %s", out)
	}
}
