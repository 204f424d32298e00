package clienttest

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/test/bufconn"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/config"
	"github.com/gantryhq/gantry/client/scheme"
	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
)

// New starts a server seeded with objs (see [Server.Add]) and returns a
// clientset connected to it. Both are stopped when the test ends.
func New(t testing.TB, objs ...scheme.Object) (*client.Clientset, *Server) {
	t.Helper()
	s := NewServer()
	if err := s.Add(objs...); err != nil {
		t.Fatal(err)
	}
	s.Serve(t)
	return s.Clientset(t, ""), s
}

// Serve serves s over an in-memory listener until the test ends. Call it
// once.
func (s *Server) Serve(t testing.TB) {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer(
		grpc.MaxRecvMsgSize(client.MaxSendMessageSize),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	)
	apiv1.RegisterResourceServiceServer(gs, s)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = gs.Serve(lis)
	}()
	s.mu.Lock()
	s.lis = lis
	s.mu.Unlock()
	t.Cleanup(func() {
		gs.Stop()
		<-done
	})
}

// Clientset returns a new clientset connected to s (which must be served),
// sending token as its bearer token when not empty; it is closed when the
// test ends.
func (s *Server) Clientset(t testing.TB, token string) *client.Clientset {
	t.Helper()
	s.mu.Lock()
	lis := s.lis
	s.mu.Unlock()
	if lis == nil {
		t.Fatal("clienttest: Clientset of a server that is not served")
	}
	cs, err := client.New(&config.Config{Server: "bufnet", Plaintext: true, BearerToken: token},
		client.WithDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}
