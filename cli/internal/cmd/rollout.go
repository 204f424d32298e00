package cmd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/rollout"
)

func newRolloutCommand(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "rollout SUBCOMMAND",
		Short: "Manage the rollout of a resource",
		Long:  "Manage the rollout of one or many resources. Valid resource types: deployments.",
		Example: `  # Roll back to the previous deployment
  gantry rollout undo deployment/abc

  # Check the rollout status of a deployment
  gantry rollout status deployment/abc`,
	}
	c.AddCommand(newRolloutStatusCommand(f), newRolloutHistoryCommand(f), newRolloutUndoCommand(f),
		newRolloutRestartCommand(f), newRolloutPauseCommand(f, true), newRolloutPauseCommand(f, false))
	return c
}

// eachDeployment resolves `deployment/NAME` or `deployment NAME` arguments
// (kubectl names other kinds' rollout verbs unimplemented) and calls fn for
// each deployment in turn, stopping at the first error.
func eachDeployment(f *Factory, verb string, args []string, fn func(cs *client.Clientset, ns, name string) error) error {
	refs, err := parseResourceArgs(args)
	if err != nil {
		return err
	}
	var names []string
	for _, r := range refs {
		if r.res.Name != "deployments" {
			return fmt.Errorf("no %s has been implemented for %q", verb, r.res.Kind)
		}
		if len(r.names) == 0 {
			return errors.New("required resource not specified")
		}
		names = append(names, r.names...)
	}
	ns, _, err := f.DefaultNamespace()
	if err != nil {
		return err
	}
	cs, err := f.Client()
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := fn(cs, ns, name); err != nil {
			return err
		}
	}
	return nil
}

func newRolloutStatusCommand(f *Factory) *cobra.Command {
	watchFlag := true
	var timeout time.Duration
	var revision int64
	c := &cobra.Command{
		Use:   "status (TYPE NAME | TYPE/NAME) [flags]",
		Short: "Show the status of the rollout",
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			return eachDeployment(f, "status viewer", args, func(cs *client.Clientset, ns, name string) error {
				if revision > 0 {
					d, err := cs.Deployments(ns).Get(ctx, name)
					if err != nil {
						return err
					}
					running, _ := strconv.ParseInt(d.GetMetadata().GetAnnotations()[rollout.RevisionAnnotation], 10, 64)
					if running != revision {
						return fmt.Errorf("desired revision (%d) is different from the running revision (%d)", revision, running)
					}
				}
				if !watchFlag {
					d, err := cs.Deployments(ns).Get(ctx, name)
					if err != nil {
						return err
					}
					msg, _, err := rollout.Status(d)
					if err != nil {
						return err
					}
					fmt.Fprintln(f.Out, msg)
					return nil
				}
				err := rollout.Wait(ctx, cs, ns, name, func(msg string) { fmt.Fprintln(f.Out, msg) })
				if errors.Is(err, context.DeadlineExceeded) {
					return errors.New("timed out waiting for the condition")
				}
				if err != nil {
					return err
				}
				return nil
			})
		},
	}
	c.Flags().BoolVarP(&watchFlag, "watch", "w", true, "Watch the status of the rollout until it's done.")
	c.Flags().DurationVar(&timeout, "timeout", 0, "The length of time to wait before ending watch, zero means never.")
	c.Flags().Int64Var(&revision, "revision", 0, "Pin to a specific revision for showing its status. Defaults to 0 (last revision).")
	return c
}

func newRolloutHistoryCommand(f *Factory) *cobra.Command {
	var revision int64
	c := &cobra.Command{
		Use:   "history (TYPE NAME | TYPE/NAME) [flags]",
		Short: "View rollout history",
		RunE: func(c *cobra.Command, args []string) error {
			return eachDeployment(f, "history viewer", args, func(cs *client.Clientset, ns, name string) error {
				hist, err := rollout.History(c.Context(), cs, ns, name)
				if err != nil {
					return err
				}
				if revision > 0 {
					var found *rollout.Revision
					for i := range hist {
						if hist[i].Number == revision {
							found = &hist[i]
						}
					}
					if found == nil {
						return fmt.Errorf("unable to find the specified revision")
					}
					fmt.Fprintf(f.Out, "deployment.apps/%s with revision #%d\n", name, revision)
					w := newDescribeWriter(f.Out)
					d := &describer{w: w, now: f.Now()}
					d.podTemplate(0, found.Template)
					return w.Flush()
				}
				fmt.Fprintf(f.Out, "deployment.apps/%s \n", name)
				w := newDescribeWriter(f.Out)
				fmt.Fprintln(w, "REVISION\tCHANGE-CAUSE")
				for _, r := range hist {
					cause := r.ChangeCause
					if cause == "" {
						cause = "<none>"
					}
					fmt.Fprintf(w, "%s\t%s\n", strconv.FormatInt(r.Number, 10), cause)
				}
				if err := w.Flush(); err != nil {
					return err
				}
				fmt.Fprintln(f.Out)
				return nil
			})
		},
	}
	c.Flags().Int64Var(&revision, "revision", 0, "See the details, including podTemplate of the revision specified")
	return c
}

func newRolloutUndoCommand(f *Factory) *cobra.Command {
	var toRevision int64
	c := &cobra.Command{
		Use:   "undo (TYPE NAME | TYPE/NAME) [flags]",
		Short: "Undo a previous rollout",
		RunE: func(c *cobra.Command, args []string) error {
			return eachDeployment(f, "rollbacker", args, func(cs *client.Clientset, ns, name string) error {
				_, skipped, err := rollout.Undo(c.Context(), cs, ns, name, toRevision)
				if err != nil {
					return err
				}
				if skipped {
					fmt.Fprintf(f.Out, "deployment.apps/%s skipped rollback (current template already matches revision %d)\n", name, toRevision)
					return nil
				}
				fmt.Fprintf(f.Out, "deployment.apps/%s rolled back\n", name)
				return nil
			})
		},
	}
	c.Flags().Int64Var(&toRevision, "to-revision", 0, "The revision to rollback to. Default to 0 (last revision).")
	return c
}

func newRolloutRestartCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "restart RESOURCE",
		Short: "Restart a resource",
		RunE: func(c *cobra.Command, args []string) error {
			return eachDeployment(f, "restarter", args, func(cs *client.Clientset, ns, name string) error {
				if _, err := rollout.Restart(c.Context(), cs, ns, name, f.Now()); err != nil {
					return err
				}
				fmt.Fprintf(f.Out, "deployment.apps/%s restarted\n", name)
				return nil
			})
		},
	}
}

func newRolloutPauseCommand(f *Factory, pause bool) *cobra.Command {
	verb, short := "pause", "Mark the provided resource as paused"
	if !pause {
		verb, short = "resume", "Resume a paused resource"
	}
	return &cobra.Command{
		Use:   verb + " RESOURCE",
		Short: short,
		RunE: func(c *cobra.Command, args []string) error {
			return eachDeployment(f, verb+"r", args, func(cs *client.Clientset, ns, name string) error {
				d, err := cs.Deployments(ns).Get(c.Context(), name)
				if err != nil {
					return err
				}
				if d.GetSpec().GetPaused() == pause {
					if pause {
						return fmt.Errorf("deployments.apps %q is already paused", name)
					}
					return fmt.Errorf("deployments.apps %q is not paused", name)
				}
				if pause {
					_, err = rollout.Pause(c.Context(), cs, ns, name)
				} else {
					_, err = rollout.Resume(c.Context(), cs, ns, name)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(f.Out, "deployment.apps/%s %sd\n", name, verb)
				return nil
			})
		},
	}
}
