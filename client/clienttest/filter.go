package clienttest

import (
	"crypto/rand"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/gantryhq/gantry/client/scheme"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// filter is a namespace, a label selector and a field selector.
type filter struct {
	ns     string
	labels labels.Selector
	fields []fieldReq
}

type fieldReq struct {
	path  []protoreflect.FieldDescriptor
	op    selection.Operator
	value string
}

// newFilter parses the selectors. A field selector may name any scalar field
// by its JSON path ("spec.nodeName"), a superset of what the apiserver
// supports.
func newFilter(res *scheme.Resource, ns, labelSelector, fieldSelector string) (*filter, error) {
	f := &filter{ns: ns}
	ls, err := labels.Parse(labelSelector)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "labelSelector: %v", err)
	}
	f.labels = ls
	fs, err := fields.ParseSelector(fieldSelector)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "fieldSelector: %v", err)
	}
	md := res.New().ProtoReflect().Descriptor()
	for _, r := range fs.Requirements() {
		path, err := resolvePath(md, r.Field)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "fieldSelector: field label not supported: %s", r.Field)
		}
		f.fields = append(f.fields, fieldReq{path: path, op: r.Operator, value: r.Value})
	}
	return f, nil
}

func resolvePath(md protoreflect.MessageDescriptor, path string) ([]protoreflect.FieldDescriptor, error) {
	var out []protoreflect.FieldDescriptor
	parts := strings.Split(path, ".")
	for i, p := range parts {
		fd := md.Fields().ByJSONName(p)
		if fd == nil || fd.IsList() || fd.IsMap() {
			return nil, fmt.Errorf("no field %s", path)
		}
		out = append(out, fd)
		last := i == len(parts)-1
		isMsg := fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind
		if last == isMsg {
			return nil, fmt.Errorf("no scalar field %s", path)
		}
		if !last {
			md = fd.Message()
		}
	}
	return out, nil
}

func fieldValue(m protoreflect.Message, path []protoreflect.FieldDescriptor) string {
	for _, fd := range path[:len(path)-1] {
		m = m.Get(fd).Message()
	}
	leaf := path[len(path)-1]
	v := m.Get(leaf)
	switch leaf.Kind() {
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BoolKind:
		return strconv.FormatBool(v.Bool())
	case protoreflect.EnumKind:
		return string(leaf.Enum().Values().ByNumber(v.Enum()).Name())
	default:
		return fmt.Sprint(v.Interface())
	}
}

func (f *filter) matches(o scheme.Object) bool {
	m := o.GetMetadata()
	if f.ns != "" && m.GetNamespace() != f.ns {
		return false
	}
	if !f.labels.Matches(labels.Set(m.GetLabels())) {
		return false
	}
	for _, r := range f.fields {
		v := fieldValue(o.ProtoReflect(), r.path)
		switch r.op {
		case selection.Equals, selection.DoubleEquals:
			if v != r.value {
				return false
			}
		case selection.NotEquals:
			if v == r.value {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func checkPreconditions(res *scheme.Resource, name, uid, rv string, stored *metav1.ObjectMeta) error {
	if uid != "" && uid != stored.GetUid() {
		return status.Errorf(codes.Aborted, "Operation cannot be fulfilled on %s %q: the UID in the precondition (%s) does not match the UID in record (%s). The object might have been deleted and then recreated",
			res.GroupResource(), name, uid, stored.GetUid())
	}
	if rv != "" && rv != stored.GetResourceVersion() {
		return status.Errorf(codes.Aborted, "Operation cannot be fulfilled on %s %q: the object has been modified; please apply your changes to the latest version and try again",
			res.GroupResource(), name)
	}
	return nil
}

func clearField(m proto.Message, name protoreflect.Name) {
	rm := m.ProtoReflect()
	if fd := rm.Descriptor().Fields().ByName(name); fd != nil {
		rm.Clear(fd)
	}
}

// copyField sets dst's field to a copy of src's.
func copyField(dst, src proto.Message, name protoreflect.Name) {
	d, s := dst.ProtoReflect(), src.ProtoReflect()
	fd := d.Descriptor().Fields().ByName(name)
	if fd == nil {
		return
	}
	if !s.Has(fd) {
		d.Clear(fd)
		return
	}
	if fd.Kind() == protoreflect.MessageKind {
		d.Set(fd, protoreflect.ValueOfMessage(proto.Clone(s.Get(fd).Message().Interface()).ProtoReflect()))
		return
	}
	d.Set(fd, s.Get(fd))
}

func fieldEqual(a, b proto.Message, name protoreflect.Name) bool {
	ra, rb := a.ProtoReflect(), b.ProtoReflect()
	fd := ra.Descriptor().Fields().ByName(name)
	if fd == nil {
		return true
	}
	if ra.Has(fd) != rb.Has(fd) {
		return false
	}
	if !ra.Has(fd) {
		return true
	}
	if fd.Kind() == protoreflect.MessageKind {
		return proto.Equal(ra.Get(fd).Message().Interface(), rb.Get(fd).Message().Interface())
	}
	return ra.Get(fd).Equal(rb.Get(fd))
}

func sortedKeys(m map[string]scheme.Object) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// randomSuffix is what Kubernetes appends to generateName: five characters
// without vowels.
func randomSuffix() string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	var b [5]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}
