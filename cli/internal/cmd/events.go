package cmd

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/cli/internal/printers"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

func newEventsCommand(f *Factory) *cobra.Command {
	var allNamespaces, watchFlag, noHeaders bool
	var forObj, output string
	var types []string
	c := &cobra.Command{
		Use:   "events [(-o|--output=)json|yaml|name] [--for TYPE/NAME] [--watch] [--types=Normal,Warning]",
		Short: "List events",
		Example: `  # List recent events in the default namespace
  gantry events

  # List recent events for the specified pod, then wait for more events and list them as they arrive
  gantry events --for pod/web --watch`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			cs, ns, _, err := f.ClientIn()
			if err != nil {
				return err
			}
			if allNamespaces {
				ns = ""
			}
			fieldSel := ""
			if forObj != "" {
				typ, name, ok := strings.Cut(forObj, "/")
				if !ok {
					return fmt.Errorf("--for must be in resource/name form")
				}
				res, err := scheme.Lookup(typ)
				if err != nil {
					return err
				}
				fieldSel = "involvedObject.kind=" + res.Kind + ",involvedObject.name=" + name
			}
			want := map[string]bool{}
			for _, t := range types {
				want[strings.ToLower(t)] = true
			}
			keep := func(e *corev1.Event) bool { return len(want) == 0 || want[strings.ToLower(e.GetType())] }
			res, _ := scheme.ByName("events")
			l, err := list(ctx, cs, res, ns, client.ListOptions{FieldSelector: fieldSel})
			if err != nil {
				return err
			}
			var evs []scheme.Object
			for _, o := range l.Items {
				if keep(o.(*corev1.Event)) {
					evs = append(evs, o)
				}
			}
			sort.SliceStable(evs, func(i, j int) bool {
				return eventTime(evs[i].(*corev1.Event)).Before(eventTime(evs[j].(*corev1.Event)))
			})
			p, err := printers.NewPrinter(f.Out, res, output, printers.TableOptions{
				WithNamespace: allNamespaces, NoHeaders: noHeaders, Now: f.Now, EventCounts: true})
			if err != nil {
				return err
			}
			if len(evs) == 0 && !watchFlag {
				if allNamespaces {
					fmt.Fprintln(f.ErrOut, "No events found.")
				} else {
					fmt.Fprintf(f.ErrOut, "No events found in %s namespace.\n", ns)
				}
				if output == "json" || output == "yaml" {
					return p.Print(nil, true)
				}
				return nil
			}
			if len(evs) > 0 {
				if err := p.Print(evs, true); err != nil {
					return err
				}
			}
			if !watchFlag {
				return nil
			}
			return watch(ctx, cs.Resource(res, ns), l.ResourceVersion, "", fieldSel, p, false)
		},
	}
	c.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "If present, list the requested object(s) across all namespaces.")
	c.Flags().BoolVarP(&watchFlag, "watch", "w", false, "After listing the requested events, watch for more events.")
	c.Flags().BoolVar(&noHeaders, "no-headers", false, "When using the default output format, don't print headers.")
	c.Flags().StringVar(&forObj, "for", "", "Filter events to only those pertaining to the specified resource.")
	c.Flags().StringVarP(&output, "output", "o", "", "Output format. One of: (json, yaml, name).")
	c.Flags().StringSliceVar(&types, "types", nil, "Output only events of given types.")
	return c
}
