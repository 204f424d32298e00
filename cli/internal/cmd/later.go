package cmd

import "github.com/spf13/cobra"

// addLaterCommands adds the verbs whose client side lives in other
// packages of client/: rollout (client/rollout), logs and exec
// (client/podexec).
func addLaterCommands(root *cobra.Command, f *Factory) {
	root.AddCommand(newRolloutCommand(f), newLogsCommand(f), newExecCommand(f))
}
