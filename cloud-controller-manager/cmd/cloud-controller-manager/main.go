// Command cloud-controller-manager runs the cloud controllers — node
// initialization, node lifecycle, load balancers and routes — against a
// cloud provider chosen with --cloud-provider.
package main

import (
	"fmt"
	"os"

	"github.com/gantryhq/gantry/client/daemon"
	"github.com/gantryhq/gantry/cloud-controller-manager/app"
)

func main() {
	if err := app.NewCommand().ExecuteContext(daemon.SignalContext()); err != nil {
		fmt.Fprintln(os.Stderr, "cloud-controller-manager:", err)
		os.Exit(1)
	}
}
