package cmd

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/cli/internal/apply"
	"github.com/gantryhq/gantry/cli/internal/printers"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
)

func newDiffCommand(f *Factory) *cobra.Command {
	o := &fileOptions{}
	c := &cobra.Command{
		Use:   "diff -f FILENAME",
		Short: "Diff the live version against a would-be applied version",
		Long: "Diff configurations specified by file name or stdin between the current online configuration, and the\n" +
			"configuration as it would be if applied (computed by the apiserver in a dry run).\n\n" +
			"The output is `diff -u -N`'s, or that of the program in $GANTRY_EXTERNAL_DIFF (or $KUBECTL_EXTERNAL_DIFF).\n\n" +
			"Exit status: 0 no differences, 1 differences found, >1 gantry or diff failed.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			srcs, err := o.readSources(f.In)
			if err != nil {
				return err
			}
			cs, ns, explicit, err := f.ClientIn()
			if err != nil {
				return err
			}
			tmp, err := os.MkdirTemp("", "gantry-diff-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			liveDir, mergedDir := filepath.Join(tmp, "LIVE"), filepath.Join(tmp, "MERGED")
			for _, d := range []string{liveDir, mergedDir} {
				if err := os.Mkdir(d, 0o700); err != nil {
					return err
				}
			}
			for _, src := range srcs {
				ms, err := decodeSource(src)
				if err != nil {
					return err
				}
				for i := range ms {
					m := &ms[i]
					if err := setNamespace(m, ns, explicit); err != nil {
						return err
					}
					md := m.obj.GetMetadata()
					config, err := apply.Configuration(m.obj)
					if err != nil {
						return err
					}
					live, err := cs.Resource(m.res, md.GetNamespace()).Get(ctx, md.GetName())
					var merged scheme.Object
					switch {
					case client.IsNotFound(err):
						live = nil
						merged, err = createObject(ctx, cs, m.res, apply.ForCreate(m.obj, config), dryRunServer)
					case err != nil:
					default:
						// What apply would leave unchanged shows no difference.
						var same bool
						if same, err = apply.Unchanged(m.obj, live, config); same {
							merged = live
							break
						}
						var want scheme.Object
						if want, err = apply.Merge(m.obj, live, config); err == nil {
							merged, err = updateObject(ctx, cs, m.res, want, dryRunServer)
						}
					}
					if err != nil {
						return err
					}
					file := strings.Join([]string{m.res.APIVersion(), m.res.Kind, md.GetNamespace(), md.GetName()}, ".")
					file = strings.ReplaceAll(file, "/", ".")
					if live != nil {
						if err := writeYAMLFile(filepath.Join(liveDir, file), live); err != nil {
							return err
						}
					}
					if err := writeYAMLFile(filepath.Join(mergedDir, file), merged); err != nil {
						return err
					}
				}
			}
			prog := []string{"diff", "-u", "-N"}
			for _, env := range []string{"GANTRY_EXTERNAL_DIFF", "KUBECTL_EXTERNAL_DIFF"} {
				if v := os.Getenv(env); v != "" {
					prog = strings.Fields(v)
					break
				}
			}
			cmd := exec.CommandContext(ctx, prog[0], append(prog[1:], liveDir, mergedDir)...)
			cmd.Stdout, cmd.Stderr = f.Out, f.ErrOut
			err = cmd.Run()
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				if ee.ExitCode() == 1 {
					return &exitError{code: 1, silent: true}
				}
				return &exitError{code: ee.ExitCode()}
			}
			if err != nil {
				return fmt.Errorf("run %s: %w", prog[0], err)
			}
			return nil
		},
	}
	o.addFlags(c, "diff")
	return c
}

// writeYAMLFile writes obj as kubectl diff does: YAML without the
// last-applied annotation noise kept (it is part of what changes).
func writeYAMLFile(path string, obj scheme.Object) error {
	var sb strings.Builder
	if err := printers.PrintYAML(&sb, []scheme.Object{obj}, false); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(sb.String()), 0o600)
}
