package cmd

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/cli/internal/printers"
	"github.com/gantryhq/gantry/client/codec"
	"github.com/gantryhq/gantry/client/scheme"
)

// editorCommand is the editor edit runs: $GANTRY_EDITOR, $KUBE_EDITOR,
// $EDITOR, else vi.
func editorCommand() []string {
	for _, env := range []string{"GANTRY_EDITOR", "KUBE_EDITOR", "EDITOR"} {
		if v := strings.TrimSpace(os.Getenv(env)); v != "" {
			return strings.Fields(v)
		}
	}
	return []string{"vi"}
}

const editHeader = `# Please edit the object below. Lines beginning with a '#' will be ignored,
# and an empty file will abort the edit. If an error occurs while saving this file will be
# reopened with the relevant failures.
#
`

func newEditCommand(f *Factory) *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "edit (RESOURCE/NAME | -f FILENAME)",
		Short: "Edit a resource on the server",
		Long: "Edit a resource from the default editor ($GANTRY_EDITOR, $KUBE_EDITOR or $EDITOR, else vi),\n" +
			"in YAML (or JSON with -o json). Its metadata and spec are written back when the editor exits.",
		ValidArgsFunction: completeResources(f),
		RunE: func(c *cobra.Command, args []string) error {
			if output != "yaml" && output != "json" {
				return fmt.Errorf("the flag 'output' must be one of yaml|json")
			}
			refs, err := parseResourceArgs(args)
			if err != nil {
				return err
			}
			ctx := c.Context()
			targets, err := targetsOf(ctx, f, refs, "", false)
			if err != nil {
				return err
			}
			cs, _ := f.Client()
			for _, t := range targets {
				tc := cs.Resource(t.res, t.namespace)
				obj, err := tc.Get(ctx, t.name)
				if err != nil {
					return err
				}
				var buf bytes.Buffer
				buf.WriteString(editHeader)
				if output == "json" {
					err = printers.PrintJSON(&buf, []scheme.Object{obj}, false)
				} else {
					err = printers.PrintYAML(&buf, []scheme.Object{obj}, false)
				}
				if err != nil {
					return err
				}
				original := buf.String()
				edited, path, err := runEditor(f, t.res.Name+"-"+t.name, "."+output, original)
				if err != nil {
					return err
				}
				body := stripComments(edited)
				if strings.TrimSpace(body) == "" {
					fmt.Fprintln(f.Out, "Edit cancelled, no changes made.")
					os.Remove(path)
					continue
				}
				if edited == original {
					fmt.Fprintln(f.Out, "Edit cancelled, no changes made.")
					os.Remove(path)
					continue
				}
				msgs, err := codec.DecodeManifests(strings.NewReader(body))
				if err == nil && len(msgs) != 1 {
					err = fmt.Errorf("the edited file holds %d objects, want 1", len(msgs))
				}
				if err != nil {
					return fmt.Errorf("%v\nA copy of your changes has been stored to %q", err, path)
				}
				up, ok := msgs[0].(scheme.Object)
				if !ok {
					return fmt.Errorf("edited object is not a %s", t.res.Kind)
				}
				if res, _ := scheme.ForMessage(up); res != t.res || up.GetMetadata().GetName() != t.name {
					return fmt.Errorf("the edited object must stay %s %q\nA copy of your changes has been stored to %q", t.res.Kind, t.name, path)
				}
				if _, err := tc.Update(ctx, up); err != nil {
					fmt.Fprintln(f.ErrOut, FormatError(err))
					return fmt.Errorf("A copy of your changes has been stored to %q", path)
				}
				os.Remove(path)
				fmt.Fprintf(f.Out, "%s/%s edited\n", t.res.GroupKind(), t.name)
			}
			return nil
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "yaml", "Output format. One of: (yaml, json).")
	return c
}

// runEditor writes content to a temp file, runs the editor on it and
// returns what the file then holds, and the file's path.
func runEditor(f *Factory, name, ext, content string) (string, string, error) {
	file, err := os.CreateTemp("", "gantry-edit-"+strings.ReplaceAll(name, "/", "-")+"-*"+ext)
	if err != nil {
		return "", "", err
	}
	path := file.Name()
	if _, err := file.WriteString(content); err != nil {
		file.Close()
		return "", path, err
	}
	if err := file.Close(); err != nil {
		return "", path, err
	}
	ed := editorCommand()
	cmd := exec.Command(ed[0], append(ed[1:], path)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = f.In, f.Out, f.ErrOut
	if in, ok := f.In.(*os.File); ok {
		cmd.Stdin = in
	}
	if err := cmd.Run(); err != nil {
		return "", path, fmt.Errorf("there was a problem with the editor %q: %w", filepath.Base(ed[0]), err)
	}
	b, err := os.ReadFile(path)
	return string(b), path, err
}

// stripComments drops the lines starting with '#'.
func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
