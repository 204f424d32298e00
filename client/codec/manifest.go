package codec

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/gantryhq/gantry/client/scheme"
)

// Decode reads one JSON object of a kind: its apiVersion and kind pick the
// message (scheme.ByKind), which Unmarshal then fills. A missing kind is
// `Object 'Kind' is missing in '...'`, an unknown one `no matches for kind
// "Foo" in version "v1"`, as kubectl says. Decode reads JSON only; YAML
// goes through DecodeManifests.
func Decode(data []byte) (proto.Message, error) {
	tm, err := peekTypeMeta(data)
	if err != nil {
		return nil, err
	}
	s := scanner{data: data, pos: tm.end}
	if err := s.end(); err != nil {
		return nil, err
	}
	res, err := tm.resource(data)
	if err != nil {
		return nil, err
	}
	m := res.New()
	if err := Unmarshal(data, m); err != nil {
		return nil, err
	}
	return m, nil
}

// typeMeta is what a manifest says of itself before it is decoded.
type typeMeta struct {
	apiVersion, kind, name string
	// end is the offset just after the object.
	end int
}

// peekTypeMeta reads the JSON object at the start of data and returns its
// apiVersion, kind and metadata.name (each "" when missing or not a string).
func peekTypeMeta(data []byte) (typeMeta, error) {
	return peekTypeMetaAt(data, 0)
}

// peekTypeMetaAt is peekTypeMeta for the object at data[start:]; end is
// an offset in data.
func peekTypeMetaAt(data []byte, start int) (typeMeta, error) {
	var tm typeMeta
	s := scanner{data: data, pos: start}
	if c := s.peek(); c != '{' {
		if typeName(c) == "invalid value" {
			return tm, s.unexpected("looking for beginning of value")
		}
		return tm, fmt.Errorf("expected an object, got %s", typeName(c))
	}
	str := func(dst *string) error {
		if s.peek() != '"' {
			return s.skip()
		}
		b, err := s.str()
		*dst = string(b)
		return err
	}
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "apiVersion":
			return str(&tm.apiVersion)
		case "kind":
			return str(&tm.kind)
		case "metadata":
			if s.peek() != '{' {
				return s.skip()
			}
			return s.object(func(key []byte) error {
				if string(key) == "name" {
					return str(&tm.name)
				}
				return s.skip()
			})
		}
		return s.skip()
	})
	tm.end = s.pos
	return tm, err
}

// resource finds the kind of the object obj, which tm was read from.
func (tm typeMeta) resource(obj []byte) (*scheme.Resource, error) {
	if tm.kind == "" {
		return nil, fmt.Errorf("Object 'Kind' is missing in '%s'", excerpt(obj))
	}
	if tm.apiVersion == "" {
		return nil, fmt.Errorf("Object 'apiVersion' is missing in '%s'", excerpt(obj))
	}
	res, ok := scheme.ByKind(tm.apiVersion, tm.kind)
	if !ok {
		return nil, fmt.Errorf("no matches for kind %q in version %q", tm.kind, tm.apiVersion)
	}
	return res, nil
}

// describe names the object for errors: `Deployment "nginx"`.
func (tm typeMeta) describe() string {
	switch {
	case tm.kind != "" && tm.name != "":
		return fmt.Sprintf(" (%s %q)", tm.kind, tm.name)
	case tm.kind != "":
		return " (" + tm.kind + ")"
	case tm.name != "":
		return fmt.Sprintf(" (%q)", tm.name)
	}
	return ""
}

// excerpt shortens an object for an error message.
func excerpt(obj []byte) string {
	const max = 256
	obj = bytes.TrimSpace(obj)
	if len(obj) > max {
		return string(obj[:max]) + "..."
	}
	return string(obj)
}

// DecodeManifests reads every object of a manifest file, as `kubectl apply
// -f` does: YAML documents separated by `---` lines (empty and comment-only
// documents are skipped), or JSON objects, one or a stream of them (the
// input is JSON when its first non-space character is '{'). A `kind: List`
// (apiVersion v1) is replaced by its items. YAML is converted with
// sigs.k8s.io/yaml, strictly (a key given twice is an error).
//
// An error names the document by its index in the stream, counted from 0
// with empty documents included, and its kind and name when known:
// `document 1 (Deployment "nginx"): spec.replicas: expected integer, got
// string`. Items of a List are named `document 0 item 2`.
func DecodeManifests(r io.Reader) ([]proto.Message, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read manifests: %w", err)
	}
	s := scanner{data: data}
	if s.peek() == '{' {
		return decodeJSONStream(data)
	}
	var out []proto.Message
	yr := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 0; ; i++ {
		doc, err := yr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		js, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if string(js) == "null" {
			continue // empty or only comments
		}
		out, err = appendObjects(out, js, fmt.Sprintf("document %d", i))
		if err != nil {
			return nil, err
		}
	}
}

func decodeJSONStream(data []byte) ([]proto.Message, error) {
	var out []proto.Message
	s := scanner{data: data}
	for i := 0; s.peek() != 0; i++ {
		where := fmt.Sprintf("document %d", i)
		if c := s.peek(); c != '{' {
			if typeName(c) == "invalid value" {
				return nil, fmt.Errorf("%s: %w", where, s.unexpected("looking for beginning of value"))
			}
			return nil, fmt.Errorf("%s: expected an object, got %s", where, typeName(c))
		}
		start := s.pos
		if err := s.skip(); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		var err error
		out, err = appendObjects(out, data[start:s.pos], where)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// appendObjects decodes the object obj and appends it, or its items when
// it is a List.
func appendObjects(out []proto.Message, obj []byte, where string) ([]proto.Message, error) {
	tm, err := peekTypeMeta(obj)
	if err != nil {
		return nil, fmt.Errorf("%s%s: %w", where, tm.describe(), err)
	}
	if tm.kind == "List" && tm.apiVersion == "v1" {
		items, err := listItems(obj)
		if err != nil {
			return nil, fmt.Errorf("%s (List): %w", where, err)
		}
		for j, item := range items {
			m, err := Decode(item)
			if err != nil {
				itm, _ := peekTypeMeta(item)
				return nil, fmt.Errorf("%s item %d%s: %w", where, j, itm.describe(), err)
			}
			out = append(out, m)
		}
		return out, nil
	}
	m, err := Decode(obj)
	if err != nil {
		return nil, fmt.Errorf("%s%s: %w", where, tm.describe(), err)
	}
	return append(out, m), nil
}

// listItems returns the raw items of a v1 List, checking its other fields.
func listItems(obj []byte) ([][]byte, error) {
	var items [][]byte
	d := decoder{scanner: scanner{data: obj}}
	if d.peek() != '{' {
		return nil, d.typeError("object")
	}
	err := d.object(func(key []byte) error {
		switch string(key) {
		case "apiVersion", "kind", "metadata":
			return d.skip()
		case "items":
			d.path.field("items")
			if d.peek() == 'n' {
				d.path.pop()
				return d.literal("null")
			}
			if d.peek() != '[' {
				return d.typeError("array")
			}
			err := d.array(func(int) error {
				start := d.pos
				if err := d.skip(); err != nil {
					return err
				}
				items = append(items, obj[start:d.pos])
				return nil
			})
			d.path.pop()
			return err
		}
		d.path.field(string(key))
		return fmt.Errorf("unknown field %q", d.path.String())
	})
	return items, err
}
