// Command gantry-dev is what hack/dev-cluster.sh (make up) needs beyond
// docker-compose and the gantry CLI:
//
//	gantry-dev kubeconfig  -admin admin.conf -server https://127.0.0.1:6443 -name dev [-out ~/.gantry/config]
//	gantry-dev wait-nodes  -nodes 2 [-timeout 3m]
//	gantry-dev wait-deployment -n default demo [-timeout 3m]
//	gantry-dev wait-lb     -n default demo [-timeout 2m]
//	gantry-dev forget      -name dev [-out ~/.gantry/config]
//
// The wait commands take -kubeconfig and -context like every Gantry client.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/config"
	"github.com/gantryhq/gantry/hack/compose/internal/devcluster"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "kubeconfig":
		err = kubeconfig(os.Args[2:])
	case "wait-nodes":
		err = waitNodes(os.Args[2:])
	case "wait-deployment":
		err = waitDeployment(os.Args[2:])
	case "wait-lb":
		err = waitLB(os.Args[2:])
	case "forget":
		err = forget(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gantry-dev %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: gantry-dev kubeconfig|wait-nodes|wait-deployment|wait-lb|forget [flags]")
	os.Exit(2)
}

func kubeconfig(args []string) error {
	fs := flag.NewFlagSet("kubeconfig", flag.ExitOnError)
	adminPath := fs.String("admin", "", "The apiserver's admin.conf (required).")
	server := fs.String("server", "", "Server to write instead of admin.conf's (https://127.0.0.1:6443).")
	name := fs.String("name", "dev", "Name of the cluster, user and context to write.")
	out := fs.String("out", "", "Config file to merge into (default $GANTRY_CONFIG, else ~/.gantry/config).")
	current := fs.Bool("set-current", true, "Make the context the current one.")
	_ = fs.Parse(args)
	if *adminPath == "" {
		return errors.New("-admin is required")
	}
	admin, err := config.Load(*adminPath)
	if err != nil {
		return err
	}
	path, err := config.Path(*out)
	if err != nil {
		return err
	}
	var into *config.File
	if _, statErr := os.Stat(path); statErr == nil {
		if into, err = config.Load(path); err != nil {
			return fmt.Errorf("%w (fix or move it; nothing was written)", err)
		}
	}
	merged, err := devcluster.MergeContext(into, admin, *name, *server, *current)
	if err != nil {
		return err
	}
	if _, err := merged.Resolve(*name); err != nil {
		return err
	}
	if err := config.Write(path, merged); err != nil {
		return err
	}
	fmt.Printf("context %q in %s (current: %s)\n", *name, path, merged.CurrentContext)
	return nil
}

func forget(args []string) error {
	fs := flag.NewFlagSet("forget", flag.ExitOnError)
	name := fs.String("name", "dev", "Name of the cluster, user and context to remove.")
	out := fs.String("out", "", "Config file (default $GANTRY_CONFIG, else ~/.gantry/config).")
	_ = fs.Parse(args)
	path, err := config.Path(*out)
	if err != nil {
		return err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	f, err := config.Load(path)
	if err != nil {
		return err
	}
	rest, removed := devcluster.RemoveContext(f, *name)
	if !removed {
		return nil
	}
	if err := config.Write(path, rest); err != nil {
		return err
	}
	fmt.Printf("removed context %q from %s (current: %s)\n", *name, path, orNone(nonEmpty(rest.CurrentContext)))
	return nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// clientFlags are the flags every wait command shares.
type clientFlags struct {
	kubeconfig, context, namespace *string
	timeout                        *time.Duration
}

func addClientFlags(fs *flag.FlagSet, timeout time.Duration) clientFlags {
	return clientFlags{
		kubeconfig: fs.String("kubeconfig", "", "Client config (default $GANTRY_CONFIG, else ~/.gantry/config)."),
		context:    fs.String("context", "", "Context of the client config (default its current context)."),
		namespace:  fs.String("n", "default", "Namespace."),
		timeout:    fs.Duration("timeout", timeout, "How long to wait."),
	}
}

func (f clientFlags) connect() (*client.Clientset, error) {
	cfg, err := config.Open(*f.kubeconfig, *f.context)
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.WithUserAgent("gantry-dev"))
}

// waitCtx is the context of a wait command: its -timeout.
func waitCtx(timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), timeout)
}

// progress prints what a wait is waiting for, on stderr (stdout carries the
// result the scripts read).
func progress(what string) func(string) {
	return func(msg string) { fmt.Fprintf(os.Stderr, "  … %s: %s\n", what, msg) }
}

func waitNodes(args []string) error {
	fs := flag.NewFlagSet("wait-nodes", flag.ExitOnError)
	cf := addClientFlags(fs, 3*time.Minute)
	want := fs.Int("nodes", 1, "Number of Ready nodes to wait for.")
	sinceFlag := fs.String("since", "", "Count a node only when its Ready heartbeat is at or after this RFC 3339 time (a Node keeps its last status while its kubelet is down).")
	_ = fs.Parse(args)
	var since time.Time
	if *sinceFlag != "" {
		t, err := time.Parse(time.RFC3339, *sinceFlag)
		if err != nil {
			return fmt.Errorf("-since: %w", err)
		}
		since = t
	}
	cs, err := cf.connect()
	if err != nil {
		return err
	}
	defer cs.Close()
	ctx, cancel := waitCtx(*cf.timeout)
	defer cancel()
	ready, err := devcluster.WaitNodes(ctx, cs, *want, since, time.Second, progress("nodes"))
	if err != nil {
		return fmt.Errorf("nodes not Ready after %s: %w", *cf.timeout, err)
	}
	fmt.Println(strings.Join(ready, " "))
	return nil
}

func waitDeployment(args []string) error {
	fs := flag.NewFlagSet("wait-deployment", flag.ExitOnError)
	cf := addClientFlags(fs, 3*time.Minute)
	name, err := parseNamed(fs, args)
	if err != nil {
		return fmt.Errorf("%w (name the Deployment)", err)
	}
	cs, err := cf.connect()
	if err != nil {
		return err
	}
	defer cs.Close()
	ctx, cancel := waitCtx(*cf.timeout)
	defer cancel()
	if err := devcluster.WaitDeployment(ctx, cs, *cf.namespace, name, time.Second, progress("deployment/"+name)); err != nil {
		return fmt.Errorf("deployment/%s not available after %s: %w", name, *cf.timeout, err)
	}
	return nil
}

func waitLB(args []string) error {
	fs := flag.NewFlagSet("wait-lb", flag.ExitOnError)
	cf := addClientFlags(fs, 2*time.Minute)
	name, err := parseNamed(fs, args)
	if err != nil {
		return fmt.Errorf("%w (name the Service)", err)
	}
	cs, err := cf.connect()
	if err != nil {
		return err
	}
	defer cs.Close()
	ctx, cancel := waitCtx(*cf.timeout)
	defer cancel()
	addrs, err := devcluster.WaitLoadBalancer(ctx, cs, *cf.namespace, name, time.Second, progress("service/"+name+" load balancer"))
	if err != nil {
		return fmt.Errorf("service/%s has no load balancer address after %s: %w", name, *cf.timeout, err)
	}
	fmt.Println(strings.Join(addrs, " "))
	return nil
}

// parseNamed parses flags on either side of one name ("demo -timeout 1m"
// as well as "-timeout 1m demo") and returns the name.
func parseNamed(fs *flag.FlagSet, args []string) (string, error) {
	_ = fs.Parse(args)
	if fs.NArg() == 0 {
		return "", errors.New("no name given")
	}
	name := fs.Arg(0)
	_ = fs.Parse(fs.Args()[1:])
	if fs.NArg() != 0 {
		return "", fmt.Errorf("one name only, got %q and %q", name, fs.Args())
	}
	return name, nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
