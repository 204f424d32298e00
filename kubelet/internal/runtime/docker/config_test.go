package docker

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gantryhq/gantry/kubelet/internal/runtime"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "1", "B_2": "two"}
	tests := map[string]string{
		"$(A)":         "1",
		"x$(B_2)y":     "xtwoy",
		"$(MISSING)":   "$(MISSING)",
		"$$(A)":        "$(A)",
		"plain $ text": "plain $ text",
	}
	for in, want := range tests {
		if got := expand(in, vars); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContainerConfig(t *testing.T) {
	root := t.TempDir()
	r := &Runtime{opts: Options{RootDir: root, NodeName: "n1"}}
	pod := &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "ns", Uid: "uid-1", Labels: map[string]string{"app": "x"}},
		Spec: &corev1.PodSpec{
			NodeName: "n1",
			Volumes: []*corev1.Volume{
				{Name: "scratch", EmptyDir: &corev1.EmptyDirVolumeSource{}},
				{Name: "host", HostPath: &corev1.HostPathVolumeSource{Path: filepath.Join(root, "host"), Type: strPtr("DirectoryOrCreate")}},
			},
		},
	}
	c := &corev1.Container{
		Name:       "app",
		Image:      "img",
		Command:    []string{"/bin/app", "--name=$(POD)"},
		Args:       []string{"$(GREETING)"},
		WorkingDir: "/work",
		Env: []*corev1.EnvVar{
			{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: "APP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
			{Name: "GREETING", Value: "hello $(POD)"},
		},
		Resources: &corev1.ResourceRequirements{Limits: map[string]*metav1.Quantity{"cpu": {Value: "250m"}, "memory": {Value: "128Mi"}}},
		VolumeMounts: []*corev1.VolumeMount{
			{Name: "scratch", MountPath: "/scratch"},
			{Name: "host", MountPath: "/host", ReadOnly: true},
		},
	}
	st := &runtime.PodStatus{Sandbox: &runtime.SandboxStatus{ID: "sb", Running: true, IP: "10.1.2.3"}}
	cfg, hc, err := r.containerConfig(pod, c, "sb", 2, st)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"POD=web", "IP=10.1.2.3", "APP=x", "GREETING=hello web"}, cfg.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/bin/app", "--name=web"}, []string(cfg.Entrypoint)); diff != "" {
		t.Errorf("entrypoint (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"hello web"}, []string(cfg.Cmd)); diff != "" {
		t.Errorf("cmd (-want +got):\n%s", diff)
	}
	wantLabels := map[string]string{
		runtime.LabelManaged: "true", runtime.LabelNode: "n1", runtime.LabelPodUID: "uid-1", runtime.LabelPodName: "web",
		runtime.LabelPodNamespace: "ns", runtime.LabelContainerName: "app", runtime.LabelAttempt: "2",
		runtime.LabelHash: runtime.ContainerHash(c),
	}
	if diff := cmp.Diff(wantLabels, cfg.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if hc.NanoCPUs != 250_000_000 || hc.Memory != 128<<20 || string(hc.NetworkMode) != "container:sb" || string(hc.IpcMode) != "container:sb" {
		t.Errorf("host config: cpus %d memory %d network %s ipc %s", hc.NanoCPUs, hc.Memory, hc.NetworkMode, hc.IpcMode)
	}
	emptyDir := filepath.Join(root, "pods", "uid-1", "volumes", "empty-dir", "scratch")
	wantBinds := []string{emptyDir + ":/scratch", filepath.Join(root, "host") + ":/host:ro"}
	if diff := cmp.Diff(wantBinds, hc.Binds); diff != "" {
		t.Errorf("binds (-want +got):\n%s", diff)
	}
	for _, dir := range []string{emptyDir, filepath.Join(root, "host")} {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			t.Errorf("%s not made: %v", dir, err)
		}
	}
}

func TestContainerConfigErrors(t *testing.T) {
	r := &Runtime{opts: Options{RootDir: t.TempDir(), NodeName: "n1"}}
	pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p", Namespace: "ns", Uid: "u"}, Spec: &corev1.PodSpec{
		Volumes: []*corev1.Volume{{Name: "d", DownwardApi: &corev1.DownwardAPIVolumeSource{}}},
	}}
	tests := map[string]*corev1.Container{
		"no such volume":    {Name: "c", VolumeMounts: []*corev1.VolumeMount{{Name: "nope", MountPath: "/x"}}},
		"only emptyDir":     {Name: "c", VolumeMounts: []*corev1.VolumeMount{{Name: "d", MountPath: "/x"}}},
		"unsupported field": {Name: "c", Env: []*corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nope"}}}}},
		"bad quantity":      {Name: "c", Resources: &corev1.ResourceRequirements{Limits: map[string]*metav1.Quantity{"cpu": {Value: "lots"}}}},
	}
	for name, c := range tests {
		if _, _, err := r.containerConfig(pod, c, "sb", 0, nil); err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.TrimSpace(err.Error()) == "" {
			t.Errorf("%s: empty error", name)
		}
	}
}

func strPtr(s string) *string { return &s }

func TestFreeAddr(t *testing.T) {
	p := netip.MustParsePrefix("10.244.3.0/29") // .0 network, .1 gateway, .7 broadcast
	tests := []struct {
		used []string
		want string
		ok   bool
	}{
		{nil, "10.244.3.2", true},
		{[]string{"10.244.3.2", "10.244.3.3"}, "10.244.3.4", true},
		{[]string{"10.244.3.2", "10.244.3.4"}, "10.244.3.3", true},
		{[]string{"10.244.3.2", "10.244.3.3", "10.244.3.4", "10.244.3.5", "10.244.3.6"}, "", false},
	}
	for _, tt := range tests {
		used := map[netip.Addr]bool{}
		for _, u := range tt.used {
			used[netip.MustParseAddr(u)] = true
		}
		got, ok := freeAddr(p, used)
		if ok != tt.ok || (ok && got.String() != tt.want) {
			t.Errorf("freeAddr(used %v) = %v, %v; want %s, %v", tt.used, got, ok, tt.want, tt.ok)
		}
	}
}
