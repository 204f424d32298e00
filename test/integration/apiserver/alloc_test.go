package apiserver

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
	"github.com/gantryhq/gantry/test/integration/framework"
)

func service(name, typ string) *corev1.Service {
	return &corev1.Service{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: &corev1.ServiceSpec{Type: typ, Selector: map[string]string{"app": name},
			Ports: []*corev1.ServicePort{{Port: 80}}},
	}
}

// TestServiceAllocation: 1,000 concurrent creates get 1,000 distinct
// cluster IPs from 10.96.0.0/12; after a restart no address is handed out
// again; deleting frees; a taken or foreign address or port is refused
// naming the field.
func TestServiceAllocation(t *testing.T) {
	srv := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	svcs := cs.Services("default")
	serviceRange := netip.MustParsePrefix("10.96.0.0/12")

	owners := map[string]string{}
	record := func(s *corev1.Service) {
		t.Helper()
		ip := s.GetSpec().GetClusterIp()
		a, err := netip.ParseAddr(ip)
		if err != nil || !serviceRange.Contains(a) {
			t.Errorf("%s: clusterIP %q not in %s", s.Metadata.Name, ip, serviceRange)
		}
		if other, dup := owners[ip]; dup {
			t.Errorf("clusterIP %s given to %s and %s", ip, other, s.Metadata.Name)
		}
		owners[ip] = s.Metadata.Name
	}

	const n = 1000
	results := make([]*corev1.Service, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = svcs.Create(ctx, service(fmt.Sprintf("svc-%04d", i), "ClusterIP"))
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("create svc-%04d: %v", i, errs[i])
		}
		record(results[i])
	}
	if len(owners) != n {
		t.Fatalf("%d distinct cluster IPs for %d services", len(owners), n)
	}

	// A restart keeps every allocation: new services get new addresses.
	srv.Restart()
	cs = framework.Client(t, srv)
	svcs = cs.Services("default")
	for i := range 50 {
		s, err := svcs.Create(ctx, service(fmt.Sprintf("after-restart-%d", i), "ClusterIP"))
		if err != nil {
			t.Fatalf("create after restart: %v", err)
		}
		record(s)
	}

	// A taken address is refused with the reason; a freed one may be reused.
	taken := results[0].Spec.ClusterIp
	req := service("wants-taken", "ClusterIP")
	req.Spec.ClusterIp = taken
	_, err := svcs.Create(ctx, req)
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "spec.clusterIP") || !strings.Contains(err.Error(), "already allocated") {
		t.Fatalf("create with taken clusterIP %s: %v; want InvalidArgument naming spec.clusterIP", taken, err)
	}
	if err := svcs.Delete(ctx, results[0].Metadata.Name, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := svcs.Create(ctx, req)
	if err != nil || got.Spec.ClusterIp != taken {
		t.Fatalf("create with freed clusterIP %s: %v (got %q)", taken, err, got.GetSpec().GetClusterIp())
	}

	req = service("foreign-ip", "ClusterIP")
	req.Spec.ClusterIp = "192.168.1.1"
	if _, err := svcs.Create(ctx, req); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "not in the valid range") {
		t.Fatalf("create with clusterIP outside the range: %v", err)
	}

	headless := service("headless", "ClusterIP")
	headless.Spec.ClusterIp = "None"
	if got, err := svcs.Create(ctx, headless); err != nil || got.Spec.ClusterIp != "None" {
		t.Fatalf("headless service: %v (clusterIP %q)", err, got.GetSpec().GetClusterIp())
	}

	// Node ports: allocated for NodePort services, taken ones refused,
	// freed when the type changes back to ClusterIP.
	np, err := svcs.Create(ctx, service("np", "NodePort"))
	if err != nil {
		t.Fatal(err)
	}
	port := np.Spec.Ports[0].NodePort
	if port < 30000 || port > 32767 {
		t.Fatalf("nodePort %d not in 30000-32767", port)
	}
	req = service("np-taken", "NodePort")
	req.Spec.Ports[0].NodePort = port
	if _, err := svcs.Create(ctx, req); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "spec.ports[0].nodePort") {
		t.Fatalf("create with taken nodePort %d: %v; want InvalidArgument naming spec.ports[0].nodePort", port, err)
	}
	req.Spec.Ports[0].NodePort = 40000
	if _, err := svcs.Create(ctx, req); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "not in the valid range") {
		t.Fatalf("create with nodePort 40000: %v", err)
	}
	np.Spec.Type = "ClusterIP"
	np, err = svcs.Update(ctx, np)
	if err != nil {
		t.Fatalf("NodePort -> ClusterIP: %v", err)
	}
	if np.Spec.Ports[0].NodePort != 0 {
		t.Fatalf("ClusterIP service kept nodePort %d", np.Spec.Ports[0].NodePort)
	}
	req.Spec.Ports[0].NodePort = port
	if _, err := svcs.Create(ctx, req); err != nil {
		t.Fatalf("nodePort %d not freed by the type change: %v", port, err)
	}
}

// TestServiceDryRun: a dry-run create or update shows the cluster IP and
// node ports the apiserver would allocate, refuses a taken one, and holds
// nothing: the values stay free for real writes.
func TestServiceDryRun(t *testing.T) {
	srv := framework.StartAPIServer(t, apiservertest.Options{})
	cs := framework.Client(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rs := cs.ResourceService()
	dryRun := func(update bool, svc *corev1.Service) (*corev1.Service, error) {
		t.Helper()
		obj, err := anypb.New(svc)
		if err != nil {
			t.Fatal(err)
		}
		var out *anypb.Any
		if update {
			resp, err := rs.Update(ctx, &apiv1.UpdateRequest{Object: obj, DryRun: true})
			if err != nil {
				return nil, err
			}
			out = resp.GetObject()
		} else {
			resp, err := rs.Create(ctx, &apiv1.CreateRequest{Object: obj, DryRun: true})
			if err != nil {
				return nil, err
			}
			out = resp.GetObject()
		}
		got := &corev1.Service{}
		if err := out.UnmarshalTo(got); err != nil {
			t.Fatal(err)
		}
		return got, nil
	}

	svc, err := dryRun(false, service("web", "NodePort"))
	if err != nil {
		t.Fatal(err)
	}
	ip, port := svc.GetSpec().GetClusterIp(), svc.GetSpec().GetPorts()[0].GetNodePort()
	if ip == "" || port == 0 {
		t.Fatalf("dry-run create: clusterIP %q nodePort %d, want both allocated", ip, port)
	}
	if _, err := cs.Services("default").Get(ctx, "web"); !client.IsNotFound(err) {
		t.Fatalf("dry-run create stored the service: %v", err)
	}
	// What the dry run showed is still free.
	same := service("web", "NodePort")
	same.Spec.ClusterIp, same.Spec.Ports[0].NodePort = ip, port
	if _, err := cs.Services("default").Create(ctx, same); err != nil {
		t.Fatalf("create with the dry run's values: %v", err)
	}
	// Now they are taken: a dry run asking for them is refused.
	taken := service("other", "NodePort")
	taken.Spec.ClusterIp = ip
	if _, err := dryRun(false, taken); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "spec.clusterIP") {
		t.Errorf("dry run of a taken clusterIP: %v, want spec.clusterIP invalid", err)
	}

	// A dry-run update to NodePort shows the new node port, stores nothing.
	plain, err := cs.Services("default").Create(ctx, service("plain", "ClusterIP"))
	if err != nil {
		t.Fatal(err)
	}
	plain.Spec.Type = "NodePort"
	up, err := dryRun(true, plain)
	if err != nil {
		t.Fatal(err)
	}
	if up.GetSpec().GetPorts()[0].GetNodePort() == 0 {
		t.Errorf("dry-run update to NodePort: no nodePort")
	}
	stored, err := cs.Services("default").Get(ctx, "plain")
	if err != nil {
		t.Fatal(err)
	}
	if stored.GetSpec().GetType() != "ClusterIP" || stored.GetSpec().GetPorts()[0].GetNodePort() != 0 {
		t.Errorf("dry-run update stored %v", stored.GetSpec())
	}
}
