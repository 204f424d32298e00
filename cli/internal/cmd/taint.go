package cmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gantryhq/gantry/client/scheme"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// parseTaint reads key[=value]:Effect, or key[:Effect]- to remove.
func parseTaint(s string) (t *corev1.Taint, remove bool, err error) {
	if strings.HasSuffix(s, "-") {
		remove = true
		s = strings.TrimSuffix(s, "-")
	}
	kv, effect, hasEffect := strings.Cut(s, ":")
	key, value, _ := strings.Cut(kv, "=")
	if key == "" {
		return nil, false, fmt.Errorf("invalid taint spec: %v", s)
	}
	if !hasEffect && !remove {
		return nil, false, fmt.Errorf("invalid taint spec: %v, unknown taint effect", s)
	}
	switch effect {
	case "NoSchedule", "PreferNoSchedule", "NoExecute":
	case "":
		if !remove {
			return nil, false, fmt.Errorf("invalid taint spec: %v, unsupported taint effect", s)
		}
	default:
		return nil, false, fmt.Errorf("invalid taint effect: %v, unsupported taint effect", effect)
	}
	return &corev1.Taint{Key: key, Value: value, Effect: effect}, remove, nil
}

func newTaintCommand(f *Factory) *cobra.Command {
	var overwrite, all bool
	var selector string
	c := &cobra.Command{
		Use:   "taint NODE NAME KEY_1=VAL_1:TAINT_EFFECT_1 ... KEY_N=VAL_N:TAINT_EFFECT_N",
		Short: "Update the taints on one or more nodes",
		Example: `  # Update node 'foo' with a taint with key 'dedicated' and value 'special-user' and effect 'NoSchedule'
  gantry taint nodes foo dedicated=special-user:NoSchedule

  # Remove from node 'foo' the taint with key 'dedicated' and effect 'NoSchedule' if one exists
  gantry taint nodes foo dedicated:NoSchedule-

  # Remove from node 'foo' all the taints with key 'dedicated'
  gantry taint nodes foo dedicated-`,
		RunE: func(c *cobra.Command, args []string) error {
			var resArgs []string
			var adds, removes []*corev1.Taint
			for _, a := range args {
				if strings.Contains(a, ":") || strings.Contains(a, "=") || (strings.HasSuffix(a, "-") && len(resArgs) > 0) {
					t, rm, err := parseTaint(a)
					if err != nil {
						return err
					}
					if rm {
						removes = append(removes, t)
					} else {
						adds = append(adds, t)
					}
					continue
				}
				resArgs = append(resArgs, a)
			}
			if len(adds) == 0 && len(removes) == 0 {
				return usage(c, "at least one taint update is required")
			}
			refs, err := parseResourceArgs(resArgs)
			if err != nil {
				return err
			}
			for _, r := range refs {
				if r.res.Name != "nodes" {
					return fmt.Errorf("invalid resource type %s, only node types are supported", r.res.Name)
				}
			}
			// verb is what the last change did: "tainted", "untainted" or
			// "modified".
			var verb string
			return updateTargets(c.Context(), f, refs, selector, all, func(_ target, obj scheme.Object) (bool, error) {
				n := obj.(*corev1.Node)
				if n.Spec == nil {
					n.Spec = &corev1.NodeSpec{}
				}
				taints, v, err := reorganizeTaints(n.GetMetadata().GetName(), n.Spec.Taints, overwrite, adds, removes)
				if err != nil {
					return false, err
				}
				n.Spec.Taints, verb = taints, v
				return true, nil
			}, func(bool) string { return verb })
		},
	}
	c.Flags().BoolVar(&overwrite, "overwrite", false, "If true, allow taints to be overwritten, otherwise reject taint updates that overwrite existing taints.")
	c.Flags().BoolVar(&all, "all", false, "Select all nodes in the cluster")
	c.Flags().StringVarP(&selector, "selector", "l", "", "Selector (label query) to filter on.")
	return c
}

// reorganizeTaints applies adds and removes to a node's taints, saying
// "tainted", "untainted" or "modified" as kubectl does.
func reorganizeTaints(node string, old []*corev1.Taint, overwrite bool, adds, removes []*corev1.Taint) ([]*corev1.Taint, string, error) {
	var out []*corev1.Taint
	replaced := false
	for _, t := range old {
		keep := true
		for _, a := range adds {
			if a.Key == t.GetKey() && a.Effect == t.GetEffect() {
				if !overwrite {
					return nil, "", fmt.Errorf("node %s already has %s taint(s) with same effect(s) and --overwrite is false", node, a.Key)
				}
				keep, replaced = false, true
			}
		}
		for _, r := range removes {
			if r.Key == t.GetKey() && (r.Effect == "" || r.Effect == t.GetEffect()) {
				keep = false
			}
		}
		if keep {
			out = append(out, t)
		}
	}
	for _, r := range removes {
		found := false
		for _, t := range old {
			if r.Key == t.GetKey() && (r.Effect == "" || r.Effect == t.GetEffect()) {
				found = true
			}
		}
		if !found {
			return nil, "", errors.New("taint \"" + r.Key + "\" not found")
		}
	}
	for _, a := range adds {
		t := &corev1.Taint{Key: a.Key, Value: a.Value, Effect: a.Effect}
		if t.Effect == "NoExecute" {
			t.TimeAdded = timestamppb.Now()
		}
		out = append(out, t)
	}
	switch {
	case len(adds) > 0 && (len(removes) > 0 || replaced):
		return out, "modified", nil
	case len(adds) > 0:
		return out, "tainted", nil
	case len(removes) > 0:
		return out, "untainted", nil
	}
	return out, "modified", nil
}
