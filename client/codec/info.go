package codec

import (
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gantryhq/gantry/client/scheme"
)

// special says how a message type is written in JSON when it is not a plain
// object of its fields.
type special uint8

const (
	plain special = iota
	intOrString
	quantity
	timestamp
	duration
	anyMessage
	wrapper     // google.protobuf.*Value: the inner "value" field
	unsupported // google.protobuf.Struct and friends
)

var specials = map[protoreflect.FullName]special{
	"gantry.meta.v1.IntOrString":  intOrString,
	"gantry.meta.v1.Quantity":     quantity,
	"google.protobuf.Timestamp":   timestamp,
	"google.protobuf.Duration":    duration,
	"google.protobuf.Any":         anyMessage,
	"google.protobuf.BoolValue":   wrapper,
	"google.protobuf.Int32Value":  wrapper,
	"google.protobuf.Int64Value":  wrapper,
	"google.protobuf.UInt32Value": wrapper,
	"google.protobuf.UInt64Value": wrapper,
	"google.protobuf.FloatValue":  wrapper,
	"google.protobuf.DoubleValue": wrapper,
	"google.protobuf.StringValue": wrapper,
	"google.protobuf.BytesValue":  wrapper,
	"google.protobuf.Struct":      unsupported,
	"google.protobuf.Value":       unsupported,
	"google.protobuf.ListValue":   unsupported,
	"google.protobuf.FieldMask":   unsupported,
}

// fieldInfo is one field of a message, with what the codec needs of it.
type fieldInfo struct {
	fd    protoreflect.FieldDescriptor
	name  string // JSON name
	key   []byte // `"name":`, ready to append
	index int    // position in the message's fields, for duplicate checks
	// child caches infoFor(fd.Message()) (of the map value, for maps).
	child atomic.Pointer[messageInfo]
}

// messageInfo returns the info of the field's message (or map value
// message) type.
func (fi *fieldInfo) messageInfo() *messageInfo {
	if c := fi.child.Load(); c != nil {
		return c
	}
	md := fi.fd.Message()
	if fi.fd.IsMap() {
		md = fi.fd.MapValue().Message()
	}
	c := infoFor(md)
	fi.child.Store(c)
	return c
}

// messageInfo is the codec's view of one message type, built once.
type messageInfo struct {
	desc    protoreflect.MessageDescriptor
	special special
	fields  []fieldInfo // declaration order
	byJSON  map[string]*fieldInfo
	// res is the kind whose message this is; nil for other messages.
	res *scheme.Resource
	// typeMeta is `"apiVersion":"...","kind":"...",` for kinds.
	typeMeta []byte
	// For IntOrString: the two oneof members. For wrappers: value in intVal.
	intVal, strVal protoreflect.FieldDescriptor
}

var infos sync.Map // protoreflect.MessageDescriptor -> *messageInfo

// infoFor returns the cached messageInfo of md, building it on first use.
func infoFor(md protoreflect.MessageDescriptor) *messageInfo {
	if v, ok := infos.Load(md); ok {
		return v.(*messageInfo)
	}
	v, _ := infos.LoadOrStore(md, buildInfo(md))
	return v.(*messageInfo)
}

func buildInfo(md protoreflect.MessageDescriptor) *messageInfo {
	info := &messageInfo{desc: md, special: specials[md.FullName()]}
	fds := md.Fields()
	info.fields = make([]fieldInfo, fds.Len())
	info.byJSON = make(map[string]*fieldInfo, fds.Len())
	for i := range fds.Len() {
		fd := fds.Get(i)
		fi := &info.fields[i]
		fi.fd = fd
		fi.name = fd.JSONName()
		fi.key = appendString(nil, fi.name)
		fi.key = append(fi.key, ':')
		fi.index = i
		info.byJSON[fi.name] = fi
	}
	switch info.special {
	case intOrString:
		info.intVal = fds.ByName("int_val")
		info.strVal = fds.ByName("str_val")
		if info.intVal == nil || info.strVal == nil {
			info.special = plain
		}
	case wrapper:
		info.intVal = fds.ByName("value")
		if info.intVal == nil {
			info.special = unsupported
		}
	case quantity:
		info.strVal = fds.ByName("value")
		if info.strVal == nil || info.strVal.Kind() != protoreflect.StringKind {
			info.special = plain
		}
	}
	if res, ok := scheme.ForMessageName(md.FullName()); ok {
		info.res = res
		b := []byte(`"apiVersion":`)
		b = appendString(b, res.APIVersion())
		b = append(b, `,"kind":`...)
		b = appendString(b, res.Kind)
		info.typeMeta = b
	}
	return info
}
