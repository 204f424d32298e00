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
			srcs, err := o.readSources(f.In)
			if err != nil {
				return err
			}
			cs, err := f.Client()
			if err != nil {
				return err
			}
			ns, explicit, err := f.DefaultNamespace()
			if err != nil {
				return err
			}
			failed := false
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
					tc := cs.Resource(m.res, md.GetNamespace())
					var out scheme.Object
					if force {
						obj, _, err := tc.DeleteObject(ctx, md.GetName(), client.DeleteOptions{})
						if err != nil && !client.IsNotFound(err) {
							fmt.Fprintln(f.ErrOut, FormatError(err))
							failed = true
							continue
						}
						if err == nil {
							fmt.Fprintf(f.Out, "%s %q deleted\n", m.res.GroupKind(), md.GetName())
							uid := ""
							if obj != nil {
								uid = obj.GetMetadata().GetUid()
							}
							if err := waitGone(ctx, cs, target{res: m.res, namespace: md.GetNamespace(), name: md.GetName()}, uid); err != nil {
								return err
							}
						}
						fresh := cloneObject(m.obj)
						meta := scheme.Meta(fresh)
						meta.ResourceVersion, meta.Uid = "", ""
						out, err = tc.Create(ctx, fresh)
						if err != nil {
							fmt.Fprintln(f.ErrOut, FormatError(errWhen("creating", m.source, err)))
							failed = true
							continue
						}
					} else {
						obj := cloneObject(m.obj)
						if obj.GetMetadata().GetResourceVersion() == "" {
							live, err := tc.Get(ctx, md.GetName())
							if err != nil {
								fmt.Fprintln(f.ErrOut, FormatError(errWhen("replacing", m.source, err)))
								failed = true
								continue
							}
							scheme.Meta(obj).ResourceVersion = live.GetMetadata().GetResourceVersion()
						}
						out, err = tc.Update(ctx, obj)
						if err != nil {
							fmt.Fprintln(f.ErrOut, FormatError(errWhen("replacing", m.source, err)))
							failed = true
							continue
						}
					}
					if err := printResult(f, output, m.res, out, "replaced"); err != nil {
						return err
					}
				}
			}
			if failed {
				return errReported
			}
			return nil
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
