package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	applypkg "github.com/gantryhq/gantry/cli/internal/apply"
	"github.com/gantryhq/gantry/cli/internal/printers"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/codec"
	"github.com/gantryhq/gantry/client/scheme"
)

// --- api-resources

func newAPIResourcesCommand(f *Factory) *cobra.Command {
	var output string
	var noHeaders bool
	var namespaced string
	c := &cobra.Command{
		Use:   "api-resources",
		Short: "Print the supported API resources on the server",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			rs := append([]*scheme.Resource(nil), scheme.All()...)
			sort.Slice(rs, func(i, j int) bool {
				if rs[i].Group != rs[j].Group {
					return rs[i].Group < rs[j].Group
				}
				return rs[i].Name < rs[j].Name
			})
			var want *bool
			if namespaced != "" {
				b, err := strconv.ParseBool(namespaced)
				if err != nil {
					return fmt.Errorf("invalid argument %q for \"--namespaced\" flag: %v", namespaced, err)
				}
				want = &b
			}
			var rows [][]string
			if output != "name" && !noHeaders {
				rows = append(rows, []string{"NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"})
			}
			for _, r := range rs {
				if want != nil && r.Namespaced != *want {
					continue
				}
				if output == "name" {
					fmt.Fprintln(f.Out, r.GroupResource())
					continue
				}
				rows = append(rows, []string{r.Name, strings.Join(r.ShortNames, ","), r.APIVersion(), strconv.FormatBool(r.Namespaced), r.Kind})
			}
			w := printers.NewTabWriter(f.Out)
			for _, r := range rows {
				fmt.Fprintln(w, strings.Join(r, "\t"))
			}
			return w.Flush()
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "", "Output format. One of: (name).")
	c.Flags().BoolVar(&noHeaders, "no-headers", false, "When using the default output format, don't print headers.")
	c.Flags().StringVar(&namespaced, "namespaced", "", "If false, non-namespaced resources will be returned, otherwise returning namespaced resources by default.")
	c.Flags().Lookup("namespaced").NoOptDefVal = "true"
	return c
}

// --- cluster-info

func newClusterInfoCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "cluster-info",
		Short: "Display cluster information",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			cs, err := f.Client()
			if err != nil {
				return err
			}
			if _, err := cs.Version(c.Context()); err != nil {
				return err
			}
			scheme := "https"
			if cfg.Plaintext {
				scheme = "http"
			}
			fmt.Fprintf(f.Out, "Gantry control plane is running at %s://%s\n", scheme, cfg.Server)
			fmt.Fprintln(f.Out)
			fmt.Fprintln(f.Out, "To further debug and diagnose cluster problems, use 'gantry get events -A' and 'gantry describe'.")
			return nil
		},
	}
}

// --- wait

// waitCondition is what `wait --for` asks.
type waitCondition struct {
	deleted   bool
	condition string // condition type
	want      string // its status, or the jsonpath value
	jsonpath  string
}

func parseWaitFor(s string) (waitCondition, error) {
	switch {
	case s == "delete":
		return waitCondition{deleted: true}, nil
	case strings.HasPrefix(s, "condition="):
		rest := strings.TrimPrefix(s, "condition=")
		typ, val, ok := strings.Cut(rest, "=")
		if !ok {
			val = "True"
		}
		if typ == "" {
			return waitCondition{}, errors.New("condition name cannot be empty")
		}
		return waitCondition{condition: strings.ToLower(typ), want: strings.ToLower(val)}, nil
	case strings.HasPrefix(s, "jsonpath="):
		rest := strings.TrimPrefix(s, "jsonpath=")
		i := strings.LastIndex(rest, "=")
		if i < 0 || !strings.HasSuffix(rest[:i], "}") && !strings.HasPrefix(rest, ".") {
			return waitCondition{}, fmt.Errorf("jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3")
		}
		return waitCondition{jsonpath: rest[:i], want: rest[i+1:]}, nil
	}
	return waitCondition{}, fmt.Errorf("unrecognized condition: %q", s)
}

// met reports whether obj satisfies w.
func (w waitCondition) met(obj scheme.Object) (bool, error) {
	b, err := codec.Marshal(obj)
	if err != nil {
		return false, err
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		return false, err
	}
	if w.jsonpath != "" {
		got, err := jsonpathValue(w.jsonpath, obj)
		if err != nil {
			return false, err
		}
		return got == w.want, nil
	}
	status, _ := v["status"].(map[string]any)
	conds, _ := status["conditions"].([]any)
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if strings.ToLower(fmt.Sprint(m["type"])) == w.condition {
			return strings.ToLower(fmt.Sprint(m["status"])) == w.want, nil
		}
	}
	return false, nil
}

func jsonpathValue(path string, obj scheme.Object) (string, error) {
	tmpl, err := printers.RelaxedJSONPath(path)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	p, err := printers.NewPrinter(&sb, nil, "jsonpath="+tmpl, printers.TableOptions{})
	if err != nil {
		return "", err
	}
	if err := p.Print([]scheme.Object{obj}, false); err != nil {
		return "", err
	}
	return sb.String(), nil
}

func newWaitCommand(f *Factory) *cobra.Command {
	var forSpec, selector string
	var all bool
	timeout := 30 * time.Second
	c := &cobra.Command{
		Use:   "wait ([-f FILENAME] | resource.group/resource.name | resource.group [(-l label | --all)]) [--for=delete|--for condition=available|--for=jsonpath='{}'=value]",
		Short: "Experimental: Wait for a specific condition on one or many resources",
		Example: `  # Wait for the deployment "web" to be available
  gantry wait --for=condition=Available deployment/web --timeout=60s

  # Wait for the pod "busybox1" to be deleted
  gantry wait --for=delete pod/busybox1 --timeout=60s`,
		RunE: func(c *cobra.Command, args []string) error {
			cond, err := parseWaitFor(forSpec)
			if err != nil {
				return err
			}
			refs, err := parseResourceArgs(args)
			if err != nil {
				return err
			}
			ctx := c.Context()
			targets, err := targetsOf(ctx, f, refs, selector, all)
			if err != nil {
				return err
			}
			if len(targets) == 0 {
				return errors.New("no matching resources found")
			}
			cs, _ := f.Client()
			wctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			for _, t := range targets {
				if err := waitFor(wctx, cs, t, cond); err != nil {
					if errors.Is(err, context.DeadlineExceeded) {
						return fmt.Errorf("timed out waiting for the condition on %s/%s", t.res.Name, t.name)
					}
					return err
				}
				fmt.Fprintf(f.Out, "%s/%s condition met\n", t.res.GroupKind(), t.name)
			}
			return nil
		},
	}
	c.Flags().StringVar(&forSpec, "for", "", "The condition to wait on: [delete|condition=condition-name[=condition-value]|jsonpath='{JSONPath expression}'=JSONPath Condition].")
	c.Flags().DurationVar(&timeout, "timeout", timeout, "The length of time to wait before giving up. Zero means check once and don't wait, negative means wait for a week.")
	c.Flags().StringVarP(&selector, "selector", "l", "", "Selector (label query) to filter on.")
	c.Flags().BoolVar(&all, "all", false, "Select all resources in the namespace of the specified resource types")
	return c
}

func waitFor(ctx context.Context, cs *client.Clientset, t target, cond waitCondition) error {
	tc := cs.Resource(t.res, t.namespace)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		obj, err := tc.Get(ctx, t.name)
		switch {
		case cond.deleted && client.IsNotFound(err):
			return nil
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil && !client.IsNotFound(err):
			return err
		case err == nil && !cond.deleted:
			ok, err := cond.met(obj)
			if err != nil {
				return err
			}
			if ok {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// --- patch

func newPatchCommand(f *Factory) *cobra.Command {
	var patch, patchType, output string
	c := &cobra.Command{
		Use:   "patch (-f FILENAME | TYPE NAME) [-p PATCH] [--type merge|strategic|json]",
		Short: "Update fields of a resource",
		Long: "Update fields of a resource using a strategic merge patch (the default: lists of containers, ports,\n" +
			"env, volumes... are merged by their keys), a JSON merge patch (--type merge) or a JSON patch (--type json).",
		Example: `  # Partially update a node using a merge patch, expressed in YAML or JSON
  gantry patch node k8s-node-1 -p '{"spec":{"unschedulable":true}}'

  # Update a deployment's replicas through a JSON patch
  gantry patch deployment web --type=json -p='[{"op": "replace", "path": "/spec/replicas", "value": 3}]'`,
		RunE: func(c *cobra.Command, args []string) error {
			if patch == "" {
				return usage(c, "must specify -p to patch")
			}
			var apply func(doc any) (any, error)
			switch patchType {
			case "merge":
				var p any
				if err := yamlOrJSON(patch, &p); err != nil {
					return fmt.Errorf("unable to parse %q: %v", patch, err)
				}
				apply = func(doc any) (any, error) { return mergePatch(doc, p), nil }
			case "", "strategic":
				var p map[string]any
				if err := yamlOrJSON(patch, &p); err != nil {
					return fmt.Errorf("unable to parse %q: %v", patch, err)
				}
				apply = func(doc any) (any, error) {
					d, ok := doc.(map[string]any)
					if !ok {
						return nil, fmt.Errorf("the object is not a JSON object")
					}
					return applypkg.StrategicMerge(d, p), nil
				}
			case "json":
				var ops []jsonPatchOp
				if err := yamlOrJSON(patch, &ops); err != nil {
					return fmt.Errorf("unable to parse %q: %v", patch, err)
				}
				apply = func(doc any) (any, error) { return applyJSONPatch(doc, ops) }
			default:
				return fmt.Errorf("--type must be one of [json merge strategic], not %q", patchType)
			}
			refs, err := parseResourceArgs(args)
			if err != nil {
				return err
			}
			ctx := c.Context()
			targets, err := targetsOf(ctx, f, refs, "", false)
			if err != nil {
				return err
			}
			cs, _ := f.Client()
			for _, t := range targets {
				var result scheme.Object
				changed, err := update(ctx, cs, t, func(obj scheme.Object) (bool, error) {
					before, err := codec.Marshal(obj)
					if err != nil {
						return false, err
					}
					var doc any
					if err := json.Unmarshal(before, &doc); err != nil {
						return false, err
					}
					doc, err = apply(doc)
					if err != nil {
						return false, err
					}
					after, err := json.Marshal(doc)
					if err != nil {
						return false, err
					}
					patched := t.res.New().(scheme.Object)
					if err := codec.Unmarshal(after, patched); err != nil {
						return false, err
					}
					result = patched
					if proto.Equal(patched, obj) {
						return false, nil
					}
					proto.Reset(obj)
					proto.Merge(obj, patched)
					return true, nil
				})
				if err != nil {
					return err
				}
				if output != "" && result != nil {
					if err := printResult(f, output, t.res, result, ""); err != nil {
						return err
					}
					continue
				}
				if changed {
					fmt.Fprintf(f.Out, "%s/%s patched\n", t.res.GroupKind(), t.name)
				} else {
					fmt.Fprintf(f.Out, "%s/%s patched (no change)\n", t.res.GroupKind(), t.name)
				}
			}
			return nil
		},
	}
	c.Flags().StringVarP(&patch, "patch", "p", "", "The patch to be applied to the resource JSON file.")
	c.Flags().StringVar(&patchType, "type", "strategic", "The type of patch being provided; one of [json merge strategic]")
	c.Flags().StringVarP(&output, "output", "o", "", "Output format. One of: (json, yaml, name, jsonpath=...).")
	return c
}

// mergePatch applies an RFC 7386 JSON merge patch.
func mergePatch(doc, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	dm, ok := doc.(map[string]any)
	if !ok {
		dm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(dm, k)
			continue
		}
		dm[k] = mergePatch(dm[k], v)
	}
	return dm
}

// jsonPatchOp is one operation of an RFC 6902 JSON patch.
type jsonPatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
	From  string `json:"from"`
}

func applyJSONPatch(doc any, ops []jsonPatchOp) (any, error) {
	for _, op := range ops {
		var err error
		switch op.Op {
		case "add", "replace":
			doc, err = setPointer(doc, op.Path, op.Value, op.Op == "add")
		case "remove":
			doc, err = removePointer(doc, op.Path)
		case "test":
			var got any
			got, err = getPointer(doc, op.Path)
			if err == nil {
				a, _ := json.Marshal(got)
				b, _ := json.Marshal(op.Value)
				if string(a) != string(b) {
					err = fmt.Errorf("testing value %s failed", op.Path)
				}
			}
		default:
			err = fmt.Errorf("unsupported JSON patch operation %q", op.Op)
		}
		if err != nil {
			return nil, err
		}
	}
	return doc, nil
}

func pointerTokens(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("JSON pointer %q must start with /", p)
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

func getPointer(doc any, p string) (any, error) {
	toks, err := pointerTokens(p)
	if err != nil {
		return nil, err
	}
	cur := doc
	for _, t := range toks {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[t]
			if !ok {
				return nil, fmt.Errorf("path %s not found", p)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("path %s not found", p)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("path %s not found", p)
		}
	}
	return cur, nil
}

// setPointer sets (or, with add, inserts into a list) the value at p.
func setPointer(doc any, p string, v any, add bool) (any, error) {
	toks, err := pointerTokens(p)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return v, nil
	}
	parent, err := getPointer(doc, "/"+strings.Join(escapeTokens(toks[:len(toks)-1]), "/"))
	if len(toks) == 1 {
		parent, err = doc, nil
	}
	if err != nil {
		return nil, err
	}
	last := toks[len(toks)-1]
	switch c := parent.(type) {
	case map[string]any:
		if _, ok := c[last]; !ok && !add {
			return nil, fmt.Errorf("replace operation does not apply: doc is missing key: %s", p)
		}
		c[last] = v
	case []any:
		i := len(c)
		if last != "-" {
			if i, err = strconv.Atoi(last); err != nil || i < 0 || i > len(c) || (!add && i == len(c)) {
				return nil, fmt.Errorf("index out of range: %s", p)
			}
		}
		var nl []any
		if add {
			nl = append(append(append([]any{}, c[:i]...), v), c[i:]...)
		} else {
			nl = append([]any{}, c...)
			nl[i] = v
		}
		return setPointer(doc, "/"+strings.Join(escapeTokens(toks[:len(toks)-1]), "/"), nl, false)
	default:
		return nil, fmt.Errorf("path %s not found", p)
	}
	return doc, nil
}

func removePointer(doc any, p string) (any, error) {
	toks, err := pointerTokens(p)
	if err != nil || len(toks) == 0 {
		return nil, fmt.Errorf("cannot remove %q", p)
	}
	parentPath := "/" + strings.Join(escapeTokens(toks[:len(toks)-1]), "/")
	parent := doc
	if len(toks) > 1 {
		if parent, err = getPointer(doc, parentPath); err != nil {
			return nil, err
		}
	}
	last := toks[len(toks)-1]
	switch c := parent.(type) {
	case map[string]any:
		if _, ok := c[last]; !ok {
			return nil, fmt.Errorf("remove operation does not apply: doc is missing path: %s", p)
		}
		delete(c, last)
		return doc, nil
	case []any:
		i, err := strconv.Atoi(last)
		if err != nil || i < 0 || i >= len(c) {
			return nil, fmt.Errorf("index out of range: %s", p)
		}
		nl := append(append([]any{}, c[:i]...), c[i+1:]...)
		if len(toks) == 1 {
			return nl, nil
		}
		return setPointer(doc, parentPath, nl, false)
	}
	return nil, fmt.Errorf("path %s not found", p)
}

func escapeTokens(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
	}
	return out
}

// yamlOrJSON reads a patch written in JSON or YAML.
func yamlOrJSON(s string, v any) error { return yaml.Unmarshal([]byte(s), v) }

func sortStrings(s []string) { sort.Strings(s) }
