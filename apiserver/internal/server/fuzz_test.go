package server

import (
	"context"
	"testing"

	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gantryhq/gantry/apiserver/internal/registry"
	"github.com/gantryhq/gantry/apiserver/internal/storage"
	"github.com/gantryhq/gantry/apiserver/internal/strategy"
	"github.com/gantryhq/gantry/client/scheme"
	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func newTestServer(tb testing.TB) *ResourceServer {
	tb.Helper()
	e, err := storage.StartEmbedded(context.Background(), tb.TempDir(), zap.NewNop())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(e.Close)
	reg, err := registry.New(storage.New(e.Client), strategy.All(), zap.NewNop())
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := reg.Create(context.Background(), &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "default"}}, false); err != nil {
		tb.Fatal(err)
	}
	return NewResourceServer(reg, zap.NewNop())
}

// FuzzCreate sends arbitrary bytes as every kind through the create path:
// the server must never panic, must answer with a gRPC status, and a create
// it accepts must read back equal.
func FuzzCreate(f *testing.F) {
	pod, _ := proto.Marshal(&corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p"},
		Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Image: "busybox"}}}})
	f.Add(uint8(1), pod)
	f.Add(uint8(0), []byte{})
	f.Add(uint8(7), []byte{0x0a, 0x03, 0x0a, 0x01, 'x'})
	f.Add(uint8(3), []byte{0xff, 0xff, 0xff})
	s := newTestServer(f)
	resources := scheme.All()
	f.Fuzz(func(t *testing.T, kind uint8, value []byte) {
		res := resources[int(kind)%len(resources)]
		req := &apiv1.CreateRequest{Object: &anypb.Any{
			TypeUrl: typeURLPrefix + string(res.MessageName()), Value: value,
		}}
		resp, err := s.Create(context.Background(), req)
		if err != nil {
			if _, ok := status.FromError(err); !ok {
				t.Fatalf("error is not a gRPC status: %v", err)
			}
			if code := status.Code(err); code == codes.Internal || code == codes.Unknown {
				t.Fatalf("create answered %v: %v", code, err)
			}
			return
		}
		obj, err := unpack(resp.Object)
		if err != nil {
			t.Fatal(err)
		}
		m := scheme.Meta(obj)
		got, err := s.Get(context.Background(), &apiv1.GetRequest{Resource: res.Name, Namespace: m.Namespace, Name: m.Name})
		if err != nil {
			t.Fatalf("get of created %s %s/%s: %v", res.Name, m.Namespace, m.Name, err)
		}
		back, _ := unpack(got.Object)
		if !proto.Equal(back, obj) {
			t.Fatalf("read back differs from the created object")
		}
		if _, err := s.Delete(context.Background(), &apiv1.DeleteRequest{Resource: res.Name, Namespace: m.Namespace, Name: m.Name, GracePeriodSeconds: new(int64)}); err != nil {
			t.Fatalf("delete: %v", err)
		}
	})
}
