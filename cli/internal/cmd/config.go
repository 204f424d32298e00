package cmd

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/cli/internal/printers"
	"github.com/gantryhq/gantry/client/config"
)

func newConfigCommand(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "config SUBCOMMAND",
		Short: "Modify client config files",
		Long: "Modify client config files using subcommands like \"gantry config set-context --current --namespace=dev\".\n\n" +
			"The file is --kubeconfig if given, else $" + config.EnvVar + ", else ~/.gantry/config.",
	}
	c.AddCommand(newConfigViewCommand(f), newConfigGetContextsCommand(f), newConfigCurrentContextCommand(f),
		newConfigUseContextCommand(f), newConfigSetContextCommand(f), newConfigGetClustersCommand(f),
		newConfigGetUsersCommand(f), newConfigDeleteContextCommand(f), newConfigRenameContextCommand(f),
		newConfigSetClusterCommand(f), newConfigSetCredentialsCommand(f))
	return c
}

// loadConfigFile reads the client config file the flags name.
func loadConfigFile(f *Factory) (string, *config.File, error) {
	p, err := config.Path(f.Kubeconfig)
	if err != nil {
		return "", nil, err
	}
	file, err := config.Load(p)
	if err != nil {
		return "", nil, err
	}
	return p, file, nil
}

// editConfigFile loads the client config file, lets edit change it (given
// its path), writes it back and prints the line edit returns. Nothing is
// written when edit fails.
func editConfigFile(f *Factory, edit func(path string, file *config.File) (string, error)) error {
	p, file, err := loadConfigFile(f)
	if err != nil {
		return err
	}
	msg, err := edit(p, file)
	if err != nil {
		return err
	}
	if err := config.Write(p, file); err != nil {
		return err
	}
	fmt.Fprintln(f.Out, msg)
	return nil
}

func newConfigViewCommand(f *Factory) *cobra.Command {
	var raw, minify bool
	var output string
	c := &cobra.Command{
		Use:   "view",
		Short: "Display merged client config settings or a specified client config file",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, file, err := loadConfigFile(f)
			if err != nil {
				return err
			}
			out := *file
			if minify {
				name := f.Context
				if name == "" {
					name = file.CurrentContext
				}
				ctx, ok := file.Context(name)
				if !ok {
					return fmt.Errorf("current-context must exist in order to minify")
				}
				out.CurrentContext = name
				out.Contexts = []config.NamedContext{{Name: name, Context: *ctx}}
				out.Clusters, out.Users = nil, nil
				if cl, ok := file.Cluster(ctx.Cluster); ok {
					out.Clusters = []config.NamedCluster{{Name: ctx.Cluster, Cluster: *cl}}
				}
				if u, ok := file.User(ctx.User); ok {
					out.Users = []config.NamedUser{{Name: ctx.User, User: *u}}
				}
			}
			if !raw {
				out.Clusters = append([]config.NamedCluster(nil), out.Clusters...)
				for i := range out.Clusters {
					if len(out.Clusters[i].Cluster.CertificateAuthorityData) > 0 {
						out.Clusters[i].Cluster.CertificateAuthorityData = []byte("DATA+OMITTED")
					}
				}
				out.Users = append([]config.NamedUser(nil), out.Users...)
				for i := range out.Users {
					u := &out.Users[i].User
					if len(u.ClientCertificateData) > 0 {
						u.ClientCertificateData = []byte("DATA+OMITTED")
					}
					if len(u.ClientKeyData) > 0 {
						u.ClientKeyData = []byte("DATA+OMITTED")
					}
					if u.Token != "" {
						u.Token = "REDACTED"
					}
				}
			}
			b, err := config.Marshal(&out)
			if err != nil {
				return err
			}
			// The -data fields are []byte, written in base64; show the
			// placeholder as kubectl does.
			b = bytes.ReplaceAll(b, []byte(base64.StdEncoding.EncodeToString([]byte("DATA+OMITTED"))), []byte("DATA+OMITTED"))
			switch output {
			case "", "yaml":
				f.Out.Write(b)
			default:
				return fmt.Errorf("--output must be 'yaml'")
			}
			return nil
		},
	}
	c.Flags().BoolVar(&raw, "raw", false, "Display raw byte data and sensitive data.")
	c.Flags().BoolVar(&minify, "minify", false, "Remove all information not used by current-context from the output.")
	c.Flags().StringVarP(&output, "output", "o", "yaml", "Output format: yaml.")
	return c
}

func newConfigGetContextsCommand(f *Factory) *cobra.Command {
	var noHeaders bool
	var output string
	c := &cobra.Command{
		Use:   "get-contexts [(-o|--output=)name)]",
		Short: "Describe one or many contexts",
		RunE: func(c *cobra.Command, args []string) error {
			_, file, err := loadConfigFile(f)
			if err != nil {
				return err
			}
			want := map[string]bool{}
			for _, a := range args {
				want[a] = true
			}
			if output == "name" {
				for _, nc := range file.Contexts {
					if len(want) == 0 || want[nc.Name] {
						fmt.Fprintln(f.Out, nc.Name)
					}
				}
				return nil
			}
			w := printers.NewTabWriter(f.Out)
			if !noHeaders {
				fmt.Fprintln(w, "CURRENT\tNAME\tCLUSTER\tAUTHINFO\tNAMESPACE")
			}
			found := map[string]bool{}
			for _, nc := range file.Contexts {
				if len(want) > 0 && !want[nc.Name] {
					continue
				}
				found[nc.Name] = true
				cur := ""
				if nc.Name == file.CurrentContext {
					cur = "*"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", cur, nc.Name, nc.Context.Cluster, nc.Context.User, nc.Context.Namespace)
			}
			w.Flush()
			var missing []string
			for _, a := range args {
				if !found[a] {
					missing = append(missing, fmt.Sprintf("context %s not found", a))
				}
			}
			if len(missing) > 0 {
				return errors.New(strings.Join(missing, "\n"))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&noHeaders, "no-headers", false, "When using the default output format, don't print headers.")
	c.Flags().StringVarP(&output, "output", "o", "", "Output format. One of: (name).")
	return c
}

func newConfigCurrentContextCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "current-context",
		Short: "Display the current-context",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, file, err := loadConfigFile(f)
			if err != nil {
				return err
			}
			if file.CurrentContext == "" {
				return errors.New("current-context is not set")
			}
			fmt.Fprintln(f.Out, file.CurrentContext)
			return nil
		},
	}
}

func newConfigUseContextCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "use-context CONTEXT_NAME",
		Aliases: []string{"use"},
		Short:   "Set the current-context in a client config file",
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return editConfigFile(f, func(_ string, file *config.File) (string, error) {
				if _, ok := file.Context(args[0]); !ok {
					return "", fmt.Errorf("no context exists with the name: %q", args[0])
				}
				file.CurrentContext = args[0]
				return fmt.Sprintf("Switched to context %q.", args[0]), nil
			})
		},
	}
}

func newConfigSetContextCommand(f *Factory) *cobra.Command {
	var current bool
	var cluster, user string
	c := &cobra.Command{
		Use:   "set-context [NAME | --current] [--cluster=cluster_nickname] [--user=user_nickname] [--namespace=namespace]",
		Short: "Set a context entry in a client config file",
		Long:  "Set a context entry in a client config file. Specifying a name that already exists will merge new fields on top of existing values for those fields.",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return editConfigFile(f, func(_ string, file *config.File) (string, error) {
				var name string
				switch {
				case current && len(args) > 0:
					return "", errors.New("you cannot specify both a context name and --current")
				case current:
					name = file.CurrentContext
					if name == "" {
						return "", errors.New("no current context is set")
					}
				case len(args) == 1:
					name = args[0]
				default:
					return "", errors.New("you must specify a non-empty context name or --current")
				}
				ctx, exists := file.Context(name)
				if !exists {
					file.Contexts = append(file.Contexts, config.NamedContext{Name: name})
					ctx = &file.Contexts[len(file.Contexts)-1].Context
				}
				// The global -n/--namespace flag and this command's
				// --namespace are the same flag.
				if c.Flags().Changed("cluster") {
					ctx.Cluster = cluster
				}
				if c.Flags().Changed("user") {
					ctx.User = user
				}
				if c.Flags().Changed("namespace") {
					ctx.Namespace = f.Namespace
				}
				if exists {
					return fmt.Sprintf("Context %q modified.", name), nil
				}
				return fmt.Sprintf("Context %q created.", name), nil
			})
		},
	}
	c.Flags().BoolVar(&current, "current", false, "Modify the current context.")
	c.Flags().StringVar(&cluster, "cluster", "", "cluster for the context entry in the client config")
	c.Flags().StringVar(&user, "user", "", "user for the context entry in the client config")
	return c
}
