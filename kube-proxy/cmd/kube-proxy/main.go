// Command kube-proxy turns the cluster's Services into iptables rules on its
// node.
package main

import (
	"os"

	"github.com/gantryhq/gantry/kube-proxy/app"
)

func main() {
	if err := app.NewProxyCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
