package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

func newCordonCommand(f *Factory, cordon bool) *cobra.Command {
	name, short := "cordon", "Mark node as unschedulable"
	if !cordon {
		name, short = "uncordon", "Mark node as schedulable"
	}
	var selector string
	c := &cobra.Command{
		Use:               name + " NODE",
		ValidArgsFunction: completeNamesOf(f, "nodes"),
		Short:             short,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 && selector == "" {
				return usage(c, "USAGE: %s NODE [flags]", name)
			}
			nodes, err := selectNodes(c.Context(), f, args, selector)
			if err != nil {
				return err
			}
			cs, _ := f.Client()
			failed := false
			for _, n := range nodes {
				if err := setUnschedulable(c.Context(), f, cs, n, cordon); err != nil {
					fmt.Fprintln(f.ErrOut, FormatError(err))
					failed = true
				}
			}
			if failed {
				return errReported
			}
			return nil
		},
	}
	c.Flags().StringVarP(&selector, "selector", "l", "", "Selector (label query) to filter on.")
	return c
}

func selectNodes(ctx context.Context, f *Factory, names []string, selector string) ([]string, error) {
	if selector == "" {
		return names, nil
	}
	cs, err := f.Client()
	if err != nil {
		return nil, err
	}
	l, err := cs.Nodes().List(ctx, client.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	out := append([]string(nil), names...)
	for _, n := range l.Items {
		out = append(out, n.GetMetadata().GetName())
	}
	return out, nil
}

// setUnschedulable cordons (or uncordons) a node and says so:
// "node/n1 cordoned", "node/n1 already cordoned".
func setUnschedulable(ctx context.Context, f *Factory, cs *client.Clientset, name string, on bool) error {
	verb := "cordoned"
	if !on {
		verb = "uncordoned"
	}
	res, _ := scheme.ByName("nodes")
	changed, err := update(ctx, cs, target{res: res, name: name}, func(obj scheme.Object) (bool, error) {
		n := obj.(*corev1.Node)
		if n.GetSpec().GetUnschedulable() == on {
			return false, nil
		}
		if n.Spec == nil {
			n.Spec = &corev1.NodeSpec{}
		}
		n.Spec.Unschedulable = on
		return true, nil
	})
	if err != nil {
		return err
	}
	if !changed {
		verb = "already " + verb
	}
	fmt.Fprintf(f.Out, "node/%s %s\n", name, verb)
	return nil
}

type drainOptions struct {
	force              bool
	ignoreDaemonSets   bool
	deleteEmptyDirData bool
	gracePeriod        int
	timeout            time.Duration
	selector           string
	podSelector        string
	disableEviction    bool
}

func newDrainCommand(f *Factory) *cobra.Command {
	o := &drainOptions{}
	c := &cobra.Command{
		Use:               "drain NODE",
		ValidArgsFunction: completeNamesOf(f, "nodes"),
		Short:             "Drain node in preparation for maintenance",
		Long: "Drain node in preparation for maintenance.\n\n" +
			"The node is marked unschedulable (cordoned), then the pods on it are deleted, except those a\n" +
			"DaemonSet manages (with --ignore-daemonsets). Pods no controller manages are deleted only with --force.",
		Example: `  # Drain node "foo", even if there are pods not managed by a controller on it
  gantry drain foo --force

  # As above, but abort if there are pods not managed by a controller, and use a grace period of 15 minutes
  gantry drain foo --grace-period=900`,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 && o.selector == "" {
				return usage(c, "USAGE: drain NODE [flags]")
			}
			nodes, err := selectNodes(c.Context(), f, args, o.selector)
			if err != nil {
				return err
			}
			for _, n := range nodes {
				if err := drainNode(c.Context(), f, o, n); err != nil {
					return err
				}
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.BoolVar(&o.force, "force", false, "Continue even if there are pods that do not declare a controller.")
	fl.BoolVar(&o.ignoreDaemonSets, "ignore-daemonsets", false, "Ignore DaemonSet-managed pods.")
	fl.BoolVar(&o.deleteEmptyDirData, "delete-emptydir-data", false, "Continue even if there are pods using emptyDir (local data that will be deleted when the node is drained).")
	fl.IntVar(&o.gracePeriod, "grace-period", -1, "Period of time in seconds given to each pod to terminate gracefully. If negative, the default value specified in the pod will be used.")
	fl.DurationVar(&o.timeout, "timeout", 0, "The length of time to wait before giving up, zero means infinite")
	fl.StringVarP(&o.selector, "selector", "l", "", "Selector (label query) to filter on")
	fl.StringVar(&o.podSelector, "pod-selector", "", "Label selector to filter pods on the node")
	fl.BoolVar(&o.disableEviction, "disable-eviction", false, "Accepted for kubectl compatibility: Gantry always deletes pods.")
	return c
}

// controllerOf is the managing owner of a pod, nil when none.
func controllerOf(p *corev1.Pod) (kind string, ok bool) {
	for _, r := range p.GetMetadata().GetOwnerReferences() {
		if r.GetController() {
			return r.GetKind(), true
		}
	}
	return "", false
}

func drainNode(ctx context.Context, f *Factory, o *drainOptions, node string) error {
	cs, err := f.Client()
	if err != nil {
		return err
	}
	if err := setUnschedulable(ctx, f, cs, node, true); err != nil {
		return err
	}
	l, err := cs.Pods("").ListAll(ctx, client.ListOptions{FieldSelector: "spec.nodeName=" + node, LabelSelector: o.podSelector, Limit: 500})
	if err != nil {
		return err
	}
	var toDelete []*corev1.Pod
	var daemonSet, unmanaged, localData []string
	for _, p := range l.Items {
		key := p.GetMetadata().GetNamespace() + "/" + p.GetMetadata().GetName()
		if _, mirror := p.GetMetadata().GetAnnotations()["kubernetes.io/config.mirror"]; mirror {
			continue
		}
		if p.GetMetadata().GetDeletionTimestamp() != nil {
			continue
		}
		finished := p.GetStatus().GetPhase() == "Succeeded" || p.GetStatus().GetPhase() == "Failed"
		kind, managed := controllerOf(p)
		if managed && kind == "DaemonSet" {
			daemonSet = append(daemonSet, key)
			continue
		}
		if !managed && !finished {
			unmanaged = append(unmanaged, key)
		}
		if !finished {
			for _, v := range p.GetSpec().GetVolumes() {
				if v.GetEmptyDir() != nil {
					localData = append(localData, key)
					break
				}
			}
		}
		toDelete = append(toDelete, p)
	}
	var problems []string
	if len(daemonSet) > 0 && !o.ignoreDaemonSets {
		problems = append(problems, "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): "+strings.Join(daemonSet, ", "))
	}
	if len(unmanaged) > 0 && !o.force {
		problems = append(problems, "cannot delete Pods that declare no controller (use --force to override): "+strings.Join(unmanaged, ", "))
	}
	if len(localData) > 0 && !o.deleteEmptyDirData {
		problems = append(problems, "cannot delete Pods with local storage (use --delete-emptydir-data to override): "+strings.Join(localData, ", "))
	}
	if len(problems) > 0 {
		fmt.Fprintf(f.ErrOut, "error: unable to drain node %q due to error: [%s], continuing command...\n", node, strings.Join(problems, ", "))
		fmt.Fprintf(f.ErrOut, "There are pending nodes to be drained:\n %s\n", node)
		for _, p := range problems {
			fmt.Fprintln(f.ErrOut, "error: "+p)
		}
		return errReported
	}
	var warnings []string
	if len(daemonSet) > 0 {
		warnings = append(warnings, "ignoring DaemonSet-managed Pods: "+strings.Join(daemonSet, ", "))
	}
	if len(unmanaged) > 0 {
		warnings = append(warnings, "deleting Pods that declare no controller: "+strings.Join(unmanaged, ", "))
	}
	if len(warnings) > 0 {
		fmt.Fprintln(f.ErrOut, "Warning: "+strings.Join(warnings, "; "))
	}
	opts := client.DeleteOptions{}
	if o.gracePeriod >= 0 {
		g := int64(o.gracePeriod)
		opts.GracePeriodSeconds = &g
	}
	wctx := ctx
	if o.timeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	res, _ := scheme.ByName("pods")
	for _, p := range toDelete {
		md := p.GetMetadata()
		fmt.Fprintf(f.Out, "evicting pod %s/%s\n", md.GetNamespace(), md.GetName())
		if err := cs.Pods(md.GetNamespace()).Delete(wctx, md.GetName(), opts); err != nil && !client.IsNotFound(err) {
			return err
		}
	}
	for _, p := range toDelete {
		md := p.GetMetadata()
		err := waitGone(wctx, cs, target{res: res, namespace: md.GetNamespace(), name: md.GetName()}, md.GetUid())
		if errors.Is(err, context.DeadlineExceeded) {
			fmt.Fprintf(f.ErrOut, "error: unable to drain node %q due to error: drain did not complete within %s, continuing command...\n", node, o.timeout)
			return errReported
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(f.Out, "pod/%s evicted\n", md.GetName())
	}
	fmt.Fprintf(f.Out, "node/%s drained\n", node)
	return nil
}
