package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
)

// resourceRef is a resource named on the command line with the names of
// its objects (none: all of them).
type resourceRef struct {
	res   *scheme.Resource
	names []string
}

// parseResourceArgs reads kubectl's forms: `TYPE[,TYPE...] [NAME...]` or
// `TYPE/NAME...`.
func parseResourceArgs(args []string) ([]resourceRef, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("you must specify the type of resource to get. Use \"gantry api-resources\" for a complete list of supported resources")
	}
	if strings.Contains(args[0], "/") {
		var refs []resourceRef
		idx := map[string]int{}
		for _, a := range args {
			typ, name, ok := strings.Cut(a, "/")
			if !ok || name == "" || typ == "" {
				return nil, fmt.Errorf("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'gantry get resource/<resource_name>' instead of 'gantry get resource resource/<resource_name>'")
			}
			res, err := scheme.Lookup(typ)
			if err != nil {
				return nil, err
			}
			if i, ok := idx[res.Name]; ok {
				refs[i].names = append(refs[i].names, name)
				continue
			}
			idx[res.Name] = len(refs)
			refs = append(refs, resourceRef{res: res, names: []string{name}})
		}
		return refs, nil
	}
	for _, a := range args[1:] {
		if strings.Contains(a, "/") {
			return nil, fmt.Errorf("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'gantry get resource/<resource_name>' instead of 'gantry get resource resource/<resource_name>'")
		}
	}
	var refs []resourceRef
	types := strings.Split(args[0], ",")
	for _, t := range types {
		if t == "" {
			continue
		}
		var rs []*scheme.Resource
		if t == "all" {
			for _, n := range []string{"pods", "services", "deployments", "replicasets", "jobs", "cronjobs"} {
				r, _ := scheme.ByName(n)
				rs = append(rs, r)
			}
		} else {
			r, err := scheme.Lookup(t)
			if err != nil {
				return nil, err
			}
			rs = append(rs, r)
		}
		for _, r := range rs {
			refs = append(refs, resourceRef{res: r, names: args[1:]})
		}
	}
	if len(refs) > 1 && len(args) > 1 {
		return nil, fmt.Errorf("arguments in resource/name form must have a single resource and name")
	}
	return refs, nil
}

// namespaceFor is the namespace a request about res goes to.
func namespaceFor(res *scheme.Resource, ns string) string {
	if !res.Namespaced {
		return ""
	}
	return ns
}

// noResources is kubectl's message for an empty listing.
func noResources(ns string, allNamespaces bool, refs []resourceRef) string {
	namespaced := false
	for _, r := range refs {
		namespaced = namespaced || r.res.Namespaced
	}
	if allNamespaces || !namespaced {
		return "No resources found"
	}
	return fmt.Sprintf("No resources found in %s namespace.", ns)
}

// list reads every object of ref in ns (all namespaces when ns is "").
func list(ctx context.Context, cs *client.Clientset, res *scheme.Resource, ns string, opts client.ListOptions) (*client.List[scheme.Object], error) {
	opts.Limit = 500
	return cs.Resource(res, namespaceFor(res, ns)).ListAll(ctx, opts)
}
