package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/cli/internal/apply"
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
			fmt.Fprintln(f.ErrOut, FormatError(err))
			failed = true
			continue
		}
		for i := range ms {
			m := &ms[i]
			if err := setNamespace(m, ns, explicit); err != nil {
				fmt.Fprintln(f.ErrOut, FormatError(err))
				failed = true
				continue
			}
			toCreate := m.obj
			if o.saveConfig {
				config, err := apply.Configuration(m.obj)
				if err != nil {
					return err
				}
				toCreate = apply.ForCreate(m.obj, config)
			}
			obj, err := createObject(ctx, cs, m.res, toCreate, dry)
			if err != nil {
				fmt.Fprintln(f.ErrOut, FormatError(errWhen("creating", m.source, err)))
				failed = true
				continue
			}
			if err := printResult(f, o.output, m.res, obj, "created"+dry.suffix()); err != nil {
				return err
			}
		}
	}
	if failed {
		return errReported
	}
	return nil
}
