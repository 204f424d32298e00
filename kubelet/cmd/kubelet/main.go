// Command kubelet runs the pods bound to its node as Docker containers,
// registers the Node, renews its Lease and reports status.
package main

import (
	"os"

	"github.com/gantryhq/gantry/kubelet/app"
)

func main() {
	if err := app.NewKubeletCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
