// Package iptables runs the iptables commands kube-proxy needs: atomic
// iptables-restore and iptables-save of whole tables, and, through
// github.com/coreos/go-iptables, the single-rule checks and edits of
// built-in chains (the jumps into kube-proxy's own chains) and the chain
// listing and deletion of --cleanup.
//
// A Runner may run every command inside a network namespace (ip netns exec),
// which is how the tests keep off the machine's own rules.
package iptables
