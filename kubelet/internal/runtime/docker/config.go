package docker

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/gantryhq/gantry/kubelet/internal/runtime"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// containerConfig turns a pod's container into Docker's create request:
// command and args (entrypoint and cmd), env (with $(VAR) references and
// the downward API's fieldRefs resolved), working dir, CPU and memory
// limits, volume mounts (emptyDir under the root dir, hostPath), and the
// sandbox's network and IPC namespaces.
func (r *Runtime) containerConfig(pod *corev1.Pod, c *corev1.Container, sandboxID string, attempt int, st *runtime.PodStatus) (*container.Config, *container.HostConfig, error) {
	env, err := envOf(pod, c, st)
	if err != nil {
		return nil, nil, err
	}
	cfg := &container.Config{
		Image:      c.GetImage(),
		Env:        env,
		WorkingDir: c.GetWorkingDir(),
		Labels:     r.labels(pod, c.GetName(), attempt),
		Tty:        c.GetTty(),
		OpenStdin:  c.GetStdin(),
		StdinOnce:  c.GetStdinOnce(),
	}
	cfg.Labels[runtime.LabelHash] = runtime.ContainerHash(c)
	vars := map[string]string{}
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		vars[k] = v
	}
	if len(c.GetCommand()) > 0 {
		cfg.Entrypoint = expandAll(c.GetCommand(), vars)
		cfg.Cmd = expandAll(c.GetArgs(), vars)
		if cfg.Cmd == nil {
			cfg.Cmd = []string{} // an explicit command drops the image's CMD
		}
	} else if len(c.GetArgs()) > 0 {
		cfg.Cmd = expandAll(c.GetArgs(), vars)
	}
	ns := container.NetworkMode("container:" + sandboxID)
	hc := &container.HostConfig{
		NetworkMode: ns,
		IpcMode:     container.IpcMode("container:" + sandboxID),
	}
	if pod.GetSpec().GetShareProcessNamespace() {
		hc.PidMode = container.PidMode("container:" + sandboxID)
	}
	if sc := c.GetSecurityContext(); sc != nil {
		hc.Privileged = sc.GetPrivileged()
		hc.ReadonlyRootfs = sc.GetReadOnlyRootFilesystem()
		if sc.RunAsUser != nil {
			cfg.User = strconv.FormatInt(sc.GetRunAsUser(), 10)
			if sc.RunAsGroup != nil {
				cfg.User += ":" + strconv.FormatInt(sc.GetRunAsGroup(), 10)
			}
		}
		if caps := sc.GetCapabilities(); caps != nil {
			hc.CapAdd, hc.CapDrop = caps.GetAdd(), caps.GetDrop()
		}
	}
	limits := c.GetResources().GetLimits()
	if q := limits["cpu"]; q != nil {
		v, err := resource.ParseQuantity(q.GetValue())
		if err != nil {
			return nil, nil, fmt.Errorf("resources.limits.cpu: %w", err)
		}
		hc.NanoCPUs = v.MilliValue() * 1_000_000
	}
	if q := limits["memory"]; q != nil {
		v, err := resource.ParseQuantity(q.GetValue())
		if err != nil {
			return nil, nil, fmt.Errorf("resources.limits.memory: %w", err)
		}
		hc.Memory = v.Value()
	}
	volumes := map[string]*corev1.Volume{}
	for _, v := range pod.GetSpec().GetVolumes() {
		volumes[v.GetName()] = v
	}
	for _, m := range c.GetVolumeMounts() {
		v := volumes[m.GetName()]
		if v == nil {
			return nil, nil, fmt.Errorf("volume mount %q: no such volume", m.GetName())
		}
		var src string
		switch {
		case v.GetEmptyDir() != nil:
			src = filepath.Join(r.podDir(pod.GetMetadata().GetUid()), "volumes", "empty-dir", v.GetName())
			if err := os.MkdirAll(src, 0o777); err != nil {
				return nil, nil, fmt.Errorf("emptyDir %q: %w", v.GetName(), err)
			}
			_ = os.Chmod(src, 0o777) // any user of the container may write, as Kubernetes' emptyDir
		case v.GetHostPath() != nil:
			src = v.GetHostPath().GetPath()
			switch v.GetHostPath().GetType() {
			case "DirectoryOrCreate":
				if err := os.MkdirAll(src, 0o755); err != nil {
					return nil, nil, fmt.Errorf("hostPath %q: %w", v.GetName(), err)
				}
			case "Directory", "File", "Socket":
				if _, err := os.Stat(src); err != nil {
					return nil, nil, fmt.Errorf("hostPath %q: %w", v.GetName(), err)
				}
			}
		default:
			return nil, nil, fmt.Errorf("volume %q: only emptyDir and hostPath volumes are supported", v.GetName())
		}
		sub := m.GetSubPath()
		if m.GetSubPathExpr() != "" {
			sub = expand(m.GetSubPathExpr(), vars)
		}
		if sub != "" {
			if strings.Contains(sub, "..") || filepath.IsAbs(sub) {
				return nil, nil, fmt.Errorf("volume mount %q: invalid subPath %q", m.GetName(), sub)
			}
			src = filepath.Join(src, sub)
			if v.GetEmptyDir() != nil {
				if err := os.MkdirAll(src, 0o777); err != nil {
					return nil, nil, err
				}
			}
		}
		bind := src + ":" + m.GetMountPath()
		if m.GetReadOnly() {
			bind += ":ro"
		}
		hc.Binds = append(hc.Binds, bind)
	}
	if path := c.GetTerminationMessagePath(); path != "" {
		// The container writes its termination message into a file of
		// the pod's directory, read back when it has exited.
		tm := r.terminationLog(pod.GetMetadata().GetUid(), c.GetName(), attempt)
		if err := os.MkdirAll(filepath.Dir(tm), 0o755); err != nil {
			return nil, nil, fmt.Errorf("termination message file: %w", err)
		}
		if err := os.WriteFile(tm, nil, 0o666); err != nil {
			return nil, nil, fmt.Errorf("termination message file: %w", err)
		}
		_ = os.Chmod(tm, 0o666)
		hc.Binds = append(hc.Binds, tm+":"+path)
		cfg.Labels[labelTerminationPolicy] = c.GetTerminationMessagePolicy()
	}
	return cfg, hc, nil
}

// labelTerminationPolicy remembers the container's terminationMessagePolicy.
const labelTerminationPolicy = "io.gantry.container.termination-message-policy"

func (r *Runtime) terminationLog(uid, name string, attempt int) string {
	return filepath.Join(r.podDir(uid), "containers", name, strconv.Itoa(attempt), "termination-log")
}

// envOf is the container's environment, with fieldRefs resolved.
func envOf(pod *corev1.Pod, c *corev1.Container, st *runtime.PodStatus) ([]string, error) {
	vars := map[string]string{}
	var out []string
	for _, e := range c.GetEnv() {
		v := expand(e.GetValue(), vars)
		if src := e.GetValueFrom(); src != nil {
			f := src.GetFieldRef()
			if f == nil {
				return nil, fmt.Errorf("env %s: only fieldRef sources are supported", e.GetName())
			}
			var err error
			if v, err = fieldValue(pod, f.GetFieldPath(), st); err != nil {
				return nil, fmt.Errorf("env %s: %w", e.GetName(), err)
			}
		}
		vars[e.GetName()] = v
		out = append(out, e.GetName()+"="+v)
	}
	return out, nil
}

func fieldValue(pod *corev1.Pod, path string, st *runtime.PodStatus) (string, error) {
	m := pod.GetMetadata()
	switch path {
	case "metadata.name":
		return m.GetName(), nil
	case "metadata.namespace":
		return m.GetNamespace(), nil
	case "metadata.uid":
		return m.GetUid(), nil
	case "spec.nodeName":
		return pod.GetSpec().GetNodeName(), nil
	case "spec.serviceAccountName":
		return pod.GetSpec().GetServiceAccountName(), nil
	case "status.hostIP":
		return pod.GetStatus().GetHostIp(), nil
	case "status.podIP":
		if st != nil && st.Sandbox != nil && st.Sandbox.IP != "" {
			return st.Sandbox.IP, nil
		}
		return pod.GetStatus().GetPodIp(), nil
	}
	if k, ok := strings.CutPrefix(path, "metadata.labels['"); ok {
		return m.GetLabels()[strings.TrimSuffix(k, "']")], nil
	}
	if k, ok := strings.CutPrefix(path, "metadata.annotations['"); ok {
		return m.GetAnnotations()[strings.TrimSuffix(k, "']")], nil
	}
	return "", fmt.Errorf("unsupported fieldPath %q", path)
}

var varRef = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)`)

// expand replaces $(VAR) with vars' value (unknown references stay) and
// $$ with $, as Kubernetes does.
func expand(s string, vars map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		if v, ok := vars[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

func expandAll(in []string, vars map[string]string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = expand(s, vars)
	}
	return out
}
