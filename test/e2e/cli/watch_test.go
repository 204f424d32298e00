package cli

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestWatchSurvivesRestart: `get -w` keeps printing changes across an
// apiserver restart, as kubectl's watch does across a reconnect.
func TestWatchSurvivesRestart(t *testing.T) {
	c := startCluster(t)
	c.ok("create", "namespace", "w1")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	w := exec.CommandContext(ctx, gantryBin, "get", "ns", "-w", "-l", "watched=yes")
	w.Env = append(os.Environ(), "GANTRY_CONFIG="+c.server.ConfigPath)
	stdout, err := w.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Process.Kill(); _ = w.Wait() }()
	lines := make(chan string, 16)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("watch ended waiting for %s", what)
			}
			return l
		case <-ctx.Done():
			t.Fatalf("no line for %s", what)
		}
		return ""
	}
	c.ok("label", "ns", "w1", "watched=yes")
	if h := next("header"); !strings.HasPrefix(h, "NAME") {
		t.Fatalf("header %q", h)
	}
	if l := next("first change"); !strings.HasPrefix(l, "w1 ") {
		t.Fatalf("row %q", l)
	}
	c.server.Restart()
	c.ok("create", "namespace", "w2")
	c.ok("label", "ns", "w2", "watched=yes")
	if l := next("change after restart"); !strings.HasPrefix(l, "w2 ") {
		t.Fatalf("row after restart %q", l)
	}
}
