package cmd

import "github.com/spf13/cobra"

// addLaterCommands adds the verbs whose support lives in other modules
// (logs, exec, rollout) once those exist.
func addLaterCommands(root *cobra.Command, f *Factory) {}
