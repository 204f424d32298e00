package printers

import (
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/gantryhq/gantry/client/scheme"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// TableOptions change what a table shows.
type TableOptions struct {
	// Wide adds the -o wide columns.
	Wide bool
	// WithNamespace adds a NAMESPACE column first (-A).
	WithNamespace bool
	// ShowLabels adds a LABELS column last (--show-labels).
	ShowLabels bool
	// NoHeaders leaves the header row out (--no-headers).
	NoHeaders bool
	// WithKind writes NAME as kind/name, as kubectl does when it prints
	// more than one kind.
	WithKind bool
	// Now is the clock AGE columns are computed against (time.Now when nil).
	Now func() time.Time
	// LabelColumns adds a column per label key (-L): the key's last path
	// segment, uppercased, holding the label's value.
	LabelColumns []string
	// EventCounts writes an event's LAST SEEN as `kubectl events` does:
	// "5m (x3 over 10m)" for a repeated event.
	EventCounts bool
}

// column is one column of a kind's table.
type column struct {
	name string
	// wide columns show only with -o wide.
	wide bool
}

// kindTable is how one kind prints: its columns and a function making the
// cells of one object (one per column, in order, wide ones included).
type kindTable struct {
	columns []column
	row     func(obj scheme.Object, now time.Time) []string
}

// tables holds the table of each resource, by resource name.
var tables = map[string]kindTable{}

func register(resource string, columns []column, row func(obj scheme.Object, now time.Time) []string) {
	tables[resource] = kindTable{columns: columns, row: row}
}

// defaultTable is used for a resource without its own: NAME AGE.
var defaultTable = kindTable{
	columns: []column{{name: "NAME"}, {name: "AGE"}},
	row: func(obj scheme.Object, now time.Time) []string {
		return []string{obj.GetMetadata().GetName(), age(obj.GetMetadata().GetCreationTimestamp(), now)}
	},
}

func tableFor(res *scheme.Resource) kindTable {
	if t, ok := tables[res.Name]; ok {
		return t
	}
	return defaultTable
}

// Header returns the header cells of res's table.
func Header(res *scheme.Resource, opts TableOptions) []string {
	var out []string
	if opts.WithNamespace && res.Namespaced {
		out = append(out, "NAMESPACE")
	}
	for _, c := range tableFor(res).columns {
		if c.wide && !opts.Wide {
			continue
		}
		out = append(out, c.name)
	}
	for _, l := range opts.LabelColumns {
		parts := strings.Split(l, "/")
		out = append(out, strings.ToUpper(parts[len(parts)-1]))
	}
	if opts.ShowLabels {
		out = append(out, "LABELS")
	}
	return out
}

// Row returns the cells of obj's row in res's table.
func Row(res *scheme.Resource, obj scheme.Object, opts TableOptions) []string {
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	t := tableFor(res)
	cells := t.row(obj, now)
	if e, ok := obj.(*corev1.Event); ok && opts.EventCounts {
		cells[0] = EventLastSeen(e, now, true)
	}
	var out []string
	if opts.WithNamespace && res.Namespaced {
		out = append(out, obj.GetMetadata().GetNamespace())
	}
	for i, c := range t.columns {
		if c.wide && !opts.Wide {
			continue
		}
		cell := cells[i]
		if i == 0 && opts.WithKind {
			cell = res.GroupKind() + "/" + cell
		}
		out = append(out, cell)
	}
	for _, l := range opts.LabelColumns {
		out = append(out, obj.GetMetadata().GetLabels()[l])
	}
	if opts.ShowLabels {
		out = append(out, labelsString(obj.GetMetadata().GetLabels()))
	}
	return out
}

// TablePrinter writes rows of one resource under one header. With -w it is
// called again for each change: the header is written once, and later rows
// keep at least the column widths of the first block.
type TablePrinter struct {
	out           io.Writer
	res           *scheme.Resource
	opts          TableOptions
	headerPrinted bool
	widths        []int
}

// NewTablePrinter returns a printer of res's objects to out.
func NewTablePrinter(out io.Writer, res *scheme.Resource, opts TableOptions) *TablePrinter {
	return &TablePrinter{out: out, res: res, opts: opts}
}

// columnPadding is the space between columns, as in kubectl.
const columnPadding = 3

// minColumnWidth is the narrowest a column is, padding included.
const minColumnWidth = 6

// Print writes the rows of objs (after the header, the first time). Columns
// are aligned within one call, as kubectl's tabwriter does, and never
// narrower than in earlier calls.
func (p *TablePrinter) Print(objs ...scheme.Object) error {
	return p.PrintEvent("", objs...)
}

// PrintEvent is Print for objects seen by a watch with
// --output-watch-events: an EVENT column (ADDED, MODIFIED, DELETED) comes
// first. eventType "" prints no such column.
func (p *TablePrinter) PrintEvent(eventType string, objs ...scheme.Object) error {
	var rows [][]string
	if !p.headerPrinted && !p.opts.NoHeaders {
		h := Header(p.res, p.opts)
		if eventType != "" {
			h = append([]string{"EVENT"}, h...)
		}
		rows = append(rows, h)
	}
	p.headerPrinted = true
	for _, obj := range objs {
		r := Row(p.res, obj, p.opts)
		if eventType != "" {
			r = append([]string{eventType}, r...)
		}
		rows = append(rows, r)
	}
	return writeAligned(p.out, rows, &p.widths)
}

// writeAligned writes rows in columns three spaces apart, each column at
// least as wide as in earlier calls (*widths is kept between calls).
func writeAligned(out io.Writer, rows [][]string, widths *[]int) error {
	if len(rows) == 0 {
		return nil
	}
	ws := append([]int(nil), (*widths)...)
	for _, r := range rows {
		if len(r) == 0 {
			continue
		}
		for i, c := range r[:len(r)-1] {
			for len(ws) <= i {
				ws = append(ws, 0)
			}
			if w := max(utf8.RuneCountInString(c)+columnPadding, minColumnWidth); w > ws[i] {
				ws[i] = w
			}
		}
	}
	*widths = ws
	var b strings.Builder
	for _, r := range rows {
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", ws[i]-utf8.RuneCountInString(c)))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// NewTabWriter is kubectl's tab writer: columns three spaces apart.
func NewTabWriter(out io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(out, 6, 4, 3, ' ', 0)
}

// Age is how kubectl writes the time since t: "5m", "3h2m", "12d";
// "<unknown>" when t is not set.
func Age(t *timestamppb.Timestamp, now time.Time) string { return age(t, now) }

func age(t *timestamppb.Timestamp, now time.Time) string {
	if t == nil {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.AsTime()))
}

// since is age for optional timestamps written as "<none>" when unset.
func since(t *timestamppb.Timestamp, now time.Time) string {
	if t == nil {
		return "<none>"
	}
	return age(t, now)
}

func labelsString(m map[string]string) string {
	if len(m) == 0 {
		return "<none>"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

// LabelsString writes labels as kubectl does ("app=web,tier=front"),
// "<none>" when there are none.
func LabelsString(m map[string]string) string { return labelsString(m) }

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
