package devcluster

import (
	"fmt"

	"github.com/gantryhq/gantry/client/config"
)

// MergeContext returns into with admin's current context added as a cluster,
// a user and a context all called name, pointing at server. Entries of into
// with other names are kept as they are; entries called name are replaced.
// into may be nil (no config file yet). When setCurrent is true, name becomes
// the current context; otherwise into's current context is kept (and name is
// used when into has none).
func MergeContext(into, admin *config.File, name, server string, setCurrent bool) (*config.File, error) {
	ctxName := admin.CurrentContext
	ctx, ok := admin.Context(ctxName)
	if !ok {
		return nil, fmt.Errorf("admin config: current context %q not found", ctxName)
	}
	cl, ok := admin.Cluster(ctx.Cluster)
	if !ok {
		return nil, fmt.Errorf("admin config: cluster %q not found", ctx.Cluster)
	}
	u, ok := admin.User(ctx.User)
	if !ok {
		return nil, fmt.Errorf("admin config: user %q not found", ctx.User)
	}
	cluster := *cl
	if server != "" {
		cluster.Server = server
	}
	// A file name in admin.conf would resolve against the apiserver's data
	// folder, which the host does not see: only embedded data travels.
	if cluster.CertificateAuthority != "" || u.ClientCertificate != "" || u.ClientKey != "" || u.TokenFile != "" {
		return nil, fmt.Errorf("admin config: names files (certificate-authority, client-certificate, client-key or token-file); want embedded data")
	}

	out := &config.File{APIVersion: "v1", Kind: "Config"}
	if into != nil {
		c := *into
		out = &c
		out.Clusters = append([]config.NamedCluster(nil), into.Clusters...)
		out.Contexts = append([]config.NamedContext(nil), into.Contexts...)
		out.Users = append([]config.NamedUser(nil), into.Users...)
	}
	out.Clusters = putCluster(out.Clusters, config.NamedCluster{Name: name, Cluster: cluster})
	out.Users = putUser(out.Users, config.NamedUser{Name: name, User: *u})
	out.Contexts = putContext(out.Contexts, config.NamedContext{Name: name,
		Context: config.Context{Cluster: name, User: name, Namespace: ctx.Namespace}})
	if setCurrent || out.CurrentContext == "" {
		out.CurrentContext = name
	}
	return out, nil
}

func putCluster(list []config.NamedCluster, e config.NamedCluster) []config.NamedCluster {
	for i := range list {
		if list[i].Name == e.Name {
			list[i] = e
			return list
		}
	}
	return append(list, e)
}

func putUser(list []config.NamedUser, e config.NamedUser) []config.NamedUser {
	for i := range list {
		if list[i].Name == e.Name {
			list[i] = e
			return list
		}
	}
	return append(list, e)
}

func putContext(list []config.NamedContext, e config.NamedContext) []config.NamedContext {
	for i := range list {
		if list[i].Name == e.Name {
			list[i] = e
			return list
		}
	}
	return append(list, e)
}

// RemoveContext returns f without the cluster, user and context called name.
// When name was the current context, the current context becomes the first
// remaining one (or none). It reports whether anything was removed.
func RemoveContext(f *config.File, name string) (*config.File, bool) {
	out := *f
	// Empty, not nil: the file then says "clusters: []", as kubectl's do.
	out.Clusters, out.Contexts, out.Users = []config.NamedCluster{}, []config.NamedContext{}, []config.NamedUser{}
	removed := false
	for _, c := range f.Clusters {
		if c.Name == name {
			removed = true
			continue
		}
		out.Clusters = append(out.Clusters, c)
	}
	for _, c := range f.Contexts {
		if c.Name == name {
			removed = true
			continue
		}
		out.Contexts = append(out.Contexts, c)
	}
	for _, u := range f.Users {
		if u.Name == name {
			removed = true
			continue
		}
		out.Users = append(out.Users, u)
	}
	if out.CurrentContext == name {
		out.CurrentContext = ""
		if len(out.Contexts) > 0 {
			out.CurrentContext = out.Contexts[0].Name
		}
	}
	return &out, removed
}
