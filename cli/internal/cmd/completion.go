package cmd

import (
	"context"
	"time"

	"github.com/gantryhq/gantry/client"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/client/scheme"
)

func newCompletionCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "completion SHELL",
		Short: "Output shell completion code for the specified shell (bash, zsh, fish, or powershell)",
		Long: "Output shell completion code for the specified shell (bash, zsh, fish, or powershell).\n\n" +
			"  # Load completion for the current bash session\n  source <(gantry completion bash)",
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			root := c.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(f.Out, true)
			case "zsh":
				return root.GenZshCompletion(f.Out)
			case "fish":
				return root.GenFishCompletion(f.Out, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(f.Out)
			}
			return usage(c, "Unsupported shell type %q.", args[0])
		},
	}
}

// completeResources completes the first argument with the resource types
// and their short names, and the next ones with the names of that type's
// objects, read from the server (as kubectl's completion does).
func completeResources(f *Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) == 0 {
			var out []string
			for _, r := range scheme.All() {
				for _, n := range append([]string{r.Name}, r.ShortNames...) {
					if strings.HasPrefix(n, toComplete) {
						out = append(out, n)
					}
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		}
		res, err := scheme.Lookup(strings.Split(args[0], ",")[0])
		if err != nil || strings.Contains(args[0], "/") {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cs, ns, _, err := f.ClientIn()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(c.Context(), 5*time.Second)
		defer cancel()
		l, err := cs.Resource(res, namespaceFor(res, ns)).List(ctx, client.ListOptions{})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, o := range l.Items {
			if n := o.GetMetadata().GetName(); strings.HasPrefix(n, toComplete) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func registerOutputCompletion(c *cobra.Command) {
	_ = c.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"json", "yaml", "name", "wide"}, cobra.ShellCompDirectiveNoFileComp
	})
}

// completeNamesOf completes every argument with the names of one
// resource's objects (nodes for cordon and drain, pods for logs and exec).
func completeNamesOf(f *Factory, resource string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	inner := completeResources(f)
	return func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return inner(c, []string{resource}, toComplete)
	}
}
