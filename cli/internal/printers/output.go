package printers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/template"

	"k8s.io/client-go/util/jsonpath"
	"sigs.k8s.io/yaml"

	"github.com/gantryhq/gantry/client/codec"
	"github.com/gantryhq/gantry/client/scheme"
)

// Formats are the values -o accepts.
var Formats = []string{"wide", "yaml", "json", "name"}

// Name is the -o name form of obj: kind.group/name ("deployment.apps/web",
// "pod/web-1").
func Name(res *scheme.Resource, obj scheme.Object) string {
	return res.GroupKind() + "/" + obj.GetMetadata().GetName()
}

// objectMap converts obj to Kubernetes' JSON as a generic value (numbers
// kept exact), so that it can be written with sorted keys as kubectl does.
func objectMap(obj scheme.Object) (any, error) {
	b, err := codec.Marshal(obj)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// listValue is a v1 List holding objs, as kubectl prints several objects.
func listValue(objs []scheme.Object) (any, error) {
	items := make([]any, 0, len(objs))
	for _, o := range objs {
		v, err := objectMap(o)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "List",
		"items":      items,
		"metadata":   map[string]any{"resourceVersion": ""},
	}, nil
}

func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func writeYAML(w io.Writer, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// PrintJSON writes one object as JSON, or a List when asList (kubectl
// writes a List whenever the request could return more than one object).
func PrintJSON(w io.Writer, objs []scheme.Object, asList bool) error {
	return printStructured(w, objs, asList, writeJSON)
}

// PrintYAML is PrintJSON in YAML.
func PrintYAML(w io.Writer, objs []scheme.Object, asList bool) error {
	return printStructured(w, objs, asList, writeYAML)
}

func printStructured(w io.Writer, objs []scheme.Object, asList bool, write func(io.Writer, any) error) error {
	if !asList && len(objs) == 1 {
		v, err := objectMap(objs[0])
		if err != nil {
			return err
		}
		return write(w, v)
	}
	v, err := listValue(objs)
	if err != nil {
		return err
	}
	return write(w, v)
}

// Printer writes objects in one -o format. A printer made for a watch
// writes each object as it comes (documents separated by --- in YAML).
type Printer struct {
	out     io.Writer
	format  string
	table   *TablePrinter
	res     *scheme.Resource
	opts    TableOptions
	count   int
	jp      *jsonpath.JSONPath
	tmpl    *template.Template
	columns []customColumn
	widths  []int
}

// AllowedFormats is what the error for an unknown -o lists.
const AllowedFormats = "custom-columns, custom-columns-file, go-template, go-template-file, json, jsonpath, jsonpath-file, name, wide, yaml"

// IsStructured reports whether format prints whole objects (or values
// from them) rather than one table per kind: -o json, yaml, jsonpath=...,
// custom-columns=...
func IsStructured(format string) bool {
	switch {
	case format == "json", format == "yaml", strings.HasPrefix(format, "go-template"),
		strings.HasPrefix(format, "jsonpath"), strings.HasPrefix(format, "custom-columns"):
		return true
	}
	return false
}

// NewPrinter returns a printer of res's objects in format ("" or "wide"
// for a table, "yaml", "json", "name", "jsonpath=TEMPLATE" or
// "custom-columns=HEADER:PATH,...").
func NewPrinter(out io.Writer, res *scheme.Resource, format string, opts TableOptions) (*Printer, error) {
	p := &Printer{out: out, format: format, res: res, opts: opts}
	name, arg, _ := strings.Cut(format, "=")
	if strings.HasSuffix(name, "-file") {
		b, err := os.ReadFile(arg)
		if err != nil {
			return nil, fmt.Errorf("error reading --template %s, %v", arg, err)
		}
		name, arg = strings.TrimSuffix(name, "-file"), strings.TrimSpace(string(b))
		if name == "custom-columns" {
			// A file holds a header line and a line of paths.
			ls := strings.Split(arg, "\n")
			if len(ls) != 2 {
				return nil, fmt.Errorf("custom-columns file must have two lines: headers and JSONPath expressions")
			}
			hs, ps := strings.Fields(ls[0]), strings.Fields(ls[1])
			if len(hs) != len(ps) {
				return nil, fmt.Errorf("expected %d columns, got %d paths", len(hs), len(ps))
			}
			parts := make([]string, len(hs))
			for i := range hs {
				parts[i] = hs[i] + ":" + ps[i]
			}
			arg = strings.Join(parts, ",")
		}
	}
	switch name {
	case "", "wide":
		p.opts.Wide = format == "wide"
		p.table = NewTablePrinter(out, res, p.opts)
	case "yaml", "json", "name":
	case "jsonpath":
		if arg == "" {
			return nil, fmt.Errorf("jsonpath template format specified but no template given")
		}
		j, err := parseJSONPath("out", arg)
		if err != nil {
			return nil, err
		}
		p.format, p.jp = "jsonpath", j
	case "go-template":
		if arg == "" {
			return nil, fmt.Errorf("template format specified but no template given")
		}
		t, err := template.New("output").Funcs(template.FuncMap{"exists": templateExists}).Parse(arg)
		if err != nil {
			return nil, fmt.Errorf("error parsing template %s, %v", arg, err)
		}
		p.format, p.tmpl = "go-template", t
	case "custom-columns":
		cols, err := parseCustomColumns(arg)
		if err != nil {
			return nil, err
		}
		p.format, p.columns = "custom-columns", cols
	default:
		return nil, fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: %s",
			format, AllowedFormats)
	}
	return p, nil
}

// Print writes objs; asList makes -o json|yaml|jsonpath see a List (a get
// of a kind), else each object alone (a get of one object by name).
func (p *Printer) Print(objs []scheme.Object, asList bool) error {
	if len(objs) > 1 {
		asList = true
	}
	switch p.format {
	case "", "wide":
		return p.table.Print(objs...)
	case "name":
		for _, o := range objs {
			fmt.Fprintln(p.out, Name(p.res, o))
		}
		return nil
	case "json":
		return PrintJSON(p.out, objs, asList)
	case "yaml":
		return PrintYAML(p.out, objs, asList)
	case "jsonpath":
		return printJSONPath(p.out, p.jp, objs, asList)
	case "go-template":
		return printTemplate(p.out, p.tmpl, objs, asList)
	case "custom-columns":
		return p.printColumns(objs)
	}
	return nil
}

// printColumns writes -o custom-columns rows, the header the first time.
func (p *Printer) printColumns(objs []scheme.Object) error {
	var rows [][]string
	if p.count == 0 && !p.opts.NoHeaders {
		h := make([]string, len(p.columns))
		for i, c := range p.columns {
			h[i] = c.header
		}
		rows = append(rows, h)
	}
	p.count++
	for _, o := range objs {
		r, err := customColumnsRow(p.columns, o)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	return writeAligned(p.out, rows, &p.widths)
}

// PrintWatched writes one object seen by a watch: a table row, a name, or
// the object alone (YAML documents separated by ---).
func (p *Printer) PrintWatched(obj scheme.Object) error {
	switch p.format {
	case "yaml":
		if p.count > 0 {
			fmt.Fprintln(p.out, "---")
		}
		p.count++
		return PrintYAML(p.out, []scheme.Object{obj}, false)
	case "json":
		return PrintJSON(p.out, []scheme.Object{obj}, false)
	case "jsonpath":
		return printJSONPath(p.out, p.jp, []scheme.Object{obj}, false)
	case "go-template":
		return printTemplate(p.out, p.tmpl, []scheme.Object{obj}, false)
	}
	return p.Print([]scheme.Object{obj}, false)
}

// PrintWatchEvent writes one watch event with --output-watch-events: a
// table row after an EVENT cell, or {"type": ..., "object": ...} in JSON
// and YAML; other formats print the object as PrintWatched does.
func (p *Printer) PrintWatchEvent(eventType string, obj scheme.Object) error {
	switch p.format {
	case "", "wide":
		return p.table.PrintEvent(eventType, obj)
	case "json", "yaml":
		v, err := objectMap(obj)
		if err != nil {
			return err
		}
		ev := map[string]any{"type": eventType, "object": v}
		if p.format == "json" {
			return writeJSON(p.out, ev)
		}
		if p.count > 0 {
			fmt.Fprintln(p.out, "---")
		}
		p.count++
		return writeYAML(p.out, ev)
	}
	return p.PrintWatched(obj)
}

// IsTable reports whether the printer writes a table.
func (p *Printer) IsTable() bool { return p.table != nil }

func printTemplate(w io.Writer, t *template.Template, objs []scheme.Object, asList bool) error {
	var data any
	var err error
	if !asList && len(objs) == 1 {
		data, err = genericValue(objs[0])
	} else {
		data, err = genericList(objs)
	}
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return fmt.Errorf("error executing template %q: %v", t.Root.String(), err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// templateExists is kubectl's "exists" template function: whether the
// path of keys exists in a map.
func templateExists(item any, keys ...string) bool {
	cur := item
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[k]; !ok {
			return false
		}
	}
	return true
}
