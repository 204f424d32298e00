// Package daemon holds what every Gantry daemon does the same way: a signal
// context (SIGTERM or SIGINT cancels it, a second signal exits at once), a
// zap logger from a level flag, the HTTP server for /livez, /readyz,
// /metrics and /debug/pprof, and systemd readiness notification.
package daemon
