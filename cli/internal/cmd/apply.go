package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/cli/internal/apply"
	"github.com/gantryhq/gantry/cli/internal/printers"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
)

type applyOptions struct {
	fileOptions
	output string
	dryRun string
}

func newApplyCommand(f *Factory) *cobra.Command {
	o := &applyOptions{}
	c := &cobra.Command{
		Use:   "apply (-f FILENAME | -k DIRECTORY)",
		Short: "Apply a configuration to a resource by file name or stdin",
		Long: "Apply a configuration to a resource by file name or stdin. The resource is created if it\n" +
			"doesn't exist yet, and updated to the configuration otherwise. JSON and YAML formats are accepted.",
		Example: `  # Apply the configuration in web.yaml
  gantry apply -f ./web.yaml

  # Apply every manifest in a directory and its subdirectories
  gantry apply -R -f ./manifests/

  # Apply the JSON passed into stdin
  cat pod.json | gantry apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runApply(c.Context(), f, o) },
	}
	o.addFlags(c, "apply")
	c.Flags().StringVarP(&o.output, "output", "o", "", "Output format. One of: (json, yaml, name, jsonpath=...).")
	addDryRunFlag(c, &o.dryRun)
	return c
}

func runApply(ctx context.Context, f *Factory, o *applyOptions) error {
	dry, err := parseDryRun(o.dryRun)
	if err != nil {
		return err
	}
	return o.eachManifest(ctx, f, o.output, dry, func(cs *client.Clientset, m *manifest) (scheme.Object, string, error) {
		result, obj, err := applyOne(ctx, f, cs, m, dry)
		return obj, result, err
	})
}

// applyOne creates m's object or brings the live one to it, and says which
// ("created", "configured", "unchanged").
func applyOne(ctx context.Context, f *Factory, cs *client.Clientset, m *manifest, dry dryRun) (string, scheme.Object, error) {
	md := m.obj.GetMetadata()
	if md.GetName() == "" {
		return "", nil, fmt.Errorf("error when retrieving current configuration of %s from %q: resource name may not be empty", m.res.Kind, m.source)
	}
	tc := cs.Resource(m.res, md.GetNamespace())
	config, err := apply.Configuration(m.obj)
	if err != nil {
		return "", nil, err
	}
	var result string
	var out scheme.Object
	err = client.RetryOnConflict(ctx, func() error {
		live, err := tc.Get(ctx, md.GetName())
		if client.IsNotFound(err) {
			out, err = createObject(ctx, cs, m.res, apply.ForCreate(m.obj, config), dry)
			if err != nil {
				return errWhen("creating", m.source, err)
			}
			result = "created"
			return nil
		}
		if err != nil {
			return &opError{prefix: fmt.Sprintf("error when retrieving current configuration of:\nResource: %q, GroupVersionKind: %q\nName: %q, Namespace: %q\nfrom server for: %q",
				m.res.GroupResource(), m.res.APIVersion()+", Kind="+m.res.Kind, md.GetName(), md.GetNamespace(), m.source), err: err}
		}
		same, err := apply.Unchanged(m.obj, live, config)
		if err != nil {
			return err
		}
		if _, ok := live.GetMetadata().GetAnnotations()[apply.LastAppliedAnnotation]; !ok && !same {
			fmt.Fprintf(f.ErrOut, "Warning: resource %s/%s is missing the %s annotation which is required by gantry apply. "+
				"gantry apply should only be used on resources created declaratively by either gantry create --save-config or gantry apply. "+
				"The missing annotation will be patched automatically.\n", m.res.GroupResource(), md.GetName(), apply.LastAppliedAnnotation)
		}
		if same {
			result, out = "unchanged", live
			return nil
		}
		merged, err := apply.Merge(m.obj, live, config)
		if err != nil {
			return err
		}
		out, err = updateObject(ctx, cs, m.res, merged, dry)
		if err != nil {
			if client.IsConflict(err) {
				return err // retried
			}
			return errWhen("patching", m.source, err)
		}
		result = "configured"
		return nil
	})
	if err != nil && client.IsConflict(err) {
		err = errWhen("patching", m.source, err)
	}
	return result, out, err
}

// printResult writes `deployment.apps/web created`, or the object with -o.
func printResult(f *Factory, output string, res *scheme.Resource, obj scheme.Object, result string) error {
	if output == "" {
		fmt.Fprintf(f.Out, "%s %s\n", printers.Name(res, obj), result)
		return nil
	}
	p, err := printers.NewPrinter(f.Out, res, output, printers.TableOptions{Now: f.Now})
	if err != nil {
		return err
	}
	return p.Print([]scheme.Object{obj}, false)
}
