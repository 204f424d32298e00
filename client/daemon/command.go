package daemon

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// RunE is the RunE of a daemon's cobra command: it checks the options with
// validate (every problem at once), then calls run with the process's
// signal context, and prints an error once, to stderr, prefixed with the
// daemon's name (the command silences cobra's own printing).
func RunE(name string, validate func() []error, run func(ctx context.Context) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		err := errors.Join(validate()...)
		if err == nil {
			err = run(SignalContext())
		}
		if err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", name, err)
		}
		return err
	}
}
