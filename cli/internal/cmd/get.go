package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/cli/internal/printers"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
)

type getOptions struct {
	output         string
	selector       string
	fieldSelector  string
	allNamespaces  bool
	watch          bool
	watchOnly      bool
	noHeaders      bool
	showLabels     bool
	ignoreNotFound bool
	sortBy         string
	watchEvents    bool
	labelColumns   []string
	chunkSize      int64
}

func newGetCommand(f *Factory) *cobra.Command {
	o := &getOptions{}
	c := &cobra.Command{
		Use:   "get [(-o|--output=)json|yaml|name|wide] (TYPE[.VERSION][.GROUP] [NAME | -l label] | TYPE[.VERSION][.GROUP]/NAME ...) [flags]",
		Short: "Display one or many resources",
		Example: `  # List all pods in ps output format
  gantry get pods

  # List a single deployment with specified NAME in JSON output format
  gantry get deployment web -o json

  # List pods of every namespace, with their node
  gantry get pods -A -o wide`,
		ValidArgsFunction: completeResources(f),
		RunE: func(c *cobra.Command, args []string) error {
			refs, err := parseResourceArgs(args)
			if err != nil {
				return err
			}
			return runGet(c.Context(), f, o, refs)
		},
	}
	fl := c.Flags()
	fl.StringVarP(&o.output, "output", "o", "", "Output format. One of: (json, yaml, name, wide, jsonpath=TEMPLATE, custom-columns=HEADER:PATH,...).")
	fl.StringVar(&o.sortBy, "sort-by", "", "If non-empty, sort list types using this field specification (a JSONPath expression, e.g. '{.metadata.name}').")
	fl.StringVarP(&o.selector, "selector", "l", "", "Selector (label query) to filter on, supports '=', '==', '!=', 'in', 'notin'.")
	fl.StringVar(&o.fieldSelector, "field-selector", "", "Selector (field query) to filter on, supports '=', '==', and '!='.")
	fl.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "If present, list the requested object(s) across all namespaces.")
	fl.BoolVarP(&o.watch, "watch", "w", false, "After listing/getting the requested object, watch for changes.")
	fl.BoolVar(&o.watchEvents, "output-watch-events", false, "Output watch event objects when --watch or --watch-only is used. Existing objects are output as initial ADDED events.")
	fl.BoolVar(&o.watchOnly, "watch-only", false, "Watch for changes to the requested object(s), without listing/getting first.")
	fl.BoolVar(&o.noHeaders, "no-headers", false, "When using the default or custom-column output format, don't print headers (default print headers).")
	fl.Int64Var(&o.chunkSize, "chunk-size", 500, "Return large lists in chunks rather than all at once. Pass 0 to disable.")
	fl.StringSliceVarP(&o.labelColumns, "label-columns", "L", nil, "Accepts a comma separated list of labels that are going to be presented as columns. Names are case-sensitive. You can also use multiple flag options like -L label1 -L label2...")
	fl.BoolVar(&o.showLabels, "show-labels", false, "When printing, show all labels as the last column (default hide labels column).")
	fl.BoolVar(&o.ignoreNotFound, "ignore-not-found", false, "If the requested object does not exist the command will return exit code 0.")
	registerOutputCompletion(c)
	return c
}

func runGet(ctx context.Context, f *Factory, o *getOptions, refs []resourceRef) error {
	if o.watchOnly {
		o.watch = true
	}
	if _, err := printers.NewPrinter(io.Discard, refs[0].res, o.output, printers.TableOptions{}); err != nil {
		return err
	}
	if o.watch && len(refs) != 1 {
		return errors.New("you may only specify a single resource type")
	}
	cs, ns, _, err := f.ClientIn()
	if err != nil {
		return err
	}
	if o.allNamespaces {
		ns = ""
	}
	topts := printers.TableOptions{
		WithNamespace: o.allNamespaces,
		ShowLabels:    o.showLabels,
		LabelColumns:  o.labelColumns,
		NoHeaders:     o.noHeaders,
		WithKind:      len(refs) > 1,
		Now:           f.Now,
	}
	structured := printers.IsStructured(o.output)
	var all []scheme.Object
	var errs []error
	printed := false
	byName := false
	for _, ref := range refs {
		var objs []scheme.Object
		rv := ""
		if len(ref.names) == 0 {
			l, err := cs.Resource(ref.res, namespaceFor(ref.res, ns)).ListAll(ctx,
				client.ListOptions{LabelSelector: o.selector, FieldSelector: o.fieldSelector, Limit: o.chunkSize})
			if err != nil {
				return err
			}
			objs, rv = l.Items, l.ResourceVersion
			if o.sortBy != "" {
				if err := printers.SortBy(objs, o.sortBy); err != nil {
					return err
				}
			}
		} else {
			byName = true
			if o.allNamespaces && ref.res.Namespaced {
				return errors.New("a resource cannot be retrieved by name across all namespaces")
			}
			tc := cs.Resource(ref.res, namespaceFor(ref.res, ns))
			for _, n := range ref.names {
				obj, err := tc.Get(ctx, n)
				if err != nil {
					if client.IsNotFound(err) && o.ignoreNotFound {
						continue
					}
					errs = append(errs, err)
					continue
				}
				objs = append(objs, obj)
				rv = obj.GetMetadata().GetResourceVersion()
			}
		}
		if structured {
			all = append(all, objs...)
			if !o.watch {
				continue
			}
		}
		p, err := printers.NewPrinter(f.Out, ref.res, o.output, topts)
		if err != nil {
			return err
		}
		if !o.watchOnly && len(objs) > 0 {
			if printed && p.IsTable() {
				fmt.Fprintln(f.Out)
			}
			if o.watch && o.watchEvents {
				for _, obj := range objs {
					if err := p.PrintWatchEvent(string(client.Added), obj); err != nil {
						return err
					}
				}
			} else if structured {
				for _, obj := range objs {
					if err := p.PrintWatched(obj); err != nil {
						return err
					}
				}
			} else if err := p.Print(objs, len(ref.names) != 1); err != nil {
				return err
			}
			printed = true
		}
		if o.watch {
			if len(ref.names) > 1 {
				return fmt.Errorf("watch is only supported on individual resources and resource collections, but %d resources were found", len(ref.names))
			}
			if len(objs) == 0 && !o.watchOnly && len(ref.names) == 0 {
				fmt.Fprintln(f.ErrOut, noResources(ns, o.allNamespaces, refs))
			}
			for _, e := range errs {
				fmt.Fprintln(f.ErrOut, FormatError(e))
			}
			if len(errs) > 0 {
				return errReported
			}
			fieldSel := o.fieldSelector
			if len(ref.names) == 1 {
				fieldSel = joinSelectors(fieldSel, "metadata.name="+ref.names[0])
			}
			return watch(ctx, cs.Resource(ref.res, namespaceFor(ref.res, ns)), rv, o.selector, fieldSel, p, o.watchEvents)
		}
	}
	if structured {
		if len(all) > 0 || !byName {
			if o.sortBy != "" && len(refs) > 1 {
				if err := printers.SortBy(all, o.sortBy); err != nil {
					return err
				}
			}
			p, err := printers.NewPrinter(f.Out, refs[0].res, o.output, topts)
			if err != nil {
				return err
			}
			if err := p.Print(all, !(len(refs) == 1 && len(refs[0].names) == 1)); err != nil {
				return err
			}
		}
	} else if !printed && !byName {
		fmt.Fprintln(f.ErrOut, noResources(ns, o.allNamespaces, refs))
	}
	for _, e := range errs {
		fmt.Fprintln(f.ErrOut, FormatError(e))
	}
	if len(errs) > 0 {
		return errReported
	}
	return nil
}

func joinSelectors(a, b string) string {
	if a == "" {
		return b
	}
	return a + "," + b
}

// watch prints each change after rv until ctx ends.
func watch(ctx context.Context, tc *client.Typed[scheme.Object], rv, labelSel, fieldSel string, p *printers.Printer, withEvents bool) error {
	pause := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Second):
			return true
		}
	}
	for {
		w, err := tc.Watch(ctx, client.WatchOptions{ResourceVersion: rv, LabelSelector: labelSel, FieldSelector: fieldSel})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if client.IsUnavailable(err) && pause() {
				continue
			}
			return err
		}
	events:
		for {
			ev, err := w.Next()
			if err != nil {
				w.Stop()
				if ctx.Err() != nil {
					return nil
				}
				if client.IsGone(err) {
					rv = "" // compacted: start again from the current state
				} else if !errors.Is(err, io.EOF) && !client.IsUnavailable(err) {
					return err
				}
				// The stream ended (the server restarted, or timed the
				// watch out): watch again after a pause.
				if !pause() {
					return nil
				}
				break events
			}
			if ev.Type == client.Bookmark {
				continue
			}
			rv = ev.ResourceVersion
			if withEvents {
				err = p.PrintWatchEvent(string(ev.Type), ev.Object)
			} else {
				err = p.PrintWatched(ev.Object)
			}
			if err != nil {
				return err
			}
		}
	}
}
