// Package app is the scheduler daemon: flags and the configuration file
// (options → Validate → Config → Complete → Run), leader election, health
// and metrics. Component authors build their own scheduler binary with
// extra plugins through NewSchedulerCommand(WithPlugin(name, factory)).
package app
