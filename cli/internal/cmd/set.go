package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/client/scheme"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

func newSetCommand(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "set SUBCOMMAND",
		Short: "Set specific features on objects",
	}
	c.AddCommand(newSetImageCommand(f), newSetEnvCommand(f))
	return c
}

// podSpecOf is the pod spec an object runs (nil for other kinds).
func podSpecOf(obj scheme.Object) *corev1.PodSpec {
	switch o := obj.(type) {
	case *corev1.Pod:
		return o.GetSpec()
	case *appsv1.Deployment:
		return o.GetSpec().GetTemplate().GetSpec()
	case *appsv1.ReplicaSet:
		return o.GetSpec().GetTemplate().GetSpec()
	case *batchv1.Job:
		return o.GetSpec().GetTemplate().GetSpec()
	case *batchv1.CronJob:
		return o.GetSpec().GetJobTemplate().GetSpec().GetTemplate().GetSpec()
	}
	return nil
}

// splitAssignments separates resource arguments from NAME=VALUE ones.
func splitAssignments(args []string) (resources []string, pairs [][2]string) {
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok {
			pairs = append(pairs, [2]string{k, v})
		} else {
			resources = append(resources, a)
		}
	}
	return resources, pairs
}

func newSetImageCommand(f *Factory) *cobra.Command {
	var selector string
	var all bool
	c := &cobra.Command{
		Use:   "image (-f FILENAME | TYPE NAME) CONTAINER_NAME_1=CONTAINER_IMAGE_1 ... CONTAINER_NAME_N=CONTAINER_IMAGE_N",
		Short: "Update the image of a pod template",
		Example: `  # Set a deployment's nginx container image to 'nginx:1.9.1'
  gantry set image deployment/nginx nginx=nginx:1.9.1

  # Update image of all containers of deployment nginx to 'nginx:1.9.1'
  gantry set image deployment nginx *=nginx:1.9.1`,
		RunE: func(c *cobra.Command, args []string) error {
			resArgs, pairs := splitAssignments(args)
			if len(pairs) == 0 {
				return usage(c, "at least one image update is required")
			}
			refs, err := parseResourceArgs(resArgs)
			if err != nil {
				return err
			}
			return updateTargets(c.Context(), f, refs, selector, all, func(t target, obj scheme.Object) (bool, error) {
				spec := podSpecOf(obj)
				if spec == nil {
					return false, fmt.Errorf("%s/%s has no pod template", t.res.GroupKind(), t.name)
				}
				changed := false
				for _, p := range pairs {
					found := false
					for _, ct := range append(append([]*corev1.Container{}, spec.GetInitContainers()...), spec.GetContainers()...) {
						if p[0] == "*" || ct.GetName() == p[0] {
							found = true
							if ct.Image != p[1] {
								ct.Image = p[1]
								changed = true
							}
						}
					}
					if !found {
						return false, fmt.Errorf("unable to find container named %q", p[0])
					}
				}
				return changed, nil
			}, func(changed bool) string {
				if changed {
					return "image updated"
				}
				return ""
			})
		},
	}
	c.Flags().StringVarP(&selector, "selector", "l", "", "Selector (label query) to filter on.")
	c.Flags().BoolVar(&all, "all", false, "Select all resources, in the namespace of the specified resource types")
	return c
}

func newSetEnvCommand(f *Factory) *cobra.Command {
	var selector, containerName string
	var all bool
	c := &cobra.Command{
		Use:   "env RESOURCE/NAME KEY_1=VAL_1 ... KEY_N=VAL_N",
		Short: "Update environment variables on a pod template",
		Example: `  # Update deployment 'registry' with a new environment variable
  gantry set env deployment/registry STORAGE_DIR=/local

  # Remove the environment variable ENV from container 'c1' in all deployments
  gantry set env deployments --all --containers="c1" ENV-`,
		RunE: func(c *cobra.Command, args []string) error {
			var resArgs, removes []string
			var sets [][2]string
			for _, a := range args {
				switch k, v, ok := strings.Cut(a, "="); {
				case ok:
					sets = append(sets, [2]string{k, v})
				case strings.HasSuffix(a, "-") && len(resArgs) > 0:
					removes = append(removes, strings.TrimSuffix(a, "-"))
				default:
					resArgs = append(resArgs, a)
				}
			}
			if len(sets) == 0 && len(removes) == 0 {
				return usage(c, "at least one environment variable must be provided")
			}
			refs, err := parseResourceArgs(resArgs)
			if err != nil {
				return err
			}
			return updateTargets(c.Context(), f, refs, selector, all, func(t target, obj scheme.Object) (bool, error) {
				spec := podSpecOf(obj)
				if spec == nil {
					return false, fmt.Errorf("%s/%s has no pod template", t.res.GroupKind(), t.name)
				}
				changed := false
				for _, ct := range spec.GetContainers() {
					if containerName != "*" && containerName != "" && ct.GetName() != containerName {
						continue
					}
					for _, s := range sets {
						found := false
						for _, e := range ct.Env {
							if e.GetName() == s[0] {
								found = true
								if e.Value != s[1] || e.ValueFrom != nil {
									e.Value, e.ValueFrom = s[1], nil
									changed = true
								}
							}
						}
						if !found {
							ct.Env = append(ct.Env, &corev1.EnvVar{Name: s[0], Value: s[1]})
							changed = true
						}
					}
					for _, r := range removes {
						kept := ct.Env[:0]
						for _, e := range ct.Env {
							if e.GetName() == r {
								changed = true
								continue
							}
							kept = append(kept, e)
						}
						ct.Env = kept
					}
				}
				return changed, nil
			}, func(changed bool) string {
				if changed {
					return "env updated"
				}
				return ""
			})
		},
	}
	c.Flags().StringVarP(&selector, "selector", "l", "", "Selector (label query) to filter on.")
	c.Flags().BoolVar(&all, "all", false, "Select all resources, in the namespace of the specified resource types")
	c.Flags().StringVarP(&containerName, "containers", "c", "*", "The names of containers in the selected pod templates to change - may use wildcards")
	return c
}
