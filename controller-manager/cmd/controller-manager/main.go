// Command controller-manager runs the reconcile loops of Gantry's built-in
// workloads: ReplicaSet, Deployment, Job, CronJob, the garbage collector,
// namespaces, node lifecycle and endpoints.
package main

import (
	"os"

	"github.com/gantryhq/gantry/controller-manager/app"
)

func main() {
	if err := app.NewControllerManagerCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
