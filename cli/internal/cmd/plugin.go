package cmd

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

// pluginPrefix starts the names of executables that extend gantry, as
// kubectl-* executables extend kubectl: `gantry foo bar` runs gantry-foo-bar
// (or gantry-foo with bar as its argument) when foo is not a command.
const pluginPrefix = "gantry-"

// findPlugin returns the longest plugin on $PATH matching the leading
// non-flag args, and the args it takes.
func findPlugin(args []string) (string, []string, bool) {
	var words []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			break
		}
		words = append(words, strings.ReplaceAll(a, "-", "_"))
	}
	for n := len(words); n > 0; n-- {
		if p, err := exec.LookPath(pluginPrefix + strings.Join(words[:n], "-")); err == nil {
			return p, args[n:], true
		}
	}
	return "", nil, false
}

// runPlugin runs a plugin with gantry's streams and returns its exit code.
func runPlugin(path string, args []string, streams Streams) int {
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = streams.In, streams.Out, streams.ErrOut
	cmd.Env = os.Environ()
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		fmt.Fprintf(streams.ErrOut, "error: %v\n", err)
		return 1
	}
	return 0
}

func newPluginCommand(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "plugin",
		Short: "Provides utilities for interacting with plugins",
		Long: "Provides utilities for interacting with plugins: executables on $PATH named gantry-<name>, run as\n" +
			"`gantry <name>` (dashes in the file name separate sub-commands).",
	}
	c.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List all visible plugin executables on a user's PATH",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			seen := map[string]bool{}
			var found []string
			for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
				entries, err := os.ReadDir(dir)
				if err != nil {
					continue
				}
				for _, e := range entries {
					if !strings.HasPrefix(e.Name(), pluginPrefix) || e.IsDir() {
						continue
					}
					info, err := e.Info()
					if err != nil || info.Mode()&0o111 == 0 {
						continue
					}
					p := filepath.Join(dir, e.Name())
					if !seen[p] {
						seen[p] = true
						found = append(found, p)
					}
				}
			}
			if len(found) == 0 {
				return errors.New("unable to find any gantry plugins in your PATH")
			}
			sort.Strings(found)
			fmt.Fprintln(f.Out, "The following compatible plugins are available:")
			fmt.Fprintln(f.Out)
			for _, p := range found {
				fmt.Fprintln(f.Out, p)
			}
			return nil
		},
	})
	return c
}

func newOptionsCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "options",
		Short: "Print the list of flags inherited by all commands",
		Args:  cobra.NoArgs,
		Run: func(c *cobra.Command, _ []string) {
			fmt.Fprintln(f.Out, "The following options can be passed to any command:")
			fmt.Fprintln(f.Out)
			fmt.Fprint(f.Out, c.Root().PersistentFlags().FlagUsages())
		},
	}
}
