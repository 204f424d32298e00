// Package example shows how a component author extends the scheduler
// without touching its code: labelpreference is an out-of-tree plugin
// written only against scheduler/framework, client and proto, and
// my-scheduler is a scheduler binary built with it through
// app.NewSchedulerCommand(app.WithPlugin(...)). See README.md.
package example
