package codec

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Unmarshal reads Kubernetes' JSON into m, which it first resets. It is
// strict: a field m does not have, a field given twice, a value of the
// wrong type or out of range are errors that name the field's path from the
// top object ("spec.containers[0].ports[1].containerPort"). If m is a kind's
// message, apiVersion and kind at the top are accepted, and must name m's
// kind when given.
func Unmarshal(data []byte, m proto.Message) error {
	if m == nil {
		return errors.New("unmarshal: nil message")
	}
	rm := m.ProtoReflect()
	if !rm.IsValid() {
		return fmt.Errorf("unmarshal: nil %s", rm.Descriptor().FullName())
	}
	proto.Reset(m)
	d := decoder{scanner: scanner{data: data}}
	if d.peek() == 'n' {
		// null: nothing is set.
		if err := d.literal("null"); err != nil {
			return err
		}
		return d.end()
	}
	if err := d.message(rm, infoFor(rm.Descriptor()), true); err != nil {
		return err
	}
	return d.end()
}

type decoder struct {
	scanner
	path path
}

// typeError is the error for a value of the wrong JSON type.
func (d *decoder) typeError(want string) error {
	c := d.peek()
	got := typeName(c)
	if got == "invalid value" {
		return d.unexpected("looking for beginning of value")
	}
	return d.path.errorf("expected %s, got %s", want, got)
}

// message reads a value into rm (which is mutable and, for a plain message,
// the message to fill). top is true at the outermost object and inside an
// Any, where a kind's apiVersion and kind may appear.
func (d *decoder) message(rm protoreflect.Message, info *messageInfo, top bool) error {
	switch info.special {
	case intOrString:
		return d.intOrString(rm, info)
	case quantity:
		return d.quantity(rm, info)
	case timestamp:
		return d.timestamp(rm)
	case duration:
		return d.duration(rm)
	case wrapper:
		if d.peek() == 'n' {
			return d.literal("null")
		}
		v, err := d.scalar(info.intVal)
		if err != nil {
			return err
		}
		rm.Set(info.intVal, v)
		return nil
	case anyMessage:
		return d.any(rm)
	case unsupported:
		return d.path.errorf("cannot decode %s", info.desc.FullName())
	}
	if d.peek() != '{' {
		return d.typeError("object")
	}
	var seen uint64
	var seenMore []bool
	if len(info.fields) > 64 {
		seenMore = make([]bool, len(info.fields))
	}
	return d.object(func(key []byte) error {
		if top && info.res != nil {
			switch string(key) {
			case "apiVersion":
				return d.typeMeta("apiVersion", info.res.APIVersion())
			case "kind":
				return d.typeMeta("kind", info.res.Kind)
			}
		}
		fi := info.byJSON[string(key)]
		if fi == nil {
			d.path.field(string(key))
			return fmt.Errorf("unknown field %q", d.path.String())
		}
		d.path.field(fi.name)
		if seenMore != nil {
			if seenMore[fi.index] {
				return fmt.Errorf("duplicate field %q", d.path.String())
			}
			seenMore[fi.index] = true
		} else {
			if seen&(1<<fi.index) != 0 {
				return fmt.Errorf("duplicate field %q", d.path.String())
			}
			seen |= 1 << fi.index
		}
		if err := d.field(rm, fi); err != nil {
			return err
		}
		d.path.pop()
		return nil
	})
}

// typeMeta reads apiVersion or kind at the top of a kind, which must be a
// string and, when not empty, want.
func (d *decoder) typeMeta(name, want string) error {
	d.path.field(name)
	if d.peek() == 'n' {
		d.path.pop()
		return d.literal("null")
	}
	if d.peek() != '"' {
		return d.typeError("string")
	}
	got, err := d.str()
	if err != nil {
		return err
	}
	if len(got) > 0 && string(got) != want {
		return d.path.errorf("got %q, want %q", got, want)
	}
	d.path.pop()
	return nil
}

// field reads the value of one field of rm.
func (d *decoder) field(rm protoreflect.Message, fi *fieldInfo) error {
	fd := fi.fd
	if d.peek() == 'n' {
		// null leaves the field unset, as Kubernetes does.
		if err := d.literal("null"); err != nil {
			return err
		}
		rm.Clear(fd)
		return nil
	}
	if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
		if other := rm.WhichOneof(od); other != nil && other != fd {
			return d.path.errorf("may not be set with %s", other.JSONName())
		}
	}
	switch {
	case fd.IsList():
		return d.list(rm.Mutable(fd).List(), fi)
	case fd.IsMap():
		return d.mapValue(rm.Mutable(fd).Map(), fi)
	case fd.Message() != nil:
		return d.message(rm.Mutable(fd).Message(), fi.messageInfo(), false)
	default:
		v, err := d.scalar(fd)
		if err != nil {
			return err
		}
		rm.Set(fd, v)
		return nil
	}
}

func (d *decoder) list(l protoreflect.List, fi *fieldInfo) error {
	if d.peek() != '[' {
		return d.typeError("array")
	}
	fd := fi.fd
	var info *messageInfo
	if fd.Message() != nil {
		info = fi.messageInfo()
	}
	return d.array(func(i int) error {
		d.path.index(i)
		if info != nil {
			v := l.NewElement()
			if d.peek() == 'n' && info.special == plain {
				// null in a list is the zero value, as in encoding/json.
				// (Not for Quantity and the like, which have no JSON
				// form for an empty message.)
				if err := d.literal("null"); err != nil {
					return err
				}
			} else if err := d.message(v.Message(), info, false); err != nil {
				return err
			}
			l.Append(v)
		} else {
			v, err := d.scalarOrNull(fd)
			if err != nil {
				return err
			}
			l.Append(v)
		}
		d.path.pop()
		return nil
	})
}

func (d *decoder) mapValue(m protoreflect.Map, fi *fieldInfo) error {
	if d.peek() != '{' {
		return d.typeError("object")
	}
	kd, vd := fi.fd.MapKey(), fi.fd.MapValue()
	var info *messageInfo
	if vd.Message() != nil {
		info = fi.messageInfo()
	}
	return d.object(func(key []byte) error {
		d.path.key(string(key))
		k, err := d.mapKey(kd, key)
		if err != nil {
			return err
		}
		if m.Has(k) {
			return fmt.Errorf("duplicate field %q", d.path.String())
		}
		if info != nil {
			v := m.NewValue()
			if d.peek() == 'n' && info.special == plain {
				if err := d.literal("null"); err != nil {
					return err
				}
			} else if err := d.message(v.Message(), info, false); err != nil {
				return err
			}
			m.Set(k, v)
		} else {
			v, err := d.scalarOrNull(vd)
			if err != nil {
				return err
			}
			m.Set(k, v)
		}
		d.path.pop()
		return nil
	})
}

func (d *decoder) mapKey(kd protoreflect.FieldDescriptor, key []byte) (protoreflect.MapKey, error) {
	s := string(key)
	switch kd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(s).MapKey(), nil
	case protoreflect.BoolKind:
		switch s {
		case "true":
			return protoreflect.ValueOfBool(true).MapKey(), nil
		case "false":
			return protoreflect.ValueOfBool(false).MapKey(), nil
		}
		return protoreflect.MapKey{}, d.path.errorf("invalid map key: expected true or false")
	default:
		v, err := d.parseInt(kd.Kind(), key)
		if err != nil {
			return protoreflect.MapKey{}, d.path.errorf("invalid map key: %v", err)
		}
		return v.MapKey(), nil
	}
}

// scalarOrNull reads a scalar, or null as the zero value.
func (d *decoder) scalarOrNull(fd protoreflect.FieldDescriptor) (protoreflect.Value, error) {
	if d.peek() == 'n' {
		if err := d.literal("null"); err != nil {
			return protoreflect.Value{}, err
		}
		return zeroValue(fd), nil
	}
	return d.scalar(fd)
}

// zeroValue is the zero value of a scalar field's kind. (fd.Default() is
// invalid for list and map fields.)
func zeroValue(fd protoreflect.FieldDescriptor) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(false)
	case protoreflect.StringKind:
		return protoreflect.ValueOfString("")
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes(nil)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(0)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(0)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(0)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(0)
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(0)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(0)
	case protoreflect.EnumKind:
		if vs := fd.Enum().Values(); vs.Len() > 0 {
			return protoreflect.ValueOfEnum(vs.Get(0).Number())
		}
		return protoreflect.ValueOfEnum(0)
	}
	return protoreflect.Value{}
}

// scalar reads a value of a non-message field.
func (d *decoder) scalar(fd protoreflect.FieldDescriptor) (protoreflect.Value, error) {
	c := d.peek()
	switch k := fd.Kind(); k {
	case protoreflect.BoolKind:
		if c != 't' && c != 'f' {
			return protoreflect.Value{}, d.typeError("boolean")
		}
		b, err := d.boolean()
		return protoreflect.ValueOfBool(b), err
	case protoreflect.StringKind:
		if c != '"' {
			return protoreflect.Value{}, d.typeError("string")
		}
		b, err := d.str()
		return protoreflect.ValueOfString(string(b)), err
	case protoreflect.BytesKind:
		if c != '"' {
			return protoreflect.Value{}, d.typeError("base64 string")
		}
		b, err := d.str()
		if err != nil {
			return protoreflect.Value{}, err
		}
		out, err := base64.StdEncoding.DecodeString(string(b))
		if err != nil {
			return protoreflect.Value{}, d.path.errorf("invalid base64: %v", err)
		}
		return protoreflect.ValueOfBytes(out), nil
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		if typeName(c) != "number" {
			return protoreflect.Value{}, d.typeError("number")
		}
		text, err := d.number()
		if err != nil {
			return protoreflect.Value{}, err
		}
		bits := 64
		if k == protoreflect.FloatKind {
			bits = 32
		}
		f, err := strconv.ParseFloat(string(text), bits)
		if err != nil {
			return protoreflect.Value{}, d.path.errorf("number %s out of range", text)
		}
		if bits == 32 {
			return protoreflect.ValueOfFloat32(float32(f)), nil
		}
		return protoreflect.ValueOfFloat64(f), nil
	case protoreflect.EnumKind:
		switch typeName(c) {
		case "string":
			b, err := d.str()
			if err != nil {
				return protoreflect.Value{}, err
			}
			ev := fd.Enum().Values().ByName(protoreflect.Name(b))
			if ev == nil {
				return protoreflect.Value{}, d.path.errorf("unknown value %q", b)
			}
			return protoreflect.ValueOfEnum(ev.Number()), nil
		case "number":
			text, err := d.number()
			if err != nil {
				return protoreflect.Value{}, err
			}
			v, err := d.parseInt(protoreflect.Int32Kind, text)
			if err != nil {
				return protoreflect.Value{}, d.path.errorf("%v", err)
			}
			return protoreflect.ValueOfEnum(protoreflect.EnumNumber(v.Int())), nil
		}
		return protoreflect.Value{}, d.typeError("string")
	default: // the integers
		if typeName(c) != "number" {
			return protoreflect.Value{}, d.typeError("integer")
		}
		text, err := d.number()
		if err != nil {
			return protoreflect.Value{}, err
		}
		v, err := d.parseInt(k, text)
		if err != nil {
			return protoreflect.Value{}, d.path.errorf("%v", err)
		}
		return v, nil
	}
}

// parseInt parses text (a JSON number or a map key) as an integer of kind k.
func (d *decoder) parseInt(k protoreflect.Kind, text []byte) (protoreflect.Value, error) {
	s := string(text)
	bits := 64
	signed := true
	switch k {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind, protoreflect.EnumKind:
		bits = 32
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		bits, signed = 32, false
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		signed = false
	}
	var err error
	var v protoreflect.Value
	if signed {
		var n int64
		n, err = strconv.ParseInt(s, 10, bits)
		if bits == 32 {
			v = protoreflect.ValueOfInt32(int32(n))
		} else {
			v = protoreflect.ValueOfInt64(n)
		}
	} else {
		var n uint64
		n, err = strconv.ParseUint(s, 10, bits)
		if bits == 32 {
			v = protoreflect.ValueOfUint32(uint32(n))
		} else {
			v = protoreflect.ValueOfUint64(n)
		}
	}
	if err == nil {
		return v, nil
	}
	if errors.Is(err, strconv.ErrRange) {
		return protoreflect.Value{}, fmt.Errorf("number %s out of range for %s", s, integerType(bits, signed))
	}
	if !signed && strings.HasPrefix(s, "-") && isDigits(s[1:]) {
		return protoreflect.Value{}, fmt.Errorf("number %s out of range for %s", s, integerType(bits, signed))
	}
	return protoreflect.Value{}, fmt.Errorf("expected integer, got %s", describeNumber(s))
}

func integerType(bits int, signed bool) string {
	if signed {
		return "int" + strconv.Itoa(bits)
	}
	return "uint" + strconv.Itoa(bits)
}

func isDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// describeNumber is "number 1.5" for a JSON number, or the quoted text for a
// map key that is not a number.
func describeNumber(s string) string {
	if _, err := strconv.ParseFloat(s, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		return "number " + s
	}
	return strconv.Quote(s)
}

func (d *decoder) intOrString(rm protoreflect.Message, info *messageInfo) error {
	switch c := d.peek(); typeName(c) {
	case "string":
		b, err := d.str()
		if err != nil {
			return err
		}
		rm.Set(info.strVal, protoreflect.ValueOfString(string(b)))
		return nil
	case "number":
		text, err := d.number()
		if err != nil {
			return err
		}
		v, err := d.parseInt(protoreflect.Int32Kind, text)
		if err != nil {
			return d.path.errorf("%v", err)
		}
		rm.Set(info.intVal, v)
		return nil
	}
	return d.typeError("integer or string")
}

func (d *decoder) quantity(rm protoreflect.Message, info *messageInfo) error {
	var text string
	switch c := d.peek(); typeName(c) {
	case "string":
		b, err := d.str()
		if err != nil {
			return err
		}
		text = strings.TrimSpace(string(b))
	case "number":
		b, err := d.number()
		if err != nil {
			return err
		}
		text = string(b)
	default:
		return d.typeError("quantity (number or string)")
	}
	if _, err := resource.ParseQuantity(text); err != nil {
		return d.path.errorf("invalid quantity %q: %v", text, err)
	}
	rm.Set(info.strVal, protoreflect.ValueOfString(text))
	return nil
}

func (d *decoder) timestamp(rm protoreflect.Message) error {
	if d.peek() != '"' {
		return d.typeError("RFC 3339 time string")
	}
	b, err := d.str()
	if err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return d.path.errorf("invalid RFC 3339 time %q", b)
	}
	secs := t.Unix()
	if secs < minTimestamp || secs > maxTimestamp {
		return d.path.errorf("time %q out of range", b)
	}
	fds := rm.Descriptor().Fields()
	rm.Set(fds.ByNumber(1), protoreflect.ValueOfInt64(secs))
	rm.Set(fds.ByNumber(2), protoreflect.ValueOfInt32(int32(t.Nanosecond())))
	return nil
}

func (d *decoder) duration(rm protoreflect.Message) error {
	if d.peek() != '"' {
		return d.typeError("duration string")
	}
	b, err := d.str()
	if err != nil {
		return err
	}
	dur, err := time.ParseDuration(string(b))
	if err != nil {
		return d.path.errorf("invalid duration %q", b)
	}
	fds := rm.Descriptor().Fields()
	rm.Set(fds.ByNumber(1), protoreflect.ValueOfInt64(int64(dur/time.Second)))
	rm.Set(fds.ByNumber(2), protoreflect.ValueOfInt32(int32(dur%time.Second)))
	return nil
}

// any reads a kind's object (with apiVersion and kind) into an Any.
func (d *decoder) any(rm protoreflect.Message) error {
	if d.peek() != '{' {
		return d.typeError("object")
	}
	start := d.pos
	tm, err := peekTypeMetaAt(d.data, start)
	if err != nil {
		return err
	}
	res, err := tm.resource(d.data[start:tm.end])
	if err != nil {
		return d.path.errorf("%v", err)
	}
	inner := res.New()
	d.pos = start
	if err := d.message(inner.ProtoReflect(), infoFor(inner.ProtoReflect().Descriptor()), true); err != nil {
		return err
	}
	a, err := anypb.New(inner)
	if err != nil {
		return d.path.errorf("%v", err)
	}
	fds := rm.Descriptor().Fields()
	rm.Set(fds.ByNumber(1), protoreflect.ValueOfString(a.TypeUrl))
	rm.Set(fds.ByNumber(2), protoreflect.ValueOfBytes(a.Value))
	return nil
}
