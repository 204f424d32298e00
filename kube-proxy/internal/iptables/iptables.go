package iptables

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	goipt "github.com/coreos/go-iptables/iptables"
)

// Tables kube-proxy writes.
const (
	TableNAT    = "nat"
	TableFilter = "filter"
)

// Interface is what the proxier needs from iptables. Implementations are
// safe for use by one goroutine at a time.
type Interface interface {
	// Restore feeds data (iptables-save format, one or more tables, each
	// ending in COMMIT) to iptables-restore --noflush: chains declared in
	// data are flushed and rewritten, all others are left as they are.
	// It is atomic per table.
	Restore(ctx context.Context, data []byte) error
	// Save returns iptables-save's output for one table.
	Save(ctx context.Context, table string) ([]byte, error)
	// EnsureRule inserts a rule at the top of a chain unless it is there.
	// It reports whether the rule existed.
	EnsureRule(table, chain string, rule ...string) (existed bool, err error)
	// DeleteRule deletes a rule if it exists.
	DeleteRule(table, chain string, rule ...string) error
	// ListChains lists the chains of a table.
	ListChains(table string) ([]string, error)
	// DeleteChain flushes and deletes a chain if it exists.
	DeleteChain(table, chain string) error
	// SetSysctl sets a kernel parameter ("net.ipv4.conf.all.route_localnet")
	// in the network namespace the rules live in.
	SetSysctl(name, value string) error
}

// Runner is the real Interface.
type Runner struct {
	prefix []string
	// suffix picks the backend's commands: "", "-legacy" or "-nft".
	suffix string
	ipt    *goipt.IPTables
	tmp    string
}

var _ Interface = (*Runner)(nil)

// Backends of iptables: the system's default (the `iptables` alternative),
// or one named.
const (
	BackendDefault = ""
	BackendLegacy  = "legacy"
	BackendNFT     = "nft"
)

// New returns a Runner for a backend. With a netns name, every command runs
// inside that network namespace through `ip netns exec`.
func New(netns, backend string) (*Runner, error) {
	r := &Runner{}
	switch backend {
	case BackendDefault:
	case BackendLegacy, BackendNFT:
		r.suffix = "-" + backend
	default:
		return nil, fmt.Errorf("unknown iptables backend %q", backend)
	}
	path := ""
	if r.suffix != "" {
		path = "iptables" + r.suffix
	}
	if netns != "" {
		r.prefix = []string{"ip", "netns", "exec", netns}
		dir, err := os.MkdirTemp("", "gantry-iptables-")
		if err != nil {
			return nil, err
		}
		r.tmp = dir
		path = filepath.Join(dir, "iptables")
		script := fmt.Sprintf("#!/bin/sh\nexec ip netns exec %s iptables%s \"$@\"\n", netns, r.suffix)
		if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
			r.Close()
			return nil, err
		}
	}
	var err error
	if path != "" {
		r.ipt, err = goipt.New(goipt.Path(path), goipt.Timeout(5))
	} else {
		r.ipt, err = goipt.New(goipt.Timeout(5))
	}
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("iptables: %w", err)
	}
	return r, nil
}

// Close removes the Runner's temporary files.
func (r *Runner) Close() {
	if r.tmp != "" {
		_ = os.RemoveAll(r.tmp)
	}
}

// Version is `iptables --version`, which names the backend (nf_tables or
// legacy).
func (r *Runner) Version() string {
	out, _ := r.command(context.Background(), "iptables"+r.suffix, "--version").Output()
	return strings.TrimSpace(string(out))
}

func (r *Runner) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, r.prefix...), name), args...)
	return exec.CommandContext(ctx, argv[0], argv[1:]...)
}

// Restore implements Interface.
func (r *Runner) Restore(ctx context.Context, data []byte) error {
	cmd := r.command(ctx, "iptables"+r.suffix+"-restore", "--noflush", "--counters", "-w", "5")
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("iptables-restore: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// Save implements Interface.
func (r *Runner) Save(ctx context.Context, table string) ([]byte, error) {
	cmd := r.command(ctx, "iptables"+r.suffix+"-save", "-t", table)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("iptables-save -t %s: %w: %s", table, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// EnsureRule implements Interface.
func (r *Runner) EnsureRule(table, chain string, rule ...string) (bool, error) {
	ok, err := r.ipt.Exists(table, chain, rule...)
	if err != nil {
		return false, err
	}
	if ok {
		return true, nil
	}
	return false, r.ipt.Insert(table, chain, 1, rule...)
}

// DeleteRule implements Interface.
func (r *Runner) DeleteRule(table, chain string, rule ...string) error {
	return r.ipt.DeleteIfExists(table, chain, rule...)
}

// ListChains implements Interface.
func (r *Runner) ListChains(table string) ([]string, error) { return r.ipt.ListChains(table) }

// SetSysctl implements Interface.
func (r *Runner) SetSysctl(name, value string) error {
	out, err := r.command(context.Background(), "sysctl", "-qw", name+"="+value).CombinedOutput()
	if err != nil {
		return fmt.Errorf("sysctl %s=%s: %w: %s", name, value, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// DeleteChain implements Interface.
func (r *Runner) DeleteChain(table, chain string) error {
	ok, err := r.ipt.ChainExists(table, chain)
	if err != nil || !ok {
		return err
	}
	return r.ipt.ClearAndDeleteChain(table, chain)
}
