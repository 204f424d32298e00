package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/cli/internal/apply"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
)

type createOptions struct {
	fileOptions
	output     string
	dryRun     string
	saveConfig bool
}

func newCreateCommand(f *Factory) *cobra.Command {
	o := &createOptions{}
	c := &cobra.Command{
		Use:   "create -f FILENAME",
		Short: "Create a resource from a file or from stdin",
		Example: `  # Create a pod using the data in pod.json
  gantry create -f ./pod.json

  # Create a pod based on the JSON passed into stdin
  cat pod.json | gantry create -f -`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runCreate(c.Context(), f, o) },
	}
	o.addFlags(c, "create")
	c.AddCommand(newCreateNamespaceCommand(f), newCreateDeploymentCommand(f), newCreateJobCommand(f),
		newCreateCronJobCommand(f), newCreateServiceCommand(f))
	c.Flags().StringVarP(&o.output, "output", "o", "", "Output format. One of: (json, yaml, name, jsonpath=...).")
	addDryRunFlag(c, &o.dryRun)
	c.Flags().BoolVar(&o.saveConfig, "save-config", false, "If true, the configuration of current object will be saved in its annotation. Otherwise, the annotation will be unchanged. This flag is useful when you want to perform gantry apply on this object in the future.")
	return c
}

func runCreate(ctx context.Context, f *Factory, o *createOptions) error {
	dry, err := parseDryRun(o.dryRun)
	if err != nil {
		return err
	}
	return o.eachManifest(ctx, f, o.output, dry, func(cs *client.Clientset, m *manifest) (scheme.Object, string, error) {
		toCreate := m.obj
		if o.saveConfig {
			config, err := apply.Configuration(m.obj)
			if err != nil {
				return nil, "", err
			}
			toCreate = apply.ForCreate(m.obj, config)
		}
		obj, err := createObject(ctx, cs, m.res, toCreate, dry)
		if err != nil {
			return nil, "", errWhen("creating", m.source, err)
		}
		return obj, "created", nil
	})
}
