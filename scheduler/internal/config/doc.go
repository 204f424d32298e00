// Package config is the scheduler's configuration file (kind
// SchedulerConfiguration, apiVersion scheduler.gantry.io/v1): profiles by
// schedulerName, plugins enabled and disabled per extension point, weights
// and plugin args, with kube-scheduler's defaults.
package config
