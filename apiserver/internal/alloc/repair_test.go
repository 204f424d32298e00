package alloc

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/apiserver/internal/storage"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

func storeService(t *testing.T, s *storage.Store, svc *corev1.Service) {
	t.Helper()
	b, err := proto.Marshal(svc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(context.Background(), servicesPrefix+svc.Metadata.Namespace+"/"+svc.Metadata.Name, b); err != nil {
		t.Fatal(err)
	}
}

// TestRepair: a value no Service holds is freed only after a whole pass;
// one a Service holds without a key gets one; a value two Services claim
// is reported.
func TestRepair(t *testing.T) {
	ctx := context.Background()
	store := startStore(t)
	a := newAllocator(t, store, "10.0.0.0/24", "30000-30009")

	// A leaked reservation (an apiserver stopped before storing its Service).
	if _, err := a.ips.reserve(ctx, "10.0.0.77", owner{uid: "ghost", name: "default/ghost"}, nil); err != nil {
		t.Fatal(err)
	}
	// Services stored without keys (written before allocation existed).
	storeService(t, store, makeSvc("web").ip("10.0.0.5").typ("NodePort").nodePort(30003).obj())
	storeService(t, store, makeSvc("dup").ip("10.0.0.5").obj())

	since, res, err := a.Repair(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Freed != 0 || res.Recorded != 2 || len(res.Conflicts) != 1 {
		t.Fatalf("first pass: %+v; want 2 recorded, 1 conflict, nothing freed", res)
	}
	if diff := cmp.Diff([]string{"10.0.0.5", "10.0.0.77"}, keys(t, store, IPPrefix)); diff != "" {
		t.Errorf("IPs after the first pass (-want +got):\n%s", diff)
	}

	// Reserved after the first pass: in flight, left alone.
	if _, err := a.ips.reserve(ctx, "10.0.0.88", owner{uid: "inflight", name: "default/inflight"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, res, err = a.Repair(ctx, since); err != nil {
		t.Fatal(err)
	}
	if res.Freed != 1 || res.Recorded != 0 {
		t.Fatalf("second pass: %+v; want the ghost freed", res)
	}
	if diff := cmp.Diff([]string{"10.0.0.5", "10.0.0.88"}, keys(t, store, IPPrefix)); diff != "" {
		t.Errorf("IPs after the second pass (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"30003"}, keys(t, store, PortPrefix)); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
}
