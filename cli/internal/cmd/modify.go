package cmd

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/reflect/protoreflect"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
)

// targetsOf resolves resource arguments (with -l / --all) to objects.
func targetsOf(ctx context.Context, f *Factory, refs []resourceRef, selector string, all bool) ([]target, error) {
	cs, ns, _, err := f.ClientIn()
	if err != nil {
		return nil, err
	}
	var out []target
	for _, ref := range refs {
		if len(ref.names) > 0 {
			if selector != "" || all {
				return nil, errors.New("name cannot be provided when a selector is specified")
			}
			for _, n := range ref.names {
				out = append(out, target{res: ref.res, namespace: namespaceFor(ref.res, ns), name: n})
			}
			continue
		}
		if selector == "" && !all {
			return nil, errors.New("resource(s) were provided, but no name was specified")
		}
		l, err := list(ctx, cs, ref.res, ns, client.ListOptions{LabelSelector: selector})
		if err != nil {
			return nil, err
		}
		for _, obj := range l.Items {
			out = append(out, target{res: ref.res, namespace: obj.GetMetadata().GetNamespace(), name: obj.GetMetadata().GetName()})
		}
	}
	return out, nil
}

// update reads t, lets change modify it (returning false when there is
// nothing to do) and writes it back, retrying on conflicts.
func update(ctx context.Context, cs *client.Clientset, t target, change func(obj scheme.Object) (bool, error)) (bool, error) {
	tc := cs.Resource(t.res, t.namespace)
	changed := false
	err := client.RetryOnConflict(ctx, func() error {
		obj, err := tc.Get(ctx, t.name)
		if err != nil {
			return err
		}
		changed, err = change(obj)
		if err != nil || !changed {
			return err
		}
		_, err = tc.Update(ctx, obj)
		return err
	})
	return changed, err
}

// updateTargets resolves refs (with -l / --all) and updates each object
// with change (see update). report, given whether it changed, says what to
// print for it as "<kind>/<name> <report>" ("" prints nothing). A target that fails is
// reported on ErrOut and the rest go on, as kubectl does; the command then
// fails with errReported.
func updateTargets(ctx context.Context, f *Factory, refs []resourceRef, selector string, all bool,
	change func(t target, obj scheme.Object) (bool, error), report func(changed bool) string) error {
	targets, err := targetsOf(ctx, f, refs, selector, all)
	if err != nil {
		return err
	}
	cs, err := f.Client()
	if err != nil {
		return err
	}
	failed := false
	for _, t := range targets {
		changed, err := update(ctx, cs, t, func(obj scheme.Object) (bool, error) { return change(t, obj) })
		if err != nil {
			fmt.Fprintln(f.ErrOut, FormatError(err))
			failed = true
			continue
		}
		if r := report(changed); r != "" {
			fmt.Fprintf(f.Out, "%s/%s %s\n", t.res.GroupKind(), t.name, r)
		}
	}
	if failed {
		return errReported
	}
	return nil
}

// --- scale

func newScaleCommand(f *Factory) *cobra.Command {
	var replicas, currentReplicas int
	var selector string
	var all bool
	c := &cobra.Command{
		Use:   "scale [--current-replicas=count] --replicas=COUNT (-f FILENAME | TYPE NAME)",
		Short: "Set a new size for a deployment or replica set",
		Example: `  # Scale a deployment named 'web' to 3
  gantry scale --replicas=3 deployment/web`,
		ValidArgsFunction: completeResources(f),
		RunE: func(c *cobra.Command, args []string) error {
			if !c.Flags().Changed("replicas") || replicas < 0 {
				return usage(c, "The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0")
			}
			refs, err := parseResourceArgs(args)
			if err != nil {
				return err
			}
			return updateTargets(c.Context(), f, refs, selector, all, func(_ target, obj scheme.Object) (bool, error) {
				spec, fd, err := replicasField(obj)
				if err != nil {
					return false, err
				}
				if currentReplicas >= 0 {
					cur := int64(1)
					if spec.Has(fd) {
						cur = spec.Get(fd).Int()
					}
					if cur != int64(currentReplicas) {
						return false, fmt.Errorf("Expected replicas to be %d, was %d", currentReplicas, cur)
					}
				}
				spec.Set(fd, protoreflect.ValueOfInt32(int32(replicas)))
				return true, nil
			}, func(bool) string { return "scaled" })
		},
	}
	c.Flags().IntVar(&replicas, "replicas", 0, "The new desired number of replicas. Required.")
	c.Flags().IntVar(&currentReplicas, "current-replicas", -1, "Precondition for current size. Requires that the current size of the resource match this value in order to scale. -1 (default) for no condition.")
	c.Flags().StringVarP(&selector, "selector", "l", "", "Selector (label query) to filter on.")
	c.Flags().BoolVar(&all, "all", false, "Select all resources in the namespace of the specified resource types")
	return c
}

// replicasField finds spec.replicas of obj.
func replicasField(obj scheme.Object) (protoreflect.Message, protoreflect.FieldDescriptor, error) {
	rm := obj.ProtoReflect()
	sfd := rm.Descriptor().Fields().ByName("spec")
	if sfd != nil && sfd.Message() != nil {
		if fd := sfd.Message().Fields().ByName("replicas"); fd != nil {
			return rm.Mutable(sfd).Message(), fd, nil
		}
	}
	res, _ := scheme.ForMessage(obj)
	group := ""
	if res != nil {
		group = res.Group
	}
	return nil, nil, fmt.Errorf("no scaler has been implemented for {%q %q}", group, rm.Descriptor().Name())
}

// --- label and annotate

// metaChanges are `key=value` and `key-` arguments.
type metaChanges struct {
	set    map[string]string
	remove []string
}

// splitMetaArgs separates resource arguments from key=value / key- ones.
func splitMetaArgs(args []string) (resources []string, ch metaChanges, err error) {
	ch.set = map[string]string{}
	for _, a := range args {
		switch {
		case strings.Contains(a, "="):
			k, v, _ := strings.Cut(a, "=")
			if k == "" {
				return nil, ch, fmt.Errorf("invalid label spec: %s", a)
			}
			ch.set[k] = v
		case strings.HasSuffix(a, "-") && len(resources) > 0:
			ch.remove = append(ch.remove, strings.TrimSuffix(a, "-"))
		default:
			resources = append(resources, a)
		}
	}
	return resources, ch, nil
}

func newMetaCommand(f *Factory, what string) *cobra.Command {
	var overwrite, all bool
	var selector, resourceVersion string
	verb := "labeled"
	short := "Update the labels on a resource"
	example := `  # Update pod 'foo' with the label 'unhealthy' and the value 'true'
  gantry label pods foo unhealthy=true

  # Update pod 'foo' with the label 'status' and the value 'unhealthy', overwriting any existing value
  gantry label --overwrite pods foo status=unhealthy

  # Remove a label named 'bar' if it exists
  gantry label pods foo bar-`
	if what == "annotate" {
		verb = "annotated"
		short = "Update the annotations on a resource"
		example = `  # Update pod 'foo' with the annotation 'description' and the value 'my frontend'
  gantry annotate pods foo description='my frontend'

  # Remove an annotation named 'description' if it exists
  gantry annotate pods foo description-`
	}
	c := &cobra.Command{
		Use:               what + " [--overwrite] (-f FILENAME | TYPE NAME) KEY_1=VAL_1 ... KEY_N=VAL_N [--resource-version=version]",
		Short:             short,
		Example:           example,
		ValidArgsFunction: completeResources(f),
		RunE: func(c *cobra.Command, args []string) error {
			resArgs, ch, err := splitMetaArgs(args)
			if err != nil {
				return err
			}
			if len(ch.set) == 0 && len(ch.remove) == 0 {
				return usage(c, "at least one %s update is required", strings.TrimSuffix(what, "e")+"ion")
			}
			if what == "label" {
				for k, v := range ch.set {
					if errs := validation.IsQualifiedName(k); len(errs) > 0 {
						return fmt.Errorf("invalid label spec: %s=%s: %s", k, v, strings.Join(errs, "; "))
					}
					if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
						return fmt.Errorf("invalid label value: %q: %s", k+"="+v, strings.Join(errs, "; "))
					}
				}
			}
			refs, err := parseResourceArgs(resArgs)
			if err != nil {
				return err
			}
			return updateTargets(c.Context(), f, refs, selector, all, func(_ target, obj scheme.Object) (bool, error) {
				md := scheme.Meta(obj)
				if resourceVersion != "" && md.ResourceVersion != resourceVersion {
					return false, fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again")
				}
				m := &md.Labels
				if what == "annotate" {
					m = &md.Annotations
				}
				return applyMetaChanges(m, ch, overwrite)
			}, func(changed bool) string {
				switch {
				case !changed:
					return "not " + verb
				case len(ch.set) == 0:
					return "un" + verb
				}
				return verb
			})
		},
	}
	c.Flags().BoolVar(&overwrite, "overwrite", false, "If true, allow "+strings.TrimSuffix(verb, "ed")+"s to be overwritten, otherwise reject updates that overwrite existing ones.")
	c.Flags().BoolVar(&all, "all", false, "Select all resources, in the namespace of the specified resource types")
	c.Flags().StringVarP(&selector, "selector", "l", "", "Selector (label query) to filter on.")
	c.Flags().StringVar(&resourceVersion, "resource-version", "", "If non-empty, the update will only succeed if this is the current resource-version for the object.")
	return c
}

func applyMetaChanges(m *map[string]string, ch metaChanges, overwrite bool) (bool, error) {
	changed := false
	keys := make([]string, 0, len(ch.set))
	for k := range ch.set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := ch.set[k]
		old, ok := (*m)[k]
		if ok && old == v {
			continue
		}
		if ok && !overwrite {
			return false, fmt.Errorf("'%s' already has a value (%s), and --overwrite is false", k, old)
		}
		if *m == nil {
			*m = map[string]string{}
		}
		(*m)[k] = v
		changed = true
	}
	for _, k := range ch.remove {
		if _, ok := (*m)[k]; ok {
			delete(*m, k)
			changed = true
		}
	}
	return changed, nil
}

func newLabelCommand(f *Factory) *cobra.Command    { return newMetaCommand(f, "label") }
func newAnnotateCommand(f *Factory) *cobra.Command { return newMetaCommand(f, "annotate") }
