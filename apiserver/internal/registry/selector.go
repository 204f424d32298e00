package registry

import (
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/gantryhq/gantry/client/scheme"
)

// Selector is a parsed label selector and field selector. The zero value
// matches everything.
type Selector struct {
	Labels labels.Selector
	Fields fields.Selector
	// fieldPaths are the field selector's paths, resolved against the kind.
	fieldPaths map[string][]protoreflect.FieldDescriptor
}

// ParseSelector parses Kubernetes' label and field selector syntax for a
// resource. A field selector may name any scalar field by its JSON path
// (metadata.name, spec.nodeName, status.phase, ...).
func ParseSelector(res *scheme.Resource, labelSel, fieldSel string) (Selector, error) {
	var s Selector
	if labelSel != "" {
		ls, err := labels.Parse(labelSel)
		if err != nil {
			return s, errBadRequest("unable to parse requirement: %v", err)
		}
		s.Labels = ls
	}
	if fieldSel != "" {
		fs, err := fields.ParseSelector(fieldSel)
		if err != nil {
			return s, errBadRequest("invalid field selector %q: %v", fieldSel, err)
		}
		s.fieldPaths = map[string][]protoreflect.FieldDescriptor{}
		desc := res.New().ProtoReflect().Descriptor()
		for _, req := range fs.Requirements() {
			path, ok := resolveFieldPath(desc, req.Field)
			if !ok {
				return s, errBadRequest("field label not supported: %s", req.Field)
			}
			s.fieldPaths[req.Field] = path
		}
		s.Fields = fs
	}
	return s, nil
}

// Empty reports whether the selector matches everything.
func (s Selector) Empty() bool {
	return (s.Labels == nil || s.Labels.Empty()) && (s.Fields == nil || s.Fields.Empty())
}

// Matches reports whether obj is selected.
func (s Selector) Matches(obj proto.Message) bool {
	if s.Labels != nil && !s.Labels.Empty() && !s.Labels.Matches(labels.Set(scheme.Meta(obj).Labels)) {
		return false
	}
	if s.Fields != nil && !s.Fields.Empty() {
		return s.Fields.Matches(objectFields{obj: obj.ProtoReflect(), paths: s.fieldPaths})
	}
	return true
}

// objectFields exposes an object's selectable fields as fields.Fields.
type objectFields struct {
	obj   protoreflect.Message
	paths map[string][]protoreflect.FieldDescriptor
}

func (o objectFields) Has(field string) bool {
	_, ok := o.paths[field]
	return ok
}

func (o objectFields) Get(field string) string {
	path, ok := o.paths[field]
	if !ok {
		return ""
	}
	m := o.obj
	for i, fd := range path {
		if i == len(path)-1 {
			if !m.Has(fd) {
				if fd.Kind() == protoreflect.BoolKind {
					return "false"
				}
				return ""
			}
			return scalarString(m.Get(fd), fd)
		}
		if !m.Has(fd) {
			if path[len(path)-1].Kind() == protoreflect.BoolKind {
				return "false"
			}
			return ""
		}
		m = m.Get(fd).Message()
	}
	return ""
}

func resolveFieldPath(desc protoreflect.MessageDescriptor, path string) ([]protoreflect.FieldDescriptor, bool) {
	var out []protoreflect.FieldDescriptor
	parts := strings.Split(path, ".")
	for i, p := range parts {
		fd := desc.Fields().ByJSONName(p)
		if fd == nil || fd.IsList() || fd.IsMap() {
			return nil, false
		}
		out = append(out, fd)
		if i < len(parts)-1 {
			if fd.Kind() != protoreflect.MessageKind {
				return nil, false
			}
			desc = fd.Message()
		} else if fd.Kind() == protoreflect.MessageKind {
			return nil, false
		}
	}
	return out, len(out) > 0
}

func scalarString(v protoreflect.Value, fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BoolKind:
		return strconv.FormatBool(v.Bool())
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Sint32Kind, protoreflect.Sint64Kind,
		protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind:
		return strconv.FormatInt(v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
		return strconv.FormatUint(v.Uint(), 10)
	}
	return v.String()
}
