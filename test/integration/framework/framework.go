// Package framework starts what integration tests need: a real apiserver on
// an embedded etcd, in the test's process, and a client for it.
package framework

import (
	"testing"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/config"
)

// StartAPIServer starts an apiserver for t; it stops when t ends.
func StartAPIServer(t testing.TB, opts apiservertest.Options) *apiservertest.Server {
	t.Helper()
	return apiservertest.Start(t, opts)
}

// Client returns an admin client of s, closed when t ends.
func Client(t testing.TB, s *apiservertest.Server) *client.Clientset {
	t.Helper()
	cfg, err := config.Open(s.ConfigPath, "")
	if err != nil {
		t.Fatalf("load %s: %v", s.ConfigPath, err)
	}
	cs, err := client.New(cfg)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}
