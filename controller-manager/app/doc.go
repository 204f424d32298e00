// Package app is the controller-manager's command: options (flags) →
// Validate → Config → Complete → Run(ctx). Run serves /livez, /readyz,
// /metrics and /debug/pprof, campaigns for the controller-manager Lease
// and, while leading, runs the chosen controllers over one set of shared
// informers.
package app
