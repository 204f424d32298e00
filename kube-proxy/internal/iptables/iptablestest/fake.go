// Package iptablestest has a fake iptables.Interface that records what the
// proxier writes.
package iptablestest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Fake is an in-memory iptables.Interface.
type Fake struct {
	mu sync.Mutex
	// Restores holds every Restore's data, in order.
	Restores []string
	// Rules are the rules EnsureRule added, "table/chain: rule".
	Rules []string
	// Chains per table, as ListChains returns them.
	Chains map[string][]string
	// Saved is what Save returns per table.
	Saved map[string]string
	// Sysctls are the kernel parameters set.
	Sysctls map[string]string
	// Err, when set, fails Restore.
	Err error
}

// New returns an empty Fake.
func New() *Fake {
	return &Fake{Chains: map[string][]string{}, Saved: map[string]string{}, Sysctls: map[string]string{}}
}

// SetSysctl records the parameter.
func (f *Fake) SetSysctl(name, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Sysctls[name] = value
	return nil
}

// Restore records data.
func (f *Fake) Restore(_ context.Context, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return f.Err
	}
	f.Restores = append(f.Restores, string(data))
	return nil
}

// Last returns the data of the last Restore.
func (f *Fake) Last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.Restores) == 0 {
		return ""
	}
	return f.Restores[len(f.Restores)-1]
}

// Save returns Saved[table].
func (f *Fake) Save(_ context.Context, table string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return []byte(f.Saved[table]), nil
}

func ruleKey(table, chain string, rule []string) string {
	return fmt.Sprintf("%s/%s: %s", table, chain, strings.Join(rule, " "))
}

// EnsureRule records the rule once.
func (f *Fake) EnsureRule(table, chain string, rule ...string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := ruleKey(table, chain, rule)
	if slices.Contains(f.Rules, k) {
		return true, nil
	}
	f.Rules = append(f.Rules, k)
	return false, nil
}

// DeleteRule forgets the rule.
func (f *Fake) DeleteRule(table, chain string, rule ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := ruleKey(table, chain, rule)
	f.Rules = slices.DeleteFunc(f.Rules, func(r string) bool { return r == k })
	return nil
}

// ListChains returns Chains[table].
func (f *Fake) ListChains(table string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.Chains[table]), nil
}

// DeleteChain removes the chain from Chains.
func (f *Fake) DeleteChain(table, chain string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Chains[table] = slices.DeleteFunc(f.Chains[table], func(c string) bool { return c == chain })
	return nil
}
