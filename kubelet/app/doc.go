// Package app builds the kubelet command: options (flags) → Validate →
// Config → Complete → Run(ctx), as kube-scheduler's app package does.
package app
