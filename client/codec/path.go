package codec

import (
	"fmt"
	"strconv"
	"strings"
)

// segment is one step of a field path: a field name, a list index or a map
// key.
type segment struct {
	name  string // field name or map key
	index int    // list index, when isIndex
	kind  segKind
}

type segKind uint8

const (
	segField segKind = iota
	segIndex
	segKey
)

// path is the stack of segments from the top object to the value being
// read or written. It is only formatted when an error is made.
type path []segment

func (p *path) field(name string) { *p = append(*p, segment{name: name}) }
func (p *path) index(i int)       { *p = append(*p, segment{index: i, kind: segIndex}) }
func (p *path) key(k string)      { *p = append(*p, segment{name: k, kind: segKey}) }
func (p *path) pop()              { *p = (*p)[:len(*p)-1] }

// String formats the path as Kubernetes' field paths do:
// spec.containers[0].resources.limits[cpu].
func (p path) String() string {
	var b strings.Builder
	for i, s := range p {
		switch s.kind {
		case segField:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.name)
		case segIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		case segKey:
			b.WriteByte('[')
			b.WriteString(s.name)
			b.WriteByte(']')
		}
	}
	return b.String()
}

// errorf makes an error prefixed with the path ("spec.replicas: ..."), or
// without a prefix at the top.
func (p path) errorf(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if len(p) == 0 {
		return fmt.Errorf("%s", msg)
	}
	return fmt.Errorf("%s: %s", p.String(), msg)
}
