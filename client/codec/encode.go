package codec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"
)

// Marshal writes m as Kubernetes' JSON, compact. A kind's message starts
// with apiVersion and kind. Output is deterministic.
func Marshal(m proto.Message) ([]byte, error) {
	return appendMessageJSON(nil, m)
}

// MarshalIndent is Marshal with each JSON element on its own line, indented
// as json.MarshalIndent does.
func MarshalIndent(m proto.Message, prefix, indent string) ([]byte, error) {
	b, err := Marshal(m)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(b) * 2)
	if err := json.Indent(&out, b, prefix, indent); err != nil {
		return nil, fmt.Errorf("indent: %w", err)
	}
	return out.Bytes(), nil
}

// MarshalYAML writes m as YAML, converting Marshal's JSON with
// sigs.k8s.io/yaml as kubectl does. As in `kubectl -o yaml`, keys come out
// sorted alphabetically (apiVersion, kind, metadata, spec, status happen to
// stay in that order).
func MarshalYAML(m proto.Message) ([]byte, error) {
	b, err := Marshal(m)
	if err != nil {
		return nil, err
	}
	y, err := yaml.JSONToYAML(b)
	if err != nil {
		return nil, fmt.Errorf("convert to YAML: %w", err)
	}
	return y, nil
}

func appendMessageJSON(b []byte, m proto.Message) ([]byte, error) {
	if m == nil {
		return nil, fmt.Errorf("marshal: nil message")
	}
	rm := m.ProtoReflect()
	e := encoders.Get().(*encoder)
	defer e.release()
	if err := e.message(rm, infoFor(rm.Descriptor()), true); err != nil {
		return nil, err
	}
	return append(b, e.buf...), nil
}

type encoder struct {
	buf  []byte
	path path
	// keys is a stack of map keys being sorted and written.
	keys []protoreflect.MapKey
}

var encoders = sync.Pool{New: func() any { return &encoder{buf: make([]byte, 0, 4096)} }}

// release puts e back in the pool, unless it grew too large to keep.
func (e *encoder) release() {
	if cap(e.buf) > 1<<20 {
		return
	}
	e.buf, e.path, e.keys = e.buf[:0], e.path[:0], e.keys[:0]
	encoders.Put(e)
}

// message writes rm. top is true for the outermost message (and the content
// of an Any), where a kind writes apiVersion and kind.
func (e *encoder) message(rm protoreflect.Message, info *messageInfo, top bool) error {
	switch info.special {
	case intOrString:
		switch {
		case rm.Has(info.strVal):
			e.buf = appendString(e.buf, rm.Get(info.strVal).String())
		case rm.Has(info.intVal):
			e.buf = strconv.AppendInt(e.buf, rm.Get(info.intVal).Int(), 10)
		default:
			// Kubernetes' zero IntOrString is the integer 0.
			e.buf = append(e.buf, '0')
		}
		return nil
	case quantity:
		v := rm.Get(info.strVal).String()
		if v == "" {
			v = "0" // as Kubernetes writes a zero Quantity
		}
		e.buf = appendString(e.buf, v)
		return nil
	case timestamp:
		return e.timestamp(rm)
	case duration:
		return e.duration(rm)
	case wrapper:
		return e.scalar(info.intVal, rm.Get(info.intVal))
	case anyMessage:
		return e.any(rm)
	case unsupported:
		return e.path.errorf("cannot encode %s", info.desc.FullName())
	}
	e.buf = append(e.buf, '{')
	first := true
	if top && info.typeMeta != nil {
		e.buf = append(e.buf, info.typeMeta...)
		first = false
	}
	for i := range info.fields {
		fi := &info.fields[i]
		if !rm.Has(fi.fd) {
			continue
		}
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		e.buf = append(e.buf, fi.key...)
		e.path.field(fi.name)
		if err := e.value(fi, rm.Get(fi.fd)); err != nil {
			return err
		}
		e.path.pop()
	}
	e.buf = append(e.buf, '}')
	return nil
}

// value writes the value of a field: a list, a map or a single value.
func (e *encoder) value(fi *fieldInfo, v protoreflect.Value) error {
	fd := fi.fd
	switch {
	case fd.IsList():
		l := v.List()
		e.buf = append(e.buf, '[')
		for i := range l.Len() {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.path.index(i)
			if err := e.single(fi, fd, l.Get(i)); err != nil {
				return err
			}
			e.path.pop()
		}
		e.buf = append(e.buf, ']')
		return nil
	case fd.IsMap():
		return e.mapValue(fi, v.Map())
	default:
		return e.single(fi, fd, v)
	}
}

// single writes one value of the field fi (an element, for lists; fd is
// the map value's descriptor, for maps).
func (e *encoder) single(fi *fieldInfo, fd protoreflect.FieldDescriptor, v protoreflect.Value) error {
	if fd.Message() != nil {
		return e.message(v.Message(), fi.messageInfo(), false)
	}
	return e.scalar(fd, v)
}

func (e *encoder) mapValue(fi *fieldInfo, m protoreflect.Map) error {
	start := len(e.keys)
	m.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		e.keys = append(e.keys, k)
		return true
	})
	kd, vd := fi.fd.MapKey(), fi.fd.MapValue()
	kind := kd.Kind()
	slices.SortFunc(e.keys[start:], func(a, b protoreflect.MapKey) int { return compareKeys(kind, a, b) })
	e.buf = append(e.buf, '{')
	for i := start; i < len(e.keys); i++ {
		if i > start {
			e.buf = append(e.buf, ',')
		}
		k := e.keys[i]
		ks := k.String()
		e.buf = appendString(e.buf, ks)
		e.buf = append(e.buf, ':')
		e.path.key(ks)
		if err := e.single(fi, vd, m.Get(k)); err != nil {
			return err
		}
		e.path.pop()
	}
	e.buf = append(e.buf, '}')
	e.keys = e.keys[:start]
	return nil
}

func compareKeys(kind protoreflect.Kind, a, b protoreflect.MapKey) int {
	switch kind {
	case protoreflect.BoolKind:
		ab, bb := a.Bool(), b.Bool()
		switch {
		case ab == bb:
			return 0
		case !ab:
			return -1
		default:
			return 1
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		x, y := a.Int(), b.Int()
		return cmpOrdered(x, y)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return cmpOrdered(a.Uint(), b.Uint())
	default:
		return cmpOrdered(a.String(), b.String())
	}
}

func cmpOrdered[T int64 | uint64 | string](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func (e *encoder) scalar(fd protoreflect.FieldDescriptor, v protoreflect.Value) error {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case protoreflect.StringKind:
		e.buf = appendString(e.buf, v.String())
	case protoreflect.BytesKind:
		e.buf = append(e.buf, '"')
		e.buf = base64.StdEncoding.AppendEncode(e.buf, v.Bytes())
		e.buf = append(e.buf, '"')
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
	case protoreflect.FloatKind:
		return e.float(v.Float(), 32)
	case protoreflect.DoubleKind:
		return e.float(v.Float(), 64)
	case protoreflect.EnumKind:
		n := v.Enum()
		if ev := fd.Enum().Values().ByNumber(n); ev != nil {
			e.buf = appendString(e.buf, string(ev.Name()))
		} else {
			e.buf = strconv.AppendInt(e.buf, int64(n), 10)
		}
	default:
		return e.path.errorf("cannot encode field of kind %s", fd.Kind())
	}
	return nil
}

// float writes f as encoding/json does.
func (e *encoder) float(f float64, bits int) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return e.path.errorf("cannot encode %v as JSON", f)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	start := len(e.buf)
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, bits)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		n := len(e.buf) - start
		if n >= 4 && e.buf[len(e.buf)-4] == 'e' && e.buf[len(e.buf)-3] == '-' && e.buf[len(e.buf)-2] == '0' {
			e.buf[len(e.buf)-2] = e.buf[len(e.buf)-1]
			e.buf = e.buf[:len(e.buf)-1]
		}
	}
	return nil
}

func (e *encoder) timestamp(rm protoreflect.Message) error {
	fds := rm.Descriptor().Fields()
	secs := rm.Get(fds.ByNumber(1)).Int()
	nanos := rm.Get(fds.ByNumber(2)).Int()
	if secs < minTimestamp || secs > maxTimestamp || nanos < 0 || nanos > 999_999_999 {
		return e.path.errorf("timestamp (%d, %d) is out of range", secs, nanos)
	}
	e.buf = append(e.buf, '"')
	e.buf = time.Unix(secs, nanos).UTC().AppendFormat(e.buf, time.RFC3339Nano)
	e.buf = append(e.buf, '"')
	return nil
}

// The range of google.protobuf.Timestamp: 0001-01-01 to 9999-12-31.
const (
	minTimestamp = -62135596800
	maxTimestamp = 253402300799
)

func (e *encoder) duration(rm protoreflect.Message) error {
	fds := rm.Descriptor().Fields()
	secs := rm.Get(fds.ByNumber(1)).Int()
	nanos := rm.Get(fds.ByNumber(2)).Int()
	const maxSecs = math.MaxInt64 / int64(time.Second)
	if secs > maxSecs || secs < -maxSecs || nanos <= -1e9 || nanos >= 1e9 || secs > 0 && nanos < 0 || secs < 0 && nanos > 0 {
		return e.path.errorf("duration (%d, %d) is out of range", secs, nanos)
	}
	d := time.Duration(secs)*time.Second + time.Duration(nanos)
	e.buf = appendString(e.buf, d.String())
	return nil
}

func (e *encoder) any(rm protoreflect.Message) error {
	a, ok := rm.Interface().(*anypb.Any)
	if !ok {
		// A dynamic Any: copy it into the concrete type.
		a = &anypb.Any{}
		fds := rm.Descriptor().Fields()
		a.TypeUrl = rm.Get(fds.ByNumber(1)).String()
		a.Value = rm.Get(fds.ByNumber(2)).Bytes()
	}
	if a.GetTypeUrl() == "" {
		return e.path.errorf("cannot encode an empty google.protobuf.Any")
	}
	inner, err := a.UnmarshalNew()
	if err != nil {
		return e.path.errorf("cannot encode google.protobuf.Any: %v", err)
	}
	info := infoFor(inner.ProtoReflect().Descriptor())
	if info.res == nil {
		return e.path.errorf("cannot encode google.protobuf.Any holding %s: not a kind", info.desc.FullName())
	}
	return e.message(inner.ProtoReflect(), info, true)
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD.
// Unlike encoding/json it leaves <, > and & alone, and it escapes the
// characters YAML cannot hold raw (DEL, C1 controls, U+FEFF, U+FFFE/F).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' || r <= 0x9f || r == 0xfeff || r == 0xfffe || r == 0xffff {
			// U+2028 and U+2029 as encoding/json does; C1 controls,
			// the BOM and the noncharacters because YAML may not hold
			// them raw, and MarshalYAML reads this JSON as YAML.
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hex = "0123456789abcdef"
