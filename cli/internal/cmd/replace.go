package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
)

func newReplaceCommand(f *Factory) *cobra.Command {
	o := &fileOptions{}
	var force bool
	var output string
	c := &cobra.Command{
		Use:   "replace -f FILENAME",
		Short: "Replace a resource by file name or stdin",
		Long: "Replace a resource by file name or stdin: its metadata and spec become the manifest's. The manifest's\n" +
			"resourceVersion, when it has one, must be the live object's. With --force the object is deleted and\n" +
			"created again.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			return o.eachManifest(ctx, f, output, dryRunNone, func(cs *client.Clientset, m *manifest) (scheme.Object, string, error) {
				md := m.obj.GetMetadata()
				tc := cs.Resource(m.res, md.GetNamespace())
				if force {
					obj, _, err := tc.DeleteObject(ctx, md.GetName(), client.DeleteOptions{})
					if err != nil && !client.IsNotFound(err) {
						return nil, "", err
					}
					if err == nil {
						fmt.Fprintf(f.Out, "%s %q deleted\n", m.res.GroupKind(), md.GetName())
						uid := ""
						if obj != nil {
							uid = obj.GetMetadata().GetUid()
						}
						if err := waitGone(ctx, cs, target{res: m.res, namespace: md.GetNamespace(), name: md.GetName()}, uid); err != nil {
							return nil, "", err
						}
					}
					fresh := cloneObject(m.obj)
					meta := scheme.Meta(fresh)
					meta.ResourceVersion, meta.Uid = "", ""
					out, err := tc.Create(ctx, fresh)
					if err != nil {
						return nil, "", errWhen("creating", m.source, err)
					}
					return out, "replaced", nil
				}
				obj := cloneObject(m.obj)
				if obj.GetMetadata().GetResourceVersion() == "" {
					live, err := tc.Get(ctx, md.GetName())
					if err != nil {
						return nil, "", errWhen("replacing", m.source, err)
					}
					scheme.Meta(obj).ResourceVersion = live.GetMetadata().GetResourceVersion()
				}
				out, err := tc.Update(ctx, obj)
				if err != nil {
					return nil, "", errWhen("replacing", m.source, err)
				}
				return out, "replaced", nil
			})
		},
	}
	o.addFlags(c, "replace")
	c.Flags().BoolVar(&force, "force", false, "If true, immediately remove resources from API and bypass graceful deletion. Note that immediate deletion of some resources may result in inconsistency or data loss and requires confirmation.")
	c.Flags().StringVarP(&output, "output", "o", "", "Output format. One of: (json, yaml, name, jsonpath=...).")
	return c
}

func newAPIVersionsCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "api-versions",
		Short: "Print the supported API versions on the server, in the form of \"group/version\"",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			seen := map[string]bool{}
			var out []string
			for _, r := range scheme.All() {
				if v := r.APIVersion(); !seen[v] {
					seen[v] = true
					out = append(out, v)
				}
			}
			sortStrings(out)
			for _, v := range out {
				fmt.Fprintln(f.Out, v)
			}
			return nil
		},
	}
}
