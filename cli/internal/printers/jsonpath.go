package printers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"k8s.io/client-go/util/jsonpath"

	"github.com/gantryhq/gantry/client/codec"
	"github.com/gantryhq/gantry/client/scheme"
)

var relaxedJSONPath = regexp.MustCompile(`^\{\.?([^{}]+)\}$|^\.?([^{}]+)$`)

// RelaxedJSONPath turns the paths kubectl accepts in custom-columns and
// --sort-by (".metadata.name", "metadata.name", "{.metadata.name}") into a
// JSONPath template.
func RelaxedJSONPath(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	m := relaxedJSONPath.FindStringSubmatch(path)
	if m == nil {
		return "", fmt.Errorf("unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'")
	}
	spec := m[1]
	if spec == "" {
		spec = m[2]
	}
	return "{." + spec + "}", nil
}

// genericValue is obj as encoding/json's generic value (numbers float64),
// the input of JSONPath as kubectl gives it.
func genericValue(obj scheme.Object) (any, error) {
	b, err := codec.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return v, nil
}

func genericList(objs []scheme.Object) (any, error) {
	items := make([]any, 0, len(objs))
	for _, o := range objs {
		v, err := genericValue(o)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	return map[string]any{"apiVersion": "v1", "kind": "List", "items": items, "metadata": map[string]any{"resourceVersion": ""}}, nil
}

func parseJSONPath(name, template string) (*jsonpath.JSONPath, error) {
	j := jsonpath.New(name).AllowMissingKeys(true)
	if err := j.Parse(template); err != nil {
		return nil, fmt.Errorf("error parsing jsonpath %s, %v", template, err)
	}
	return j, nil
}

// customColumn is one column of -o custom-columns.
type customColumn struct {
	header string
	path   *jsonpath.JSONPath
}

func parseCustomColumns(spec string) ([]customColumn, error) {
	if spec == "" {
		return nil, fmt.Errorf("custom-columns format specified but no custom columns given")
	}
	var cols []customColumn
	for _, part := range strings.Split(spec, ",") {
		header, path, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("unexpected custom-columns spec: %s, expected <header>:<json-path-expr>", part)
		}
		tmpl, err := RelaxedJSONPath(path)
		if err != nil {
			return nil, err
		}
		j, err := parseJSONPath(header, tmpl)
		if err != nil {
			return nil, err
		}
		cols = append(cols, customColumn{header: header, path: j})
	}
	return cols, nil
}

// customColumnsRow is the cells of one object.
func customColumnsRow(cols []customColumn, obj scheme.Object) ([]string, error) {
	v, err := genericValue(obj)
	if err != nil {
		return nil, err
	}
	cells := make([]string, len(cols))
	for i, c := range cols {
		results, err := c.path.FindResults(v)
		if err != nil {
			return nil, err
		}
		var vals []string
		for _, r := range results {
			for _, x := range r {
				if !x.IsValid() || (x.Kind() == reflect.Interface && x.IsNil()) {
					continue
				}
				vals = append(vals, fmt.Sprint(x.Interface()))
			}
		}
		if len(vals) == 0 {
			cells[i] = "<none>"
		} else {
			cells[i] = strings.Join(vals, ",")
		}
	}
	return cells, nil
}

func printJSONPath(w io.Writer, j *jsonpath.JSONPath, objs []scheme.Object, asList bool) error {
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
	if err := j.Execute(&buf, data); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// SortBy sorts objs by the value at a JSONPath (--sort-by): numbers
// numerically, anything else as text; objects without the field first.
func SortBy(objs []scheme.Object, path string) error {
	tmpl, err := RelaxedJSONPath(path)
	if err != nil {
		return err
	}
	j, err := parseJSONPath("sort", tmpl)
	if err != nil {
		return err
	}
	type keyed struct {
		obj scheme.Object
		num float64
		str string
		isN bool
		has bool
	}
	ks := make([]keyed, len(objs))
	for i, o := range objs {
		ks[i].obj = o
		v, err := genericValue(o)
		if err != nil {
			return err
		}
		res, err := j.FindResults(v)
		if err != nil {
			return err
		}
		if len(res) == 0 || len(res[0]) == 0 {
			continue
		}
		x := res[0][0].Interface()
		ks[i].has = true
		if f, ok := x.(float64); ok {
			ks[i].num, ks[i].isN = f, true
		} else {
			ks[i].str = fmt.Sprint(x)
		}
	}
	sort.SliceStable(ks, func(a, b int) bool {
		x, y := ks[a], ks[b]
		switch {
		case x.has != y.has:
			return !x.has
		case x.isN && y.isN:
			return x.num < y.num
		}
		return x.str < y.str
	})
	for i := range ks {
		objs[i] = ks[i].obj
	}
	return nil
}
