package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/config"
)

// Streams are the command's standard input, output and error.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// Factory holds the global flags and makes what commands share: the
// client, the namespace, the clock.
type Factory struct {
	Streams
	Kubeconfig string
	Context    string
	Namespace  string
	// Now is the clock of AGE columns.
	Now func() time.Time
	// RequestTimeout bounds the whole command (--request-timeout).
	RequestTimeout time.Duration

	cancel context.CancelFunc

	overrides overrides
	cfg       *config.Config
	cs        *client.Clientset
}

// Config resolves the client config (--kubeconfig, else $GANTRY_CONFIG,
// else ~/.gantry/config; --context, else current-context).
func (f *Factory) Config() (*config.Config, error) {
	if f.cfg != nil {
		return f.cfg, nil
	}
	if f.overrides == (overrides{}) {
		cfg, err := config.Open(f.Kubeconfig, f.Context)
		if err != nil {
			return nil, err
		}
		f.cfg = cfg
		return cfg, nil
	}
	// Flags override parts of the file, or replace a file that is missing
	// when they say everything (--server at least).
	file, err := f.overriddenFile()
	if err != nil {
		return nil, err
	}
	cfg, err := file.Resolve(file.CurrentContext)
	if err != nil {
		return nil, err
	}
	f.cfg = cfg
	return cfg, nil
}

// overrides are the global flags that override the client config file.
type overrides struct {
	server, token, user, cluster string
	certificateAuthority         string
	clientCertificate, clientKey string
	insecureSkipTLSVerify        bool
}

func (f *Factory) addOverrideFlags(pf *pflag.FlagSet) {
	o := &f.overrides
	pf.StringVarP(&o.server, "server", "s", "", "The address and port of the Gantry API server")
	pf.StringVar(&o.token, "token", "", "Bearer token for authentication to the API server")
	pf.StringVar(&o.user, "user", "", "The name of the client config user to use")
	pf.StringVar(&o.cluster, "cluster", "", "The name of the client config cluster to use")
	pf.StringVar(&o.certificateAuthority, "certificate-authority", "", "Path to a cert file for the certificate authority")
	pf.StringVar(&o.clientCertificate, "client-certificate", "", "Path to a client certificate file for TLS")
	pf.StringVar(&o.clientKey, "client-key", "", "Path to a client key file for TLS")
	pf.BoolVar(&o.insecureSkipTLSVerify, "insecure-skip-tls-verify", false, "If true, the server's certificate will not be checked for validity. This will make your HTTPS connections insecure")
}

// overriddenFile is the client config file with the override flags
// applied to the context in use, as one synthetic context.
func (f *Factory) overriddenFile() (*config.File, error) {
	o := f.overrides
	var cluster config.Cluster
	var user config.User
	namespace := ""
	dir := ""
	p, err := config.Path(f.Kubeconfig)
	if err != nil {
		return nil, err
	}
	file, err := config.Load(p)
	switch {
	case err == nil:
		dir = file.Dir
		name := f.Context
		if name == "" {
			name = file.CurrentContext
		}
		ctx, ok := file.Context(name)
		if !ok && name != "" {
			return nil, fmt.Errorf("client config: context %q not found", name)
		}
		if ctx != nil {
			namespace = ctx.Namespace
			clusterName, userName := ctx.Cluster, ctx.User
			if o.cluster != "" {
				clusterName = o.cluster
			}
			if o.user != "" {
				userName = o.user
			}
			if c, ok := file.Cluster(clusterName); ok {
				cluster = *c
			} else if o.server == "" {
				return nil, fmt.Errorf("client config: cluster %q not found", clusterName)
			}
			if u, ok := file.User(userName); ok {
				user = *u
			}
		}
	case o.server == "":
		return nil, err
	}
	// Paths given as flags are relative to the working directory.
	for _, p := range []*string{&o.certificateAuthority, &o.clientCertificate, &o.clientKey} {
		if *p != "" {
			abs, err := filepath.Abs(*p)
			if err != nil {
				return nil, err
			}
			*p = abs
		}
	}
	if o.server != "" {
		cluster.Server = o.server
	}
	if o.certificateAuthority != "" {
		cluster.CertificateAuthority, cluster.CertificateAuthorityData = o.certificateAuthority, nil
	}
	if o.insecureSkipTLSVerify {
		cluster.InsecureSkipTLSVerify = true
		cluster.CertificateAuthority, cluster.CertificateAuthorityData = "", nil
	}
	if o.token != "" {
		user = config.User{Token: o.token}
	}
	if o.clientCertificate != "" {
		user.ClientCertificate, user.ClientCertificateData = o.clientCertificate, nil
	}
	if o.clientKey != "" {
		user.ClientKey, user.ClientKeyData = o.clientKey, nil
	}
	out := config.NewFile("gantry-flags", cluster, user, namespace)
	out.Dir = dir
	return out, nil
}

// Client returns the clientset, connecting on first use.
func (f *Factory) Client() (*client.Clientset, error) {
	if f.cs != nil {
		return f.cs, nil
	}
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	cs, err := client.New(cfg, client.WithUserAgent("gantry-cli/"+gitVersion))
	if err != nil {
		return nil, err
	}
	f.cs = cs
	return cs, nil
}

// ClientIn is the client and the namespace to work in, as Client and
// DefaultNamespace give them.
func (f *Factory) ClientIn() (cs *client.Clientset, ns string, explicit bool, err error) {
	if cs, err = f.Client(); err != nil {
		return nil, "", false, err
	}
	if ns, explicit, err = f.DefaultNamespace(); err != nil {
		return nil, "", false, err
	}
	return cs, ns, explicit, nil
}

// DefaultNamespace is -n, else the context's namespace, else "default";
// explicit says whether -n was given.
func (f *Factory) DefaultNamespace() (ns string, explicit bool, err error) {
	if f.Namespace != "" {
		return f.Namespace, true, nil
	}
	cfg, err := f.Config()
	if err != nil {
		return "", false, err
	}
	if cfg.Namespace != "" {
		return cfg.Namespace, false, nil
	}
	return config.DefaultNamespace, false, nil
}

func (f *Factory) close() {
	if f.cancel != nil {
		f.cancel()
	}
	if f.cs != nil {
		f.cs.Close()
	}
}

// NewRootCommand builds the `gantry` command.
func NewRootCommand(streams Streams) (*cobra.Command, *Factory) {
	f := &Factory{Streams: streams, Now: time.Now}
	root := &cobra.Command{
		Use:   "gantry",
		Short: "gantry controls the Gantry cluster manager",
		Long: "gantry controls the Gantry cluster manager, as kubectl controls Kubernetes.\n\n" +
			"Find more information in the README of github.com/gantryhq/gantry.",
		SilenceUsage:  true,
		SilenceErrors: true,
		CompletionOptions: cobra.CompletionOptions{
			DisableDefaultCmd: true,
		},
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	pf := root.PersistentFlags()
	pf.StringVar(&f.Kubeconfig, "kubeconfig", "", "Path to the client config file (default $"+config.EnvVar+", else ~/.gantry/config).")
	pf.StringVar(&f.Context, "context", "", "The name of the client config context to use.")
	pf.StringVarP(&f.Namespace, "namespace", "n", "", "If present, the namespace scope for this CLI request.")
	pf.DurationVar(&f.RequestTimeout, "request-timeout", 0, "The length of time to wait before giving up on a single server request (e.g. 1s, 2m). Zero means don't timeout requests.")
	f.addOverrideFlags(pf)
	pf.IntP("v", "v", 0, "number for the log level verbosity (accepted for kubectl compatibility)")
	root.PersistentPreRun = func(c *cobra.Command, _ []string) {
		if f.RequestTimeout > 0 {
			ctx, cancel := context.WithTimeout(c.Context(), f.RequestTimeout)
			f.cancel = cancel
			c.SetContext(ctx)
		}
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{msg: err.Error(), cmd: c.CommandPath()}
	})

	root.AddCommand(
		newApplyCommand(f),
		newCreateCommand(f),
		newGetCommand(f),
		newDescribeCommand(f),
		newDeleteCommand(f),
		newEventsCommand(f),
		newScaleCommand(f),
		newLabelCommand(f),
		newAnnotateCommand(f),
		newCordonCommand(f, true),
		newCordonCommand(f, false),
		newDrainCommand(f),
		newVersionCommand(f),
		newAPIResourcesCommand(f),
		newClusterInfoCommand(f),
		newWaitCommand(f),
		newPatchCommand(f),
		newRunCommand(f),
		newExposeCommand(f),
		newDiffCommand(f),
		newEditCommand(f),
		newExplainCommand(f),
		newSetCommand(f),
		newTaintCommand(f),
		newReplaceCommand(f),
		newAPIVersionsCommand(f),
		newCpCommand(f),
		newPluginCommand(f),
		newOptionsCommand(f),
		newConfigCommand(f),
		newCompletionCommand(f),
	)
	addLaterCommands(root, f)
	groupCommands(root)
	_ = root.RegisterFlagCompletionFunc("namespace", func(c *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return completeNamesOf(f, "namespaces")(c, nil, toComplete)
	})
	_ = root.RegisterFlagCompletionFunc("context", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		_, file, err := loadConfigFile(f)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, c := range file.Contexts {
			out = append(out, c.Name)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	return root, f
}

// usageError is a mistake in the command line.
type usageError struct {
	msg string
	cmd string
}

func (e *usageError) Error() string { return e.msg }

// errReported means the command already wrote its errors; exit 1.
var errReported = errors.New("errors reported")

// Main runs gantry with args and returns the exit code.
func Main(args []string, streams Streams) int {
	root, f := NewRootCommand(streams)
	defer f.close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		if c, _, err := root.Find(args); err != nil || c == root {
			if path, rest, ok := findPlugin(args); ok {
				return runPlugin(path, rest, streams)
			}
		}
	}
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if errors.Is(err, errReported) {
		return 1
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if !ee.silent {
			fmt.Fprintln(streams.ErrOut, ee.Error())
		}
		return ee.code
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(streams.ErrOut, "error: %s\nSee '%s --help' for usage.\n", ue.msg, ue.cmd)
		return 1
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return 130 // interrupted, as a shell reports SIGINT
	}
	fmt.Fprintln(streams.ErrOut, FormatError(err))
	return 1
}

// usage returns a usage error for c.
func usage(c *cobra.Command, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), cmd: c.CommandPath()}
}

// groupCommands sorts the verbs into kubectl's help groups.
func groupCommands(root *cobra.Command) {
	groups := []struct {
		id, title string
		verbs     []string
	}{
		{"basic", "Basic Commands (Beginner):", []string{"create", "expose", "run", "set"}},
		{"intermediate", "Basic Commands (Intermediate):", []string{"explain", "get", "edit", "delete"}},
		{"deploy", "Deploy Commands:", []string{"rollout", "scale"}},
		{"cluster", "Cluster Management Commands:", []string{"cluster-info", "cordon", "uncordon", "drain", "taint"}},
		{"debug", "Troubleshooting and Debugging Commands:", []string{"describe", "logs", "exec", "cp", "events"}},
		{"advanced", "Advanced Commands:", []string{"diff", "apply", "patch", "replace", "wait"}},
		{"settings", "Settings Commands:", []string{"label", "annotate", "completion"}},
		{"other", "Other Commands:", []string{"api-resources", "api-versions", "config", "plugin", "version", "options"}},
	}
	byName := map[string]*cobra.Command{}
	for _, c := range root.Commands() {
		byName[c.Name()] = c
	}
	for _, g := range groups {
		root.AddGroup(&cobra.Group{ID: g.id, Title: g.title})
		for _, v := range g.verbs {
			if c, ok := byName[v]; ok {
				c.GroupID = g.id
			}
		}
	}
	root.SetHelpCommandGroupID("other")
	root.SetCompletionCommandGroupID("settings")
}
