package proxier

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/gantryhq/gantry/kube-proxy/internal/iptables"
)

// The netns tests re-execute the test binary inside the namespaces they
// make: as an HTTP server answering with its pod's name, or as a client
// making requests and printing one line per request.
const helperEnv = "GANTRY_NETNS_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "server":
		name := os.Getenv("GANTRY_NAME")
		http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, name) })
		http.HandleFunc("/source", func(w http.ResponseWriter, r *http.Request) {
			host, _, _ := strings.Cut(r.RemoteAddr, ":")
			io.WriteString(w, name+" from "+host)
		})
		fmt.Fprintln(os.Stderr, http.ListenAndServe(os.Getenv("GANTRY_ADDR"), nil))
		os.Exit(1)
	case "client":
		n, _ := strconv.Atoi(os.Getenv("GANTRY_N"))
		c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		for range n {
			start := time.Now()
			resp, err := c.Get(os.Getenv("GANTRY_URL"))
			if err != nil {
				fmt.Printf("ERR %dms %v\n", time.Since(start).Milliseconds(), err)
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			fmt.Printf("OK %s\n", b)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// topology is a node namespace with a bridge, pods on veth pairs and an
// outside "client" namespace, all deleted by t.Cleanup.
type topology struct {
	t          *testing.T
	node, ext  string
	pods       map[string]string // pod name -> netns
	podIPs     map[string]string
	self       string
	nodeExtIP  string
	nodeBridge string
}

const (
	podCIDR = "10.244.0.0/16"
	extNet  = "192.168.77."
)

func newTopology(t *testing.T, pods ...string) *topology {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the netns tests need root (ip netns add)")
	}
	for _, bin := range []string{"ip", "iptables-restore", "iptables-save", "iptables"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("the netns tests need %s: %v", bin, err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.Itoa(os.Getpid())
	tp := &topology{t: t, node: "gtp" + id + "-node", ext: "gtp" + id + "-ext", pods: map[string]string{}, podIPs: map[string]string{},
		self: self, nodeExtIP: extNet + "1", nodeBridge: "10.244.0.1"}
	t.Cleanup(tp.delete)
	run(t, "ip", "netns", "add", tp.node)
	run(t, "ip", "netns", "add", tp.ext)
	n := []string{"ip", "-n", tp.node}
	run(t, "ip", "netns", "exec", tp.node, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	run(t, "ip", "netns", "exec", tp.node, "sh", "-c", "echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables")
	run(t, append(n, "link", "set", "lo", "up")...)
	run(t, append(n, "link", "add", "br0", "type", "bridge")...)
	run(t, append(n, "addr", "add", tp.nodeBridge+"/24", "dev", "br0")...)
	run(t, append(n, "link", "set", "br0", "up")...)
	// The outside: node ext0 <-> client eth0, and the node's default route.
	run(t, append(n, "link", "add", "ext0", "type", "veth", "peer", "name", "eth0", "netns", tp.ext)...)
	run(t, append(n, "addr", "add", tp.nodeExtIP+"/24", "dev", "ext0")...)
	run(t, append(n, "link", "set", "ext0", "up")...)
	run(t, append(n, "route", "add", "default", "via", extNet+"2")...)
	run(t, "ip", "-n", tp.ext, "link", "set", "lo", "up")
	run(t, "ip", "-n", tp.ext, "addr", "add", extNet+"2/24", "dev", "eth0")
	run(t, "ip", "-n", tp.ext, "link", "set", "eth0", "up")
	run(t, "ip", "-n", tp.ext, "route", "add", "default", "via", tp.nodeExtIP)
	for i, pod := range pods {
		ns := "gtp" + id + "-" + pod
		ip := fmt.Sprintf("10.244.0.%d", 11+i)
		tp.pods[pod], tp.podIPs[pod] = ns, ip
		run(t, "ip", "netns", "add", ns)
		veth := "v" + pod
		run(t, append(n, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)...)
		run(t, append(n, "link", "set", veth, "master", "br0")...)
		// Hairpin on the bridge port, as the bridge CNI plugin's hairpinMode
		// (kubelet's hairpin-veth): a pod's DNATed packet to itself leaves
		// by the port it came in.
		run(t, append(n, "link", "set", veth, "type", "bridge_slave", "hairpin", "on")...)
		run(t, append(n, "link", "set", veth, "up")...)
		p := []string{"ip", "-n", ns}
		run(t, append(p, "link", "set", "lo", "up")...)
		run(t, append(p, "addr", "add", ip+"/24", "dev", "eth0")...)
		run(t, append(p, "link", "set", "eth0", "up")...)
		run(t, append(p, "route", "add", "default", "via", tp.nodeBridge)...)
		tp.serve(pod)
	}
	for _, pod := range pods {
		tp.waitServing(pod)
	}
	return tp
}

func (tp *topology) serve(pod string) {
	cmd := exec.Command("ip", "netns", "exec", tp.pods[pod], tp.self)
	cmd.Env = append(os.Environ(), helperEnv+"=server", "GANTRY_NAME="+pod, "GANTRY_ADDR=:8080")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		tp.t.Fatal(err)
	}
	tp.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
}

func (tp *topology) waitServing(pod string) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		out := tp.get(tp.node, "http://"+tp.podIPs[pod]+":8080/", 1)
		if len(out) == 1 && out[0] == "OK "+pod {
			return
		}
		if time.Now().After(deadline) {
			tp.t.Fatalf("pod %s does not serve: %v", pod, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// get makes n requests from inside netns ns and returns one line each:
// "OK <pod>" or "ERR <ms>ms <error>".
func (tp *topology) get(ns, url string, n int) []string {
	tp.t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, tp.self)
	cmd.Env = append(os.Environ(), helperEnv+"=client", "GANTRY_URL="+url, "GANTRY_N="+strconv.Itoa(n))
	out, err := cmd.Output()
	if err != nil {
		tp.t.Fatalf("client in %s: %v", ns, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

func (tp *topology) delete() {
	for _, ns := range tp.pods {
		_ = exec.Command("ip", "netns", "del", ns).Run()
	}
	_ = exec.Command("ip", "netns", "del", tp.ext).Run()
	_ = exec.Command("ip", "netns", "del", tp.node).Run()
}

// iptablesSave is the iptables-save of the backend under test.
func iptablesSave() string {
	if be := os.Getenv("GANTRY_IPTABLES"); be != "" {
		return "iptables-" + be + "-save"
	}
	return "iptables-save"
}

func count(lines []string) map[string]int {
	out := map[string]int{}
	for _, l := range lines {
		if strings.HasPrefix(l, "ERR") {
			out["ERR"]++
		} else {
			out[strings.TrimPrefix(l, "OK ")]++
		}
	}
	return out
}

// TestNetns runs the proxier against real iptables in a node namespace the
// test makes, with pods on a bridge and an outside client.
func TestNetns(t *testing.T) {
	tp := newTopology(t, "p1", "p2", "p3")
	ipt, err := iptables.New(tp.node, os.Getenv("GANTRY_IPTABLES"))
	if err != nil {
		t.Fatal(err)
	}
	defer ipt.Close()
	t.Logf("iptables in the node namespace: %s", ipt.Version())
	ctx := context.Background()
	p := New(ipt, Options{ClusterCIDR: podCIDR, LocalhostNodePorts: true, Hostname: "node-1"}, nil, zaptest.NewLogger(t))
	localnet := func() string {
		return strings.TrimSpace(run(t, "ip", "netns", "exec", tp.node, "sysctl", "-n", routeLocalnet))
	}
	if v := localnet(); v != "0" {
		t.Fatalf("route_localnet is %s in a new namespace", v)
	}
	sync := func() {
		t.Helper()
		if err := p.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}

	web := makeService("default", "web", "10.96.0.10").typ("NodePort").port("http", 80, 30080).obj()
	p.OnServiceAdd(web)
	p.OnEndpointsAdd(makeEndpoints("default", "web").subset("http", 8080, tp.podIPs["p1"], tp.podIPs["p2"]).obj())
	p.OnServiceAdd(makeService("default", "self", "10.96.0.11").port("", 80, 0).obj())
	p.OnEndpointsAdd(makeEndpoints("default", "self").subset("", 8080, tp.podIPs["p1"]).obj())
	p.OnServiceAdd(makeService("default", "empty", "10.96.0.12").port("", 80, 0).obj())
	p.OnServiceAdd(makeService("default", "sticky", "10.96.0.13").affinity(60).port("", 80, 0).obj())
	p.OnEndpointsAdd(makeEndpoints("default", "sticky").subset("", 8080, tp.podIPs["p1"], tp.podIPs["p2"]).obj())
	p.OnServiceAdd(makeService("default", "local", "10.96.0.14").typ("NodePort").policies("", "Local").port("", 80, 30081).obj())
	p.OnEndpointsAdd(makeEndpoints("default", "local").subset("", 8080, tp.podIPs["p1"], tp.podIPs["p2"]).
		on("node-1", tp.podIPs["p1"]).on("node-2", tp.podIPs["p2"]).obj())
	sync()

	t.Run("golden files apply", func(t *testing.T) {
		files, _ := filepath.Glob("testdata/*.golden")
		if len(files) == 0 {
			t.Fatal("no golden files")
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("ip", "netns", "exec", tp.node, strings.Replace(iptablesSave(), "-save", "-restore", 1), "--test", "--noflush")
			cmd.Stdin = bytes.NewReader(data)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s does not parse: %v\n%s", f, err, out)
			}
		}
	})

	t.Run("cluster IP spreads over both endpoints", func(t *testing.T) {
		got := count(tp.get(tp.pods["p3"], "http://10.96.0.10/", 40))
		if got["ERR"] > 0 || got["p1"] == 0 || got["p2"] == 0 {
			t.Fatalf("40 requests to the cluster IP reached %v; want both p1 and p2, no error", got)
		}
	})

	t.Run("node port answers on the node's address", func(t *testing.T) {
		got := count(tp.get(tp.ext, "http://"+tp.nodeExtIP+":30080/", 20))
		if got["ERR"] > 0 || got["p1"]+got["p2"] != 20 {
			t.Fatalf("20 requests to the node port from outside: %v", got)
		}
	})

	t.Run("from the node itself", func(t *testing.T) {
		// nat OUTPUT: the cluster IP (masqueraded: the node's source is
		// outside the cluster CIDR) and the node port on the bridge address.
		for _, url := range []string{"http://10.96.0.10/", "http://" + tp.nodeBridge + ":30080/"} {
			got := count(tp.get(tp.node, url, 10))
			if got["ERR"] > 0 || got["p1"]+got["p2"] != 10 {
				t.Errorf("10 requests from the node to %s: %v", url, got)
			}
		}
	})

	t.Run("ClientIP affinity keeps a client on one endpoint", func(t *testing.T) {
		got := count(tp.get(tp.pods["p3"], "http://10.96.0.13/", 20))
		if got["ERR"] > 0 || (got["p1"] != 20 && got["p2"] != 20) {
			t.Fatalf("20 requests to a ClientIP-affinity service: %v; want all on one pod", got)
		}
	})

	t.Run("node port on localhost, guarded", func(t *testing.T) {
		if v := localnet(); v != "1" {
			t.Fatalf("route_localnet %s, want 1", v)
		}
		out := run(t, "ip", "netns", "exec", tp.node, iptablesSave(), "-t", "filter")
		guarded := false
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "-A KUBE-FIREWALL ") && strings.Contains(l, "! -s 127.0.0.0/8") &&
				strings.Contains(l, "-d 127.0.0.0/8") && strings.HasSuffix(l, "-j DROP") {
				guarded = true
			}
		}
		if !guarded || !strings.Contains(out, "-A INPUT -j KUBE-FIREWALL") {
			t.Fatalf("route_localnet set without the KUBE-FIREWALL DROP rule:\n%s", out)
		}
		got := count(tp.get(tp.node, "http://127.0.0.1:30080/", 10))
		if got["ERR"] > 0 || got["p1"]+got["p2"] != 10 {
			t.Fatalf("10 requests to 127.0.0.1:30080 on the node: %v", got)
		}
	})

	t.Run("externalTrafficPolicy Local: local endpoints only, source kept", func(t *testing.T) {
		got := count(tp.get(tp.ext, "http://"+tp.nodeExtIP+":30081/source", 20))
		if want := map[string]int{"p1 from " + extNet + "2": 20}; !maps.Equal(got, want) {
			t.Fatalf("20 requests from outside to a Local node port: %v; want %v", got, want)
		}
		// The node port masquerades under the Cluster policy.
		got = count(tp.get(tp.ext, "http://"+tp.nodeExtIP+":30080/source", 10))
		for k := range got {
			if !strings.HasSuffix(k, " from "+tp.nodeBridge) {
				t.Fatalf("Cluster node port: %v; want every request from the node's bridge address", got)
			}
		}
	})

	t.Run("hairpin", func(t *testing.T) {
		got := count(tp.get(tp.pods["p1"], "http://10.96.0.11/", 5))
		if got["p1"] != 5 {
			t.Fatalf("p1 reaching itself through its service: %v", got)
		}
	})

	t.Run("no endpoints refuses at once", func(t *testing.T) {
		lines := tp.get(tp.pods["p3"], "http://10.96.0.12/", 3)
		for _, l := range lines {
			var ms int
			fmt.Sscanf(l, "ERR %dms", &ms)
			if !strings.HasPrefix(l, "ERR") || !strings.Contains(l, "connection refused") || ms > 1000 {
				t.Fatalf("request to a service without endpoints: %q; want connection refused at once", l)
			}
		}
	})

	t.Run("removed endpoint gets no traffic after one sync", func(t *testing.T) {
		p.OnEndpointsUpdate(nil, makeEndpoints("default", "web").subset("http", 8080, tp.podIPs["p1"]).obj())
		sync()
		got := count(tp.get(tp.pods["p3"], "http://10.96.0.10/", 20))
		if got["p1"] != 20 {
			t.Fatalf("after removing p2: %v; want all 20 on p1", got)
		}
		// Back, then the service goes: its port is refused, not hanging.
		p.OnServiceDelete(web)
		sync()
		for _, l := range tp.get(tp.pods["p3"], "http://10.96.0.10/", 1) {
			if !strings.HasPrefix(l, "ERR") {
				t.Fatalf("deleted service still answers: %q", l)
			}
		}
	})

	t.Run("cleanup leaves no rule", func(t *testing.T) {
		if err := Cleanup(ctx, ipt); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"nat", "filter"} {
			out := run(t, "ip", "netns", "exec", tp.node, iptablesSave(), "-t", table)
			if strings.Contains(out, "KUBE-") {
				t.Errorf("%s table after cleanup:\n%s", table, out)
			}
		}
		if v := localnet(); v != "0" {
			t.Errorf("route_localnet %s after cleanup, want 0", v)
		}
		// Cleanup of a clean namespace is fine.
		if err := Cleanup(ctx, ipt); err != nil {
			t.Fatal(err)
		}
	})
}
