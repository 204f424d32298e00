// Command scheduler binds pending pods whose spec.schedulerName is one of
// its profiles to feasible nodes.
package main

import (
	"os"

	"github.com/gantryhq/gantry/scheduler/app"
)

func main() {
	if err := app.NewSchedulerCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
