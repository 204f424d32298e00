package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
)

type deleteOptions struct {
	fileOptions
	selector       string
	fieldSelector  string
	all            bool
	allNamespaces  bool
	gracePeriod    int
	force          bool
	now            bool
	wait           bool
	timeout        time.Duration
	ignoreNotFound bool
	output         string
	cascade        string
}

func newDeleteCommand(f *Factory) *cobra.Command {
	o := &deleteOptions{}
	c := &cobra.Command{
		Use:   "delete ([-f FILENAME] | TYPE [(NAME | -l label | --all)])",
		Short: "Delete resources by file names, stdin, resources and names, or by resources and label selector",
		Example: `  # Delete the objects of a manifest
  gantry delete -f ./web.yaml

  # Delete pods and services with same names "baz" and "foo"
  gantry delete pod,service baz foo

  # Delete pods and services with label name=myLabel
  gantry delete pods,services -l name=myLabel

  # Force delete a pod on a dead node
  gantry delete pod foo --grace-period=0 --force`,
		ValidArgsFunction: completeResources(f),
		RunE:              func(c *cobra.Command, args []string) error { return runDelete(c, f, o, args) },
	}
	o.addFlags(c, "delete")
	fl := c.Flags()
	fl.StringVarP(&o.selector, "selector", "l", "", "Selector (label query) to filter on.")
	fl.StringVar(&o.fieldSelector, "field-selector", "", "Selector (field query) to filter on.")
	fl.BoolVar(&o.all, "all", false, "Delete all resources, in the namespace of the specified resource types.")
	fl.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "If present, list the requested object(s) across all namespaces.")
	fl.IntVar(&o.gracePeriod, "grace-period", -1, "Period of time in seconds given to the resource to terminate gracefully. Ignored if negative. Set to 1 for immediate shutdown. Can only be set to 0 when --force is true (force deletion).")
	fl.BoolVar(&o.force, "force", false, "If true, immediately remove resources from API and bypass graceful deletion.")
	fl.BoolVar(&o.now, "now", false, "If true, resources are signaled for immediate shutdown (same as --grace-period=1).")
	fl.BoolVar(&o.wait, "wait", true, "If true, wait for resources to be gone before returning. This waits for finalizers.")
	fl.DurationVar(&o.timeout, "timeout", 0, "The length of time to wait before giving up on a delete, zero means determine a timeout from the size of the object")
	fl.BoolVar(&o.ignoreNotFound, "ignore-not-found", false, "Treat \"resource not found\" as a successful delete.")
	fl.StringVarP(&o.output, "output", "o", "", "Output mode. Use \"-o name\" for shorter output (resource/name).")
	fl.StringVar(&o.cascade, "cascade", "background", "Must be \"background\", \"orphan\", or \"foreground\".")
	return c
}

// target is one object to delete.
type target struct {
	res       *scheme.Resource
	namespace string
	name      string
}

func runDelete(c *cobra.Command, f *Factory, o *deleteOptions, args []string) error {
	ctx := c.Context()
	if o.now {
		if o.gracePeriod != -1 {
			return errors.New("--now and --grace-period cannot be specified together")
		}
		o.gracePeriod = 1
	}
	if o.gracePeriod == 0 && !o.force {
		o.gracePeriod = 1
	}
	if o.force && o.gracePeriod < 0 {
		o.gracePeriod = 0
	}
	var policy client.PropagationPolicy
	switch o.cascade {
	case "background", "true":
		policy = client.DeletePropagationBackground
	case "orphan", "false":
		policy = client.DeletePropagationOrphan
	case "foreground":
		policy = client.DeletePropagationForeground
	default:
		return fmt.Errorf("invalid cascade value (%v). Must be \"background\", \"foreground\", or \"orphan\"", o.cascade)
	}
	cs, ns, explicit, err := f.ClientIn()
	if err != nil {
		return err
	}
	var targets []target
	ignoreNotFound := o.ignoreNotFound
	switch {
	case len(o.filenames) > 0:
		if len(args) > 0 {
			return usage(c, "cannot specify both -f and resource arguments")
		}
		srcs, err := o.readSources(f.In)
		if err != nil {
			return err
		}
		for _, src := range srcs {
			ms, err := decodeSource(src)
			if err != nil {
				return err
			}
			for i := range ms {
				if err := setNamespace(&ms[i], ns, explicit); err != nil {
					return err
				}
				md := ms[i].obj.GetMetadata()
				targets = append(targets, target{res: ms[i].res, namespace: md.GetNamespace(), name: md.GetName()})
			}
		}
	default:
		refs, err := parseResourceArgs(args)
		if err != nil {
			return usage(c, "%s", err.Error())
		}
		listNS := ns
		if o.allNamespaces {
			listNS = ""
		}
		for _, ref := range refs {
			if len(ref.names) > 0 {
				if o.all || o.selector != "" {
					return errors.New("name cannot be provided when a selector is specified")
				}
				for _, n := range ref.names {
					targets = append(targets, target{res: ref.res, namespace: namespaceFor(ref.res, ns), name: n})
				}
				continue
			}
			if !o.all && o.selector == "" && o.fieldSelector == "" {
				return errors.New("resource(s) were provided, but no name was specified")
			}
			ignoreNotFound = true // listed: one gone meanwhile is fine
			l, err := list(ctx, cs, ref.res, listNS, client.ListOptions{LabelSelector: o.selector, FieldSelector: o.fieldSelector})
			if err != nil {
				return err
			}
			for _, obj := range l.Items {
				targets = append(targets, target{res: ref.res, namespace: obj.GetMetadata().GetNamespace(), name: obj.GetMetadata().GetName()})
			}
		}
		if len(targets) == 0 {
			fmt.Fprintln(f.ErrOut, noResources(ns, o.allNamespaces, refs))
			return nil
		}
	}
	if o.force && o.gracePeriod == 0 {
		fmt.Fprintln(f.ErrOut, "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.")
	}
	opts := client.DeleteOptions{PropagationPolicy: policy}
	if o.gracePeriod >= 0 {
		g := int64(o.gracePeriod)
		opts.GracePeriodSeconds = &g
	}
	var failed bool
	type pending struct {
		t   target
		uid string
	}
	var waits []pending
	for _, t := range targets {
		obj, _, err := cs.Resource(t.res, t.namespace).DeleteObject(ctx, t.name, opts)
		if err != nil {
			if client.IsNotFound(err) && ignoreNotFound {
				continue
			}
			fmt.Fprintln(f.ErrOut, FormatError(err))
			failed = true
			continue
		}
		if o.output == "name" {
			fmt.Fprintf(f.Out, "%s/%s\n", t.res.GroupKind(), t.name)
		} else {
			verb := "deleted"
			if o.force && o.gracePeriod == 0 {
				verb = "force deleted"
			}
			fmt.Fprintf(f.Out, "%s %q %s\n", t.res.GroupKind(), t.name, verb)
		}
		uid := ""
		if obj != nil && obj.GetMetadata() != nil {
			uid = obj.GetMetadata().GetUid()
		}
		waits = append(waits, pending{t: t, uid: uid})
	}
	if o.wait {
		wctx := ctx
		if o.timeout > 0 {
			var cancel context.CancelFunc
			wctx, cancel = context.WithTimeout(ctx, o.timeout)
			defer cancel()
		}
		for _, p := range waits {
			if err := waitGone(wctx, cs, p.t, p.uid); err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					fmt.Fprintf(f.ErrOut, "error: timed out waiting for the condition on %s/%s\n", p.t.res.Name, p.t.name)
					failed = true
					continue
				}
				return err
			}
		}
	}
	if failed {
		return errReported
	}
	return nil
}

// waitGone waits until t no longer exists (or exists with another uid).
func waitGone(ctx context.Context, cs *client.Clientset, t target, uid string) error {
	tc := cs.Resource(t.res, t.namespace)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		obj, err := tc.Get(ctx, t.name)
		if client.IsNotFound(err) {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if uid != "" && obj.GetMetadata().GetUid() != uid {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
