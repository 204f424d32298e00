package framework

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/codec"
	"github.com/gantryhq/gantry/client/scheme"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// NodeReady is the status of a node's Ready condition ("" without one).
func NodeReady(n *corev1.Node) string {
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus()
		}
	}
	return ""
}

// PodReady says whether a pod runs, has an IP and is Ready.
func PodReady(p *corev1.Pod) bool {
	if p.GetStatus().GetPhase() != "Running" || p.GetStatus().GetPodIp() == "" {
		return false
	}
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus() == "True"
		}
	}
	return false
}

// HTTPGet GETs url (3s timeout, a new connection each time) and returns the
// body of a 200 answer.
func HTTPGet(url string) (string, error) {
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("%s: %s", resp.Status, b)
	}
	return string(b), err
}

// Hostname is the "hostname: " line of a gantry/demo answer.
func Hostname(body string) string {
	for _, line := range strings.Split(body, "\n") {
		if h, ok := strings.CutPrefix(line, "hostname: "); ok {
			return strings.TrimSpace(h)
		}
	}
	return ""
}

// Apply creates every object of a manifest (YAML or JSON, several
// documents).
func (c *Cluster) Apply(t testing.TB, manifest string) {
	t.Helper()
	objs, err := codec.DecodeManifests(bytes.NewReader([]byte(manifest)))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		obj, ok := o.(scheme.Object)
		if !ok {
			t.Fatalf("%T is not an object", o)
		}
		res, ok := scheme.ForMessage(obj)
		if !ok {
			t.Fatalf("%T is not in the scheme", o)
		}
		m := scheme.Meta(obj)
		if _, err := c.Client.Resource(res, m.GetNamespace()).Create(context.Background(), obj); err != nil {
			t.Fatalf("create %s %s: %v", res.Kind, m.GetName(), err)
		}
	}
}

// Pods lists the pods matching selector in ns that are not being deleted.
func (c *Cluster) Pods(t testing.TB, ns, selector string) []*corev1.Pod {
	t.Helper()
	l, err := c.Client.Pods(ns).List(context.Background(), client.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatalf("list pods: %v", err)
	}
	var out []*corev1.Pod
	for _, p := range l.Items {
		if p.GetMetadata().GetDeletionTimestamp() == nil {
			out = append(out, p)
		}
	}
	return out
}

// WaitReadyPods waits until exactly want pods match (deleting ones aside),
// all Ready and passing check (when not nil), and returns them.
func (c *Cluster) WaitReadyPods(t testing.TB, ns, selector string, want int, timeout time.Duration, check func(*corev1.Pod) bool) []*corev1.Pod {
	t.Helper()
	var got []*corev1.Pod
	WaitFor(t, fmt.Sprintf("%d ready pods %s in %s", want, selector, ns), timeout, func() (bool, string) {
		got = c.Pods(t, ns, selector)
		var state []string
		ok := len(got) == want
		for _, p := range got {
			r := PodReady(p) && (check == nil || check(p))
			ok = ok && r
			state = append(state, fmt.Sprintf("%s@%s:%s/%v", p.GetMetadata().GetName(), p.GetSpec().GetNodeName(), p.GetStatus().GetPhase(), r))
		}
		return ok, strings.Join(state, " ")
	})
	return got
}

// Scale sets a Deployment's replicas.
func (c *Cluster) Scale(t testing.TB, ns, name string, replicas int32) {
	t.Helper()
	ctx := context.Background()
	if err := client.RetryOnConflict(ctx, func() error {
		d, err := c.Client.Deployments(ns).Get(ctx, name)
		if err != nil {
			return err
		}
		d.Spec.Replicas = &replicas
		_, err = c.Client.Deployments(ns).Update(ctx, d)
		return err
	}); err != nil {
		t.Fatalf("scale %s to %d: %v", name, replicas, err)
	}
}

// ContainerID is the running container of a pod's container (POD for its
// sandbox) on node (node names are unique; pod names are not across
// clusters run side by side).
func ContainerID(t testing.TB, node, ns, pod, container string) string {
	t.Helper()
	id := Sh(t, "docker", "ps", "-q", "--filter", "label=io.gantry.node="+node, "--filter", "label=io.gantry.pod.namespace="+ns,
		"--filter", "label=io.gantry.pod.name="+pod, "--filter", "label=io.gantry.container.name="+container)
	if id == "" || strings.Contains(id, "\n") {
		t.Fatalf("container %s of %s/%s: %q", container, ns, pod, id)
	}
	return id
}

// SandboxPid is the pid of a pod's pause container (its network namespace)
// on node.
func SandboxPid(t testing.TB, node, ns, pod string) string {
	t.Helper()
	return Sh(t, "docker", "inspect", "-f", "{{.State.Pid}}", ContainerID(t, node, ns, pod, "POD"))
}
