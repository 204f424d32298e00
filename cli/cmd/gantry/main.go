// Command gantry controls a Gantry cluster, as kubectl controls Kubernetes.
package main

import (
	"os"

	"github.com/gantryhq/gantry/cli/internal/cmd"
)

func main() {
	os.Exit(cmd.Main(os.Args[1:], cmd.Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
}
