// Package app is kube-proxy's command: options (flags, Validate) -> Config
// -> Complete -> Run(ctx). Run watches Services and Endpoints through shared
// informers, feeds them to the iptables proxier and syncs its rules through
// a rate-bounded runner, serving /healthz on 10256 and /metrics on 10249.
package app
