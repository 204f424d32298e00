// Command my-scheduler is an example scheduler binary built from the
// scheduler's public packages with one extra plugin, LabelPreference. Run
// it beside the default scheduler with config.yaml (profile
// "my-scheduler"): pods with spec.schedulerName: my-scheduler are its own,
// the default scheduler leaves them alone. Or run it as the only
// scheduler, with a profile named default-scheduler.
package main

import (
	"os"

	"github.com/gantryhq/gantry/scheduler/app"
	"github.com/gantryhq/gantry/scheduler/example/labelpreference"
)

func main() {
	cmd := app.NewSchedulerCommand(app.WithPlugin(labelpreference.Name, labelpreference.New))
	cmd.Use = "my-scheduler"
	if err := cmd.Execute(); err != nil {
		os.Exit(1)
	}
}
