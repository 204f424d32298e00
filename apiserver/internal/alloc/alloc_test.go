package alloc

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap/zaptest"
	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/apiserver/internal/storage"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func TestParseRanges(t *testing.T) {
	for _, tc := range []struct {
		cidr    string
		size    uint64
		first   string
		wantErr bool
	}{
		{cidr: "10.96.0.0/12", size: 1<<20 - 2, first: "10.96.0.1"},
		{cidr: "10.0.0.5/24", size: 254, first: "10.0.0.1"},
		{cidr: "fd00::/108", size: 1<<20 - 2, first: "fd00::1"},
		{cidr: "10.0.0.0/31", wantErr: true},
		{cidr: "bogus", wantErr: true},
	} {
		r, err := ParseIPRange(tc.cidr)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseIPRange(%q) error %v, want error %v", tc.cidr, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if r.Size() != tc.size || r.At(0).String() != tc.first {
			t.Errorf("ParseIPRange(%q): size %d first %s, want %d %s", tc.cidr, r.Size(), r.At(0), tc.size, tc.first)
		}
		if !r.Contains(r.At(r.Size()-1)) || r.Contains(r.Prefix.Addr()) {
			t.Errorf("%q: Contains wrong at the ends", tc.cidr)
		}
	}
	r, _ := ParseIPRange("10.0.0.0/24")
	if r.Contains(netip.MustParseAddr("10.0.0.255")) || r.Contains(netip.MustParseAddr("10.0.1.1")) {
		t.Errorf("10.0.0.0/24 contains its broadcast or a foreign address")
	}
	for _, tc := range []struct {
		in      string
		want    PortRange
		wantErr bool
	}{
		{in: "30000-32767", want: PortRange{Base: 30000, Size: 2768}},
		{in: "8080", want: PortRange{Base: 8080, Size: 1}},
		{in: "5-1", wantErr: true},
		{in: "0-100", wantErr: true},
		{in: "1-70000", wantErr: true},
	} {
		got, err := ParsePortRange(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParsePortRange(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func startStore(t *testing.T) *storage.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	e, err := storage.StartEmbedded(ctx, t.TempDir(), zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return storage.New(e.Client)
}

func newAllocator(t *testing.T, store *storage.Store, cidr, ports string) *Allocator {
	t.Helper()
	ips, err := ParseIPRange(cidr)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := ParsePortRange(ports)
	if err != nil {
		t.Fatal(err)
	}
	return New(store, ips, pr)
}

type svcBuilder struct{ svc *corev1.Service }

func makeSvc(name string) svcBuilder {
	return svcBuilder{&corev1.Service{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default", Uid: "uid-" + name},
		Spec: &corev1.ServiceSpec{Type: "ClusterIP", IpFamilies: []string{"IPv4"},
			Ports: []*corev1.ServicePort{{Name: "http", Port: 80, Protocol: "TCP"}}},
	}}
}

func (b svcBuilder) typ(t string) svcBuilder     { b.svc.Spec.Type = t; return b }
func (b svcBuilder) ip(ip string) svcBuilder     { b.svc.Spec.ClusterIp = ip; return b }
func (b svcBuilder) nodePort(n int32) svcBuilder { b.svc.Spec.Ports[0].NodePort = n; return b }
func (b svcBuilder) port(name string, p, node int32) svcBuilder {
	b.svc.Spec.Ports = append(b.svc.Spec.Ports, &corev1.ServicePort{Name: name, Port: p, Protocol: "TCP", NodePort: node})
	return b
}
func (b svcBuilder) obj() *corev1.Service { return b.svc }

func keys(t *testing.T, s *storage.Store, prefix string) []string {
	t.Helper()
	page, err := s.List(context.Background(), prefix, "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, kv := range page.KVs {
		out = append(out, strings.TrimPrefix(kv.Key, prefix))
	}
	return out
}

func TestAllocate(t *testing.T) {
	ctx := context.Background()
	store := startStore(t)
	a := newAllocator(t, store, "10.0.0.0/24", "30000-30009")

	// Taken by an earlier service.
	if _, errs, err := a.Allocate(ctx, makeSvc("first").ip("10.0.0.10").typ("NodePort").nodePort(30005).obj(), nil, false); len(errs) > 0 || err != nil {
		t.Fatalf("first: %v %v", errs, err)
	}

	for _, tc := range []struct {
		name    string
		svc     *corev1.Service
		wantErr string
		check   func(t *testing.T, s *corev1.ServiceSpec)
	}{
		{name: "dynamic IP", svc: makeSvc("a").obj(), check: func(t *testing.T, s *corev1.ServiceSpec) {
			ip := netip.MustParseAddr(s.ClusterIp)
			if !netip.MustParsePrefix("10.0.0.0/24").Contains(ip) || ip.String() == "10.0.0.1" || ip.String() == "10.0.0.10" {
				t.Errorf("clusterIP %s: not a free dynamic address of 10.0.0.0/24", ip)
			}
			if diff := cmp.Diff([]string{s.ClusterIp}, s.ClusterIps); diff != "" {
				t.Errorf("clusterIPs (-want +got):\n%s", diff)
			}
			if s.Ports[0].NodePort != 0 {
				t.Errorf("ClusterIP service got nodePort %d", s.Ports[0].NodePort)
			}
		}},
		{name: "requested IP", svc: makeSvc("b").ip("10.0.0.1").obj(), check: func(t *testing.T, s *corev1.ServiceSpec) {
			if s.ClusterIp != "10.0.0.1" {
				t.Errorf("clusterIP %s, want 10.0.0.1", s.ClusterIp)
			}
		}},
		{name: "headless", svc: makeSvc("c").ip("None").obj(), check: func(t *testing.T, s *corev1.ServiceSpec) {
			if s.ClusterIp != "None" {
				t.Errorf("clusterIP %s, want None", s.ClusterIp)
			}
		}},
		{name: "external name", svc: makeSvc("d").typ("ExternalName").obj(), check: func(t *testing.T, s *corev1.ServiceSpec) {
			if s.ClusterIp != "" {
				t.Errorf("clusterIP %s, want none", s.ClusterIp)
			}
		}},
		{name: "node ports", svc: makeSvc("e").typ("NodePort").port("b", 81, 30001).port("c", 82, 0).obj(), check: func(t *testing.T, s *corev1.ServiceSpec) {
			if s.Ports[1].NodePort != 30001 {
				t.Errorf("requested nodePort became %d", s.Ports[1].NodePort)
			}
			for _, p := range []int32{s.Ports[0].NodePort, s.Ports[2].NodePort} {
				if p < 30000 || p > 30009 || p == 30005 || p == 30001 {
					t.Errorf("allocated nodePort %d: not free in 30000-30009", p)
				}
			}
			if s.Ports[0].NodePort == s.Ports[2].NodePort {
				t.Errorf("two ports got nodePort %d", s.Ports[0].NodePort)
			}
		}},
		{name: "IP taken", svc: makeSvc("f").ip("10.0.0.10").obj(), wantErr: "spec.clusterIP: Invalid value: \"10.0.0.10\": failed to allocate IP 10.0.0.10: provided IP is already allocated"},
		{name: "IP out of range", svc: makeSvc("g").ip("10.0.1.10").obj(), wantErr: "spec.clusterIP: Invalid value: \"10.0.1.10\": failed to allocate IP 10.0.1.10: provided IP is not in the valid range. The range of valid IPs is 10.0.0.0/24"},
		{name: "broadcast", svc: makeSvc("h").ip("10.0.0.255").obj(), wantErr: "not in the valid range"},
		{name: "port taken", svc: makeSvc("i").typ("NodePort").port("b", 81, 30005).obj(), wantErr: "spec.ports[1].nodePort: Invalid value: 30005: failed to allocate port 30005: provided port is already allocated"},
		{name: "port out of range", svc: makeSvc("j").typ("NodePort").nodePort(31000).obj(), wantErr: "spec.ports[0].nodePort: Invalid value: 31000: provided port is not in the valid range. The range of valid ports is 30000-30009"},
		{name: "IPv6 on an IPv4 cluster", svc: func() *corev1.Service { s := makeSvc("k").obj(); s.Spec.IpFamilies = []string{"IPv6"}; return s }(), wantErr: "spec.ipFamilies[0]"},
	} {
		for _, dry := range []bool{false, true} {
			name := tc.name
			if dry {
				name += " (dry run)"
			}
			t.Run(name, func(t *testing.T) {
				testAllocate(t, store, a, proto.Clone(tc.svc).(*corev1.Service), dry, tc.wantErr, tc.check)
			})
		}
	}
}

// testAllocate allocates for svc and checks the outcome: wantErr, or what
// check says and no key left after undo (a dry run: none made at all).
func testAllocate(t *testing.T, store *storage.Store, a *Allocator, svc *corev1.Service, dry bool, wantErr string, check func(*testing.T, *corev1.ServiceSpec)) {
	ctx := context.Background()
	before, beforePorts := keys(t, store, IPPrefix), keys(t, store, PortPrefix)
	unchanged := func(what string) {
		t.Helper()
		if diff := cmp.Diff(before, keys(t, store, IPPrefix)); diff != "" {
			t.Errorf("%s IPs (-before +after):\n%s", what, diff)
		}
		if diff := cmp.Diff(beforePorts, keys(t, store, PortPrefix)); diff != "" {
			t.Errorf("%s ports (-before +after):\n%s", what, diff)
		}
	}
	undo, errs, err := a.Allocate(ctx, svc, nil, dry)
	if err != nil {
		t.Fatal(err)
	}
	if wantErr != "" {
		if !strings.Contains(errs.ToAggregate().Error(), wantErr) {
			t.Fatalf("errors %v, want one with %q", errs, wantErr)
		}
		unchanged("a refused allocation left")
		return
	}
	if len(errs) > 0 {
		t.Fatalf("errors %v", errs)
	}
	check(t, svc.Spec)
	if dry {
		unchanged("a dry run took")
	}
	undo()
	unchanged("undo left")
}

func TestUpdateAndRelease(t *testing.T) {
	ctx := context.Background()
	store := startStore(t)
	a := newAllocator(t, store, "10.0.0.0/28", "30000-30009")
	s := ServiceStrategy{Allocator: a}

	old := makeSvc("web").obj()
	if _, errs, err := a.Allocate(ctx, old, nil, false); len(errs) > 0 || err != nil {
		t.Fatalf("create: %v %v", errs, err)
	}
	ip := old.Spec.ClusterIp

	// ClusterIP -> NodePort: node ports allocated, IP kept.
	np := proto.Clone(old).(*corev1.Service)
	np.Spec.Type = "NodePort"
	s.PrepareForUpdate(np, old)
	if _, errs, err := a.Allocate(ctx, np, old, false); len(errs) > 0 || err != nil {
		t.Fatalf("to NodePort: %v %v", errs, err)
	}
	if err := a.Release(ctx, np, old); err != nil {
		t.Fatal(err)
	}
	port := np.Spec.Ports[0].NodePort
	if np.Spec.ClusterIp != ip || port == 0 {
		t.Fatalf("NodePort service: clusterIP %s nodePort %d; want %s and a port", np.Spec.ClusterIp, port, ip)
	}
	if diff := cmp.Diff([]string{ip}, keys(t, store, IPPrefix)); diff != "" {
		t.Errorf("IPs (-want +got):\n%s", diff)
	}

	// Another owner cannot release what web holds.
	if err := a.Release(ctx, nil, makeSvc("intruder").ip(ip).typ("NodePort").nodePort(port).obj()); err != nil {
		t.Fatal(err)
	}
	if len(keys(t, store, IPPrefix)) != 1 || len(keys(t, store, PortPrefix)) != 1 {
		t.Fatalf("a foreign release freed web's values")
	}

	// NodePort -> ClusterIP with the node ports left in: dropped and freed.
	back := proto.Clone(np).(*corev1.Service)
	back.Spec.Type = "ClusterIP"
	s.PrepareForUpdate(back, np)
	if back.Spec.Ports[0].NodePort != 0 || back.Spec.ExternalTrafficPolicy != "" {
		t.Fatalf("node port %d / externalTrafficPolicy %q kept on a ClusterIP service", back.Spec.Ports[0].NodePort, back.Spec.ExternalTrafficPolicy)
	}
	if _, errs, err := a.Allocate(ctx, back, np, false); len(errs) > 0 || err != nil {
		t.Fatalf("to ClusterIP: %v %v", errs, err)
	}
	if err := a.Release(ctx, back, np); err != nil {
		t.Fatal(err)
	}
	if got := keys(t, store, PortPrefix); len(got) != 0 {
		t.Errorf("node ports %v still held after the type change", got)
	}

	// ClusterIP -> ExternalName frees the IP.
	ext := proto.Clone(back).(*corev1.Service)
	ext.Spec.Type, ext.Spec.ExternalName = "ExternalName", "example.com"
	s.PrepareForUpdate(ext, back)
	if ext.Spec.ClusterIp != "" || ext.Spec.IpFamilies != nil {
		t.Fatalf("ExternalName kept clusterIP %q families %v", ext.Spec.ClusterIp, ext.Spec.IpFamilies)
	}
	if err := a.Release(ctx, ext, back); err != nil {
		t.Fatal(err)
	}
	if got := keys(t, store, IPPrefix); len(got) != 0 {
		t.Errorf("IPs %v still held after the change to ExternalName", got)
	}
}

// Two allocators (two apiservers) on one etcd, filling a small range
// concurrently, never hand out one address twice, and refuse once it is
// full.
func TestTwoAllocatorsFillRange(t *testing.T) {
	ctx := context.Background()
	store := startStore(t)
	a1 := newAllocator(t, store, "10.0.0.0/27", "30000-30009") // 30 usable addresses
	a2 := newAllocator(t, store, "10.0.0.0/27", "30000-30009")
	var mu sync.Mutex
	seen := map[string]string{}
	full := 0
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := a1
			if i%2 == 1 {
				a = a2
			}
			svc := makeSvc("s" + string(rune('a'+i))).obj()
			_, errs, err := a.Allocate(ctx, svc, nil, false)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Error(err)
			case len(errs) > 0:
				if !strings.Contains(errs.ToAggregate().Error(), "range is full") {
					t.Errorf("unexpected refusal %v", errs)
				}
				full++
			default:
				if other, dup := seen[svc.Spec.ClusterIp]; dup {
					t.Errorf("%s given to %s and %s", svc.Spec.ClusterIp, other, svc.Metadata.Name)
				}
				seen[svc.Spec.ClusterIp] = svc.Metadata.Name
			}
		}()
	}
	wg.Wait()
	if len(seen) != 30 || full != 10 {
		t.Errorf("%d allocated, %d refused; want 30 and 10", len(seen), full)
	}
}
