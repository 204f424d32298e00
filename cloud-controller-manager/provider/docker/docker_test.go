package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/google/go-cmp/cmp"
	"github.com/moby/moby/api/types/container"
	dockerclient "github.com/moby/moby/client"
	"go.uber.org/zap/zaptest"

	"github.com/gantryhq/gantry/cloud-controller-manager/internal/lb"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// env is what one test made in Docker: a network (and a second one, for a
// second "node" address), the load balancer image under a test tag, and the
// provider pointed at them. Everything is removed when the test ends.
type env struct {
	t        *testing.T
	docker   *dockerclient.Client
	p        *Provider
	network  string
	gateways []string // the host's address on each test network
	image    string
}

func suffix(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func newEnv(t *testing.T, unbackedExist bool) *env {
	t.Helper()
	ctx := context.Background()
	c, err := dockerclient.New(dockerclient.WithHostFromEnv(), dockerclient.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatalf("docker client: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if _, err := c.Ping(ctx, dockerclient.PingOptions{NegotiateAPIVersion: true}); err != nil {
		t.Fatalf("these tests need a Docker engine: %v", err)
	}
	id := suffix(t)
	e := &env{t: t, docker: c, network: "gantry-ccm-test-" + id, image: "gantry/lb:ccm-test-" + id}

	// Two networks: the first is the cluster's; the host's address on each
	// stands in for a node's InternalIP.
	for _, name := range []string{e.network, e.network + "-b"} {
		res, err := c.NetworkCreate(ctx, name, dockerclient.NetworkCreateOptions{Driver: "bridge", Labels: map[string]string{"io.gantry.test": "ccm"}})
		if err != nil {
			t.Fatalf("create network %s: %v", name, err)
		}
		t.Cleanup(func() {
			if _, err := c.NetworkRemove(context.Background(), res.ID, dockerclient.NetworkRemoveOptions{}); err != nil {
				t.Errorf("remove network %s: %v", name, err)
			}
		})
		ins, err := c.NetworkInspect(ctx, res.ID, dockerclient.NetworkInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ins.Network.IPAM.Config) == 0 || !ins.Network.IPAM.Config[0].Gateway.IsValid() {
			t.Fatalf("network %s has no gateway: %+v", name, ins.Network.IPAM)
		}
		e.gateways = append(e.gateways, ins.Network.IPAM.Config[0].Gateway.String())
	}

	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "../../../hack/images/lb/build.sh")
	if out, err := exec.Command("bash", script, e.image).CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", e.image, err, out)
	}
	t.Cleanup(func() {
		if _, err := c.ImageRemove(context.Background(), e.image, dockerclient.ImageRemoveOptions{Force: true}); err != nil {
			t.Errorf("remove image %s: %v", e.image, err)
		}
	})

	o := DefaultOptions()
	o.Network, o.LBImage, o.UnbackedNodesExist = e.network, e.image, unbackedExist
	p, err := New(ctx, provider.Config{ClusterName: "test-" + id, Logger: zaptest.NewLogger(t)}, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	e.p = p
	// Remove any container the test's cluster left behind, even on failure.
	t.Cleanup(func() {
		res, err := c.ContainerList(context.Background(), dockerclient.ContainerListOptions{All: true,
			Filters: make(dockerclient.Filters).Add("label", LabelCluster+"=test-"+id)})
		if err != nil {
			t.Errorf("list leftovers: %v", err)
			return
		}
		for _, it := range res.Items {
			t.Errorf("load balancer container %s left behind; removing it", it.Names)
			_, _ = c.ContainerRemove(context.Background(), it.ID, dockerclient.ContainerRemoveOptions{Force: true})
		}
	})
	return e
}

// backend serves HTTP with body name on addr:port (port 0 picks one) until
// the test ends; it returns the port.
func backend(t *testing.T, addr string, port int, name string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("listen on %s:%d: %v", addr, port, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, name) }), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

func node(name, ip string) *corev1.Node {
	return &corev1.Node{Metadata: &metav1.ObjectMeta{Name: name},
		Status: &corev1.NodeStatus{Addresses: []*corev1.NodeAddress{{Type: "InternalIP", Address: ip}}}}
}

func service(uid string, nodePort int32) *corev1.Service {
	return &corev1.Service{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web", Uid: uid},
		Spec: &corev1.ServiceSpec{Type: "LoadBalancer", Ports: []*corev1.ServicePort{
			{Name: "http", Protocol: "TCP", Port: 80, NodePort: nodePort},
			{Name: "dns", Protocol: "UDP", Port: 53, NodePort: 30053},
		}},
	}
}

func httpGet(url string) (string, error) {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// seen GETs url until every body in want was answered (or 15 s pass) and
// returns the bodies seen.
func seen(t *testing.T, url string, want ...string) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	var lastErr error
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		body, err := httpGet(url)
		if err != nil {
			lastErr = err
			time.Sleep(100 * time.Millisecond)
			continue
		}
		got[body] = true
		all := true
		for _, w := range want {
			all = all && got[w]
		}
		if all {
			return got
		}
	}
	t.Fatalf("GET %s: saw %v, want all of %v (last error: %v)", url, got, want, lastErr)
	return got
}

func TestLoadBalancer(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	lbs, _ := e.p.LoadBalancer()
	// Both "nodes" listen on the same node port, each on the host's address
	// on one test network.
	nodePort := backend(t, e.gateways[0], 0, "node-a")
	backend(t, e.gateways[1], nodePort, "node-b")
	a, b := node("a", e.gateways[0]), node("b", e.gateways[1])
	svc := service("uid-1", int32(nodePort))
	cluster := e.p.cluster

	if _, exists, err := lbs.GetLoadBalancer(ctx, cluster, svc); err != nil || exists {
		t.Fatalf("GetLoadBalancer before ensure: exists=%v err=%v", exists, err)
	}
	st, err := lbs.EnsureLoadBalancer(ctx, cluster, svc, []*corev1.Node{a})
	if err != nil {
		t.Fatal(err)
	}
	name := lbs.GetLoadBalancerName(ctx, cluster, svc)
	ins, err := e.docker.ContainerInspect(ctx, name, dockerclient.ContainerInspectOptions{})
	if err != nil {
		t.Fatalf("load balancer container %s: %v", name, err)
	}
	ip := ins.Container.NetworkSettings.Networks[e.network].IPAddress.String()
	if len(st.GetIngress()) != 1 || st.GetIngress()[0].GetIp() != ip {
		t.Fatalf("status %v, want the container's address %s", st, ip)
	}
	if got := st.GetIngress()[0].GetPorts(); len(got) != 2 || got[0].Error != nil || got[1].GetError() != "UnsupportedProtocol" {
		t.Errorf("port status %v: want 80 ok, 53/UDP UnsupportedProtocol", got)
	}
	wantLabels := map[string]string{LabelCluster: cluster, LabelService: "default/web", LabelServiceUID: "uid-1"}
	for k, v := range wantLabels {
		if ins.Container.Config.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, ins.Container.Config.Labels[k], v)
		}
	}
	cfg, err := e.p.ReadConfig(ctx, cluster, svc)
	if err != nil {
		t.Fatal(err)
	}
	want := &lb.Config{Listeners: []lb.Listener{{Name: "http", Port: 80, Protocol: "TCP",
		Backends: []string{net.JoinHostPort(e.gateways[0], strconv.Itoa(nodePort))}}}}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("forwarding config (-want +got):\n%s", diff)
	}
	url := "http://" + ip + ":80/"
	if got := seen(t, url, "node-a"); got["node-b"] {
		t.Errorf("node-b answered before it was added")
	}

	// Idempotent: the same call keeps the container and its address.
	st2, err := lbs.EnsureLoadBalancer(ctx, cluster, svc, []*corev1.Node{a})
	if err != nil {
		t.Fatal(err)
	}
	ins2, _ := e.docker.ContainerInspect(ctx, name, dockerclient.ContainerInspectOptions{})
	if ins2.Container.ID != ins.Container.ID || st2.GetIngress()[0].GetIp() != ip {
		t.Errorf("second ensure replaced the load balancer (%s -> %s, %s)", ins.Container.ID[:12], ins2.Container.ID[:12], st2)
	}

	// A node joins: reconfigured in place, both answer, same address.
	if err := lbs.UpdateLoadBalancer(ctx, cluster, svc, []*corev1.Node{a, b}); err != nil {
		t.Fatal(err)
	}
	seen(t, url, "node-a", "node-b")
	ins3, _ := e.docker.ContainerInspect(ctx, name, dockerclient.ContainerInspectOptions{})
	if ins3.Container.ID != ins.Container.ID {
		t.Error("update replaced the container")
	}
	// Node a leaves.
	if err := lbs.UpdateLoadBalancer(ctx, cluster, svc, []*corev1.Node{b}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok := true
		for range 4 {
			body, err := httpGet(url)
			ok = ok && err == nil && body == "node-b"
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("node-a still answers after it left")
		}
		time.Sleep(200 * time.Millisecond)
	}

	st3, exists, err := lbs.GetLoadBalancer(ctx, cluster, svc)
	if err != nil || !exists || st3.GetIngress()[0].GetIp() != ip {
		t.Errorf("GetLoadBalancer = %v, %v, %v", st3, exists, err)
	}

	// Deleted, and deleting again is fine.
	for range 2 {
		if err := lbs.EnsureLoadBalancerDeleted(ctx, cluster, svc); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.docker.ContainerInspect(ctx, name, dockerclient.ContainerInspectOptions{}); !cerrdefs.IsNotFound(err) {
		t.Errorf("load balancer container still there after delete: %v", err)
	}
	if _, exists, _ := lbs.GetLoadBalancer(ctx, cluster, svc); exists {
		t.Error("GetLoadBalancer says it exists after delete")
	}
	if err := lbs.UpdateLoadBalancer(ctx, cluster, svc, []*corev1.Node{a}); err == nil {
		t.Error("UpdateLoadBalancer of a deleted load balancer succeeded")
	}
}

func TestNewServiceOfSameNameReplacesBalancer(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	nodePort := backend(t, e.gateways[0], 0, "node-a")
	a := node("a", e.gateways[0])
	lbs, _ := e.p.LoadBalancer()
	old := service("uid-old", int32(nodePort))
	if _, err := lbs.EnsureLoadBalancer(ctx, e.p.cluster, old, []*corev1.Node{a}); err != nil {
		t.Fatal(err)
	}
	name := lbs.GetLoadBalancerName(ctx, e.p.cluster, old)
	first, _ := e.docker.ContainerInspect(ctx, name, dockerclient.ContainerInspectOptions{})
	neu := service("uid-new", int32(nodePort))
	if _, err := lbs.EnsureLoadBalancer(ctx, e.p.cluster, neu, []*corev1.Node{a}); err != nil {
		t.Fatal(err)
	}
	second, _ := e.docker.ContainerInspect(ctx, name, dockerclient.ContainerInspectOptions{})
	if first.Container.ID == second.Container.ID || second.Container.Config.Labels[LabelServiceUID] != "uid-new" {
		t.Errorf("load balancer of the old service kept for the new one")
	}
	if err := lbs.EnsureLoadBalancerDeleted(ctx, e.p.cluster, neu); err != nil {
		t.Fatal(err)
	}
}

func TestInstances(t *testing.T) {
	for _, unbacked := range []bool{true, false} {
		t.Run(fmt.Sprintf("unbacked-nodes-exist=%v", unbacked), func(t *testing.T) {
			e := newEnv(t, unbacked)
			ctx := context.Background()
			inst, _ := e.p.Instances()
			nodeName := "node-" + suffix(t)
			// A node container: the lb image does nicely (it idles without
			// a config).
			res, err := e.docker.ContainerCreate(ctx, dockerclient.ContainerCreateOptions{
				Name:       "gantry-ccm-test-" + nodeName,
				Config:     &container.Config{Image: e.image, Labels: map[string]string{DefaultNodeLabel: nodeName}},
				HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(e.network)},
			})
			if err != nil {
				t.Fatal(err)
			}
			removed := false
			remove := func() {
				if _, err := e.docker.ContainerRemove(context.Background(), res.ID, dockerclient.ContainerRemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
					t.Errorf("remove node container: %v", err)
				}
				removed = true
			}
			t.Cleanup(func() {
				if !removed {
					remove()
				}
			})
			if _, err := e.docker.ContainerStart(ctx, res.ID, dockerclient.ContainerStartOptions{}); err != nil {
				t.Fatal(err)
			}
			ins, _ := e.docker.ContainerInspect(ctx, res.ID, dockerclient.ContainerInspectOptions{})
			ip := ins.Container.NetworkSettings.Networks[e.network].IPAddress.String()

			n := node(nodeName, "")
			if ok, err := inst.InstanceExists(ctx, n); err != nil || !ok {
				t.Errorf("InstanceExists = %v, %v; want true", ok, err)
			}
			if down, err := inst.InstanceShutdown(ctx, n); err != nil || down {
				t.Errorf("InstanceShutdown of a running container = %v, %v", down, err)
			}
			md, err := inst.InstanceMetadata(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			wantMD := &provider.InstanceMetadata{ProviderID: "docker://gantry-ccm-test-" + nodeName, InstanceType: "container", Zone: "local", Region: "local",
				Addresses: []*corev1.NodeAddress{{Type: "InternalIP", Address: ip}}}
			if diff := cmp.Diff(wantMD, md, cmpProto); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}

			timeout := 5
			if _, err := e.docker.ContainerStop(ctx, res.ID, dockerclient.ContainerStopOptions{Timeout: &timeout}); err != nil {
				t.Fatal(err)
			}
			if down, err := inst.InstanceShutdown(ctx, n); err != nil || !down {
				t.Errorf("InstanceShutdown of a stopped container = %v, %v; want true", down, err)
			}
			remove()
			ok, err := inst.InstanceExists(ctx, n)
			if err != nil || ok != unbacked {
				t.Errorf("InstanceExists after removal = %v, %v; want %v", ok, err, unbacked)
			}
			_, err = inst.InstanceMetadata(ctx, n)
			if unbacked != (err == nil) || (!unbacked && !errors.Is(err, provider.ErrInstanceNotFound)) {
				t.Errorf("InstanceMetadata after removal: err = %v", err)
			}
		})
	}
}

func TestNoRoutes(t *testing.T) {
	p := &Provider{}
	if r, ok := p.Routes(); ok || r != nil {
		t.Error("docker provider claims routes")
	}
}
