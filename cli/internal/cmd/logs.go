package cmd

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/podexec"
	"github.com/gantryhq/gantry/client/scheme"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// defaultContainerAnnotation names the container logs and exec use when
// none is given, as in kubectl.
const defaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

// resolvePod finds the pod an argument names: POD, pod/POD, or
// TYPE/NAME of a deployment, replica set or job (one of its pods).
func resolvePod(ctx context.Context, f *Factory, cs *client.Clientset, ns, arg string) (*corev1.Pod, error) {
	typ, name, ok := strings.Cut(arg, "/")
	if !ok {
		return cs.Pods(ns).Get(ctx, arg)
	}
	res, err := scheme.Lookup(typ)
	if err != nil {
		return nil, err
	}
	if res.Name == "pods" {
		return cs.Pods(ns).Get(ctx, name)
	}
	var sel *metav1.LabelSelector
	switch res.Name {
	case "deployments":
		var d *appsv1.Deployment
		if d, err = cs.Deployments(ns).Get(ctx, name); err == nil {
			sel = d.GetSpec().GetSelector()
		}
	case "replicasets":
		var rs *appsv1.ReplicaSet
		if rs, err = cs.ReplicaSets(ns).Get(ctx, name); err == nil {
			sel = rs.GetSpec().GetSelector()
		}
	case "jobs":
		var j *batchv1.Job
		if j, err = cs.Jobs(ns).Get(ctx, name); err == nil {
			sel = j.GetSpec().GetSelector()
		}
	default:
		return nil, fmt.Errorf("cannot attach to %s: selector for %s not implemented", res.Kind, res.Name)
	}
	if err != nil {
		return nil, err
	}
	l, err := cs.Pods(ns).List(ctx, client.ListOptions{LabelSelector: labels.Set(sel.GetMatchLabels()).String()})
	if err != nil {
		return nil, err
	}
	if len(l.Items) == 0 {
		return nil, fmt.Errorf("timed out waiting for the condition")
	}
	pods := l.Items
	// Prefer running pods, then the newest, as kubectl does.
	sort.SliceStable(pods, func(i, j int) bool {
		ri, rj := pods[i].GetStatus().GetPhase() == "Running", pods[j].GetStatus().GetPhase() == "Running"
		if ri != rj {
			return ri
		}
		return pods[i].GetMetadata().GetCreationTimestamp().AsTime().After(pods[j].GetMetadata().GetCreationTimestamp().AsTime())
	})
	if len(pods) > 1 {
		fmt.Fprintf(f.ErrOut, "Found %d pods, using pod/%s\n", len(pods), pods[0].GetMetadata().GetName())
	}
	return pods[0], nil
}

// defaultContainer picks the container when -c is not given.
func defaultContainer(f *Factory, pod *corev1.Pod) string {
	cs := pod.GetSpec().GetContainers()
	if len(cs) == 0 {
		return ""
	}
	if n := pod.GetMetadata().GetAnnotations()[defaultContainerAnnotation]; n != "" {
		for _, c := range cs {
			if c.GetName() == n {
				return n
			}
		}
	}
	if len(cs) > 1 {
		names := make([]string, len(cs))
		for i, c := range cs {
			names[i] = c.GetName()
		}
		fmt.Fprintf(f.ErrOut, "Defaulted container %q out of: %s\n", cs[0].GetName(), strings.Join(names, ", "))
	}
	return cs[0].GetName()
}

func newLogsCommand(f *Factory) *cobra.Command {
	var follow, previous, timestamps, allContainers, prefix bool
	var container, selector string
	var tail int64 = -1
	var since time.Duration
	c := &cobra.Command{
		Use:               "logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]",
		ValidArgsFunction: completeNamesOf(f, "pods"),
		Short:             "Print the logs for a container in a pod",
		Example: `  # Return snapshot logs from pod nginx with only one container
  gantry logs nginx

  # Begin streaming the logs of the ruby container in pod web-1
  gantry logs -f -c ruby web-1

  # Show the last 10 lines of a pod of deployment web
  gantry logs --tail=10 deployment/web`,
		RunE: func(c *cobra.Command, args []string) error {
			if selector != "" {
				if len(args) > 0 {
					return usage(c, "only a selector (-l) or a POD name is allowed")
				}
				return logsOfSelected(c, f, selector, container, allContainers, prefix, podexec.LogOptions{
					Follow: follow, Previous: previous, Timestamps: timestamps}, tail, since)
			}
			if len(args) != 1 {
				if len(args) == 2 && container == "" {
					container = args[1]
				} else {
					return usage(c, "expected POD or TYPE/NAME, and optionally a container name")
				}
			}
			ctx := c.Context()
			cs, ns, _, err := f.ClientIn()
			if err != nil {
				return err
			}
			pod, err := resolvePod(ctx, f, cs, ns, args[0])
			if err != nil {
				return err
			}
			containers := []string{container}
			switch {
			case allContainers:
				containers = nil
				for _, ct := range pod.GetSpec().GetContainers() {
					containers = append(containers, ct.GetName())
				}
			case container == "":
				containers = []string{defaultContainer(f, pod)}
			}
			for _, ct := range containers {
				o := podexec.LogOptions{Namespace: pod.GetMetadata().GetNamespace(), Name: pod.GetMetadata().GetName(),
					Container: ct, Follow: follow, Previous: previous, Timestamps: timestamps}
				if tail >= 0 {
					t := tail
					o.TailLines = &t
				}
				if since > 0 {
					s := int64(since.Seconds())
					o.SinceSeconds = &s
				}
				out, errOut := f.Out, f.ErrOut
				if prefix {
					p := fmt.Sprintf("[pod/%s/%s] ", pod.GetMetadata().GetName(), ct)
					out, errOut = &prefixWriter{w: f.Out, prefix: p}, &prefixWriter{w: f.ErrOut, prefix: p}
				}
				if err := podexec.Logs(ctx, cs.Conn(), o, out, errOut); err != nil {
					return err
				}
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.BoolVarP(&follow, "follow", "f", false, "Specify if the logs should be streamed.")
	fl.BoolVarP(&previous, "previous", "p", false, "If true, print the logs for the previous instance of the container in a pod if it exists.")
	fl.BoolVar(&timestamps, "timestamps", false, "Include timestamps on each line in the log output")
	fl.BoolVar(&allContainers, "all-containers", false, "Get all containers' logs in the pod(s).")
	fl.StringVarP(&container, "container", "c", "", "Print the logs of this container")
	fl.Int64Var(&tail, "tail", -1, "Lines of recent log file to display. Defaults to -1, showing all log lines.")
	fl.StringVarP(&selector, "selector", "l", "", "Selector (label query) to filter on: logs of every matching pod, each line prefixed with its source.")
	fl.BoolVar(&prefix, "prefix", false, "Prefix each log line with the log source (pod name and container name)")
	fl.DurationVar(&since, "since", 0, "Only return logs newer than a relative duration like 5s, 2m, or 3h. Defaults to all logs.")
	return c
}

// prefixWriter starts every line written through it with prefix. It is
// not safe for concurrent use; each stream has its own.
type prefixWriter struct {
	w       io.Writer
	prefix  string
	midLine bool
	mu      *sync.Mutex
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	if p.mu != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
	}
	var out []byte
	for _, c := range b {
		if !p.midLine {
			out = append(out, p.prefix...)
			p.midLine = true
		}
		out = append(out, c)
		if c == '\n' {
			p.midLine = false
		}
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// logsOfSelected prints the logs of every pod the selector matches (the
// first container of each unless -c or --all-containers), following them
// at once with -f.
func logsOfSelected(c *cobra.Command, f *Factory, selector, container string, allContainers, prefix bool, base podexec.LogOptions, tail int64, since time.Duration) error {
	ctx := c.Context()
	cs, ns, _, err := f.ClientIn()
	if err != nil {
		return err
	}
	l, err := cs.Pods(ns).List(ctx, client.ListOptions{LabelSelector: selector})
	if err != nil {
		return err
	}
	if len(l.Items) == 0 {
		fmt.Fprintf(f.ErrOut, "No resources found in %s namespace.\n", ns)
		return nil
	}
	if tail < 0 {
		tail = 10 // kubectl's default with a selector
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for _, pod := range l.Items {
		var cts []string
		switch {
		case allContainers:
			for _, ct := range pod.GetSpec().GetContainers() {
				cts = append(cts, ct.GetName())
			}
		case container != "":
			cts = []string{container}
		default:
			if len(pod.GetSpec().GetContainers()) > 0 {
				cts = []string{pod.GetSpec().GetContainers()[0].GetName()}
			}
		}
		for _, ct := range cts {
			o := base
			o.Namespace, o.Name, o.Container = ns, pod.GetMetadata().GetName(), ct
			t := tail
			o.TailLines = &t
			if since > 0 {
				s := int64(since.Seconds())
				o.SinceSeconds = &s
			}
			p := fmt.Sprintf("[pod/%s/%s] ", o.Name, ct)
			out := &prefixWriter{w: f.Out, prefix: p, mu: &mu}
			errOut := &prefixWriter{w: f.ErrOut, prefix: p, mu: &mu}
			if !prefix {
				out.prefix, errOut.prefix = "", ""
			}
			run := func() error { return podexec.Logs(ctx, cs.Conn(), o, out, errOut) }
			if !base.Follow {
				if err := run(); err != nil {
					return err
				}
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := run(); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	return <-errs
}
