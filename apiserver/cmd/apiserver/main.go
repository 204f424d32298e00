// Command apiserver serves Gantry's API over gRPC and keeps all state in etcd.
package main

import (
	"os"

	"github.com/gantryhq/gantry/apiserver/app"
)

func main() {
	if err := app.NewAPIServerCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
