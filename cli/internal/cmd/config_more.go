package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/client/config"
)

// The config subcommands that edit clusters, users and contexts by name.

func newConfigGetClustersCommand(f *Factory) *cobra.Command {
	return newConfigNamesCommand(f, "get-clusters", "Display clusters defined in the client config", func(file *config.File) (names []string) {
		for _, cl := range file.Clusters {
			names = append(names, cl.Name)
		}
		return names
	})
}

func newConfigGetUsersCommand(f *Factory) *cobra.Command {
	return newConfigNamesCommand(f, "get-users", "Display users defined in the client config", func(file *config.File) (names []string) {
		for _, u := range file.Users {
			names = append(names, u.Name)
		}
		return names
	})
}

// newConfigNamesCommand lists the names the client config file holds of
// one kind of entry, under a NAME header.
func newConfigNamesCommand(f *Factory, use, short string, names func(*config.File) []string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, file, err := loadConfigFile(f)
			if err != nil {
				return err
			}
			fmt.Fprintln(f.Out, "NAME")
			for _, n := range names(file) {
				fmt.Fprintln(f.Out, n)
			}
			return nil
		},
	}
}

func newConfigDeleteContextCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "delete-context NAME",
		Short: "Delete the specified context from the client config",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return editConfigFile(f, func(p string, file *config.File) (string, error) {
				name := args[0]
				kept := file.Contexts[:0]
				found := false
				for _, nc := range file.Contexts {
					if nc.Name == name {
						found = true
						continue
					}
					kept = append(kept, nc)
				}
				if !found {
					return "", fmt.Errorf("cannot delete context %s, not in %s", name, p)
				}
				file.Contexts = kept
				if file.CurrentContext == name {
					fmt.Fprintln(f.ErrOut, "warning: this removed your active context, use \"gantry config use-context\" to select a different one")
				}
				return fmt.Sprintf("deleted context %s from %s", name, p), nil
			})
		},
	}
}

func newConfigRenameContextCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "rename-context CONTEXT_NAME NEW_NAME",
		Short: "Rename a context from the client config file",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			return editConfigFile(f, func(p string, file *config.File) (string, error) {
				from, to := args[0], args[1]
				if _, ok := file.Context(to); ok {
					return "", fmt.Errorf("cannot rename the context %q, the context %q already exists in %s", from, to, p)
				}
				found := false
				for i := range file.Contexts {
					if file.Contexts[i].Name == from {
						file.Contexts[i].Name = to
						found = true
					}
				}
				if !found {
					return "", fmt.Errorf("cannot rename the context %q, it's not in %s", from, p)
				}
				if file.CurrentContext == from {
					file.CurrentContext = to
				}
				return fmt.Sprintf("Context %q renamed to %q.", from, to), nil
			})
		},
	}
}

func newConfigSetClusterCommand(f *Factory) *cobra.Command {
	var server, ca, tlsServerName string
	var insecure bool
	c := &cobra.Command{
		Use:   "set-cluster NAME [--server=server] [--certificate-authority=path/to/certificate/authority] [--insecure-skip-tls-verify=true] [--tls-server-name=example.com]",
		Short: "Set a cluster entry in the client config",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return editConfigFile(f, func(_ string, file *config.File) (string, error) {
				cl, exists := file.Cluster(args[0])
				if !exists {
					file.Clusters = append(file.Clusters, config.NamedCluster{Name: args[0]})
					cl = &file.Clusters[len(file.Clusters)-1].Cluster
				}
				fl := c.Flags()
				if fl.Changed("server") {
					cl.Server = server
				}
				if fl.Changed("certificate-authority") {
					cl.CertificateAuthority, cl.CertificateAuthorityData = ca, nil
				}
				if fl.Changed("insecure-skip-tls-verify") {
					cl.InsecureSkipTLSVerify = insecure
				}
				if fl.Changed("tls-server-name") {
					cl.TLSServerName = tlsServerName
				}
				return fmt.Sprintf("Cluster %q set.", args[0]), nil
			})
		},
	}
	c.Flags().StringVar(&server, "server", "", "server for the cluster entry in the client config")
	c.Flags().StringVar(&ca, "certificate-authority", "", "Path to certificate-authority file for the cluster entry in the client config")
	c.Flags().BoolVar(&insecure, "insecure-skip-tls-verify", false, "insecure-skip-tls-verify for the cluster entry in the client config")
	c.Flags().StringVar(&tlsServerName, "tls-server-name", "", "tls-server-name for the cluster entry in the client config")
	return c
}

func newConfigSetCredentialsCommand(f *Factory) *cobra.Command {
	var token, cert, key string
	c := &cobra.Command{
		Use:   "set-credentials NAME [--client-certificate=path/to/certfile] [--client-key=path/to/keyfile] [--token=bearer_token]",
		Short: "Set a user entry in the client config",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return editConfigFile(f, func(_ string, file *config.File) (string, error) {
				u, exists := file.User(args[0])
				if !exists {
					file.Users = append(file.Users, config.NamedUser{Name: args[0]})
					u = &file.Users[len(file.Users)-1].User
				}
				fl := c.Flags()
				if fl.Changed("token") {
					u.Token, u.TokenFile = token, ""
				}
				if fl.Changed("client-certificate") {
					u.ClientCertificate, u.ClientCertificateData = cert, nil
				}
				if fl.Changed("client-key") {
					u.ClientKey, u.ClientKeyData = key, nil
				}
				return fmt.Sprintf("User %q set.", args[0]), nil
			})
		},
	}
	c.Flags().StringVar(&token, "token", "", "token for the user entry in the client config")
	c.Flags().StringVar(&cert, "client-certificate", "", "Path to client-certificate file for the user entry in the client config")
	c.Flags().StringVar(&key, "client-key", "", "Path to client-key file for the user entry in the client config")
	return c
}
