package codec

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of JSON values, as encoding/json does, so
// that no input can exhaust the stack.
const maxDepth = 10000

// scanner reads JSON tokens from a byte slice.
type scanner struct {
	data  []byte
	pos   int
	depth int
}

// peek skips white space and returns the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; c {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return c
		}
	}
	return 0
}

func (s *scanner) syntaxError(msg string) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", s.pos, msg)
}

// unexpected is the syntax error for the byte at pos (or the end).
func (s *scanner) unexpected(context string) error {
	if s.pos >= len(s.data) {
		return fmt.Errorf("invalid JSON: unexpected end of input %s", context)
	}
	return s.syntaxError(fmt.Sprintf("invalid character %s %s", quoteChar(s.data[s.pos]), context))
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	q := strconv.Quote(string(rune(c)))
	if c >= utf8.RuneSelf {
		q = fmt.Sprintf(`"\x%02x"`, c)
	}
	return "'" + q[1:len(q)-1] + "'"
}

// typeName names the JSON type of a value starting with c, for errors.
func typeName(c byte) string {
	switch c {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "number"
	}
	return "invalid value"
}

// consume expects the byte c (after white space) and steps over it.
func (s *scanner) consume(c byte, context string) error {
	if s.peek() != c {
		return s.unexpected(context)
	}
	s.pos++
	return nil
}

// literal reads true, false or null.
func (s *scanner) literal(word string) error {
	for i := range len(word) {
		if s.pos >= len(s.data) || s.data[s.pos] != word[i] {
			return s.unexpected("in literal " + word)
		}
		s.pos++
	}
	return nil
}

// boolean reads true or false; the caller has peeked 't' or 'f'.
func (s *scanner) boolean() (bool, error) {
	if s.data[s.pos] == 't' {
		return true, s.literal("true")
	}
	return false, s.literal("false")
}

// number reads a JSON number and returns its text.
func (s *scanner) number() ([]byte, error) {
	start := s.pos
	d := s.data
	i := s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		s.pos = i
		return nil, s.unexpected("in numeric literal")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			s.pos = i
			return nil, s.unexpected("after decimal point in numeric literal")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			s.pos = i
			return nil, s.unexpected("in exponent of numeric literal")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	s.pos = i
	return d[start:i], nil
}

// str reads a JSON string (the caller has peeked '"') and returns its
// contents, unescaped. The result aliases the input when the string has no
// escapes; it must then not be changed or kept past the input's life.
// Invalid UTF-8 is an error: protobuf strings must be valid UTF-8.
func (s *scanner) str() ([]byte, error) {
	d := s.data
	s.pos++ // the quote
	start := s.pos
	ascii := true
	for i := start; i < len(d); i++ {
		c := d[i]
		switch {
		case c == '"':
			b := d[start:i]
			s.pos = i + 1
			if !ascii && !utf8.Valid(b) {
				s.pos = start - 1
				return nil, s.syntaxError("invalid UTF-8 in string")
			}
			return b, nil
		case c == '\\':
			return s.slowString(start, i)
		case c < 0x20:
			s.pos = i
			return nil, s.unexpected("in string literal")
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	s.pos = len(d)
	return nil, s.unexpected("in string literal")
}

// slowString unescapes a string whose first escape is at i.
func (s *scanner) slowString(start, i int) ([]byte, error) {
	d := s.data
	out := make([]byte, 0, i-start+16)
	out = append(out, d[start:i]...)
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			s.pos = i + 1
			if !utf8.Valid(out) {
				s.pos = start - 1
				return nil, s.syntaxError("invalid UTF-8 in string")
			}
			return out, nil
		case c < 0x20:
			s.pos = i
			return nil, s.unexpected("in string literal")
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		i++
		if i >= len(d) {
			break
		}
		switch d[i] {
		case '"', '\\', '/':
			out = append(out, d[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(d, i+1)
			if !ok {
				s.pos = i
				return nil, s.syntaxError("invalid \\u escape in string")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(-1), false
				if i+2 < len(d) && d[i+1] == '\\' && d[i+2] == 'u' {
					r2, ok = hex4(d, i+3)
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			s.pos = i
			return nil, s.unexpected("in string escape code")
		}
		i++
	}
	s.pos = len(d)
	return nil, s.unexpected("in string literal")
}

func hex4(d []byte, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skip reads and checks one value of any type.
func (s *scanner) skip() error {
	switch c := s.peek(); c {
	case '"':
		_, err := s.str()
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	case '{':
		return s.object(func(key []byte) error { return s.skip() })
	case '[':
		return s.array(func(int) error { return s.skip() })
	default:
		if c == '-' || c >= '0' && c <= '9' {
			_, err := s.number()
			return err
		}
		return s.unexpected("looking for beginning of value")
	}
}

// object reads an object (the caller has peeked '{'), calling member for
// each key with the scanner at the value, which member must read.
func (s *scanner) object(member func(key []byte) error) error {
	if s.depth++; s.depth > maxDepth {
		return s.syntaxError("exceeded max depth")
	}
	s.pos++
	if s.peek() == '}' {
		s.pos++
		s.depth--
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.unexpected("looking for beginning of object key string")
		}
		key, err := s.str()
		if err != nil {
			return err
		}
		if err := s.consume(':', "after object key"); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.depth--
			return nil
		default:
			return s.unexpected("after object key:value pair")
		}
	}
}

// array reads an array (the caller has peeked '['), calling elem for each
// element with the scanner at it.
func (s *scanner) array(elem func(i int) error) error {
	if s.depth++; s.depth > maxDepth {
		return s.syntaxError("exceeded max depth")
	}
	s.pos++
	if s.peek() == ']' {
		s.pos++
		s.depth--
		return nil
	}
	for i := 0; ; i++ {
		if err := elem(i); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			s.depth--
			return nil
		default:
			return s.unexpected("after array element")
		}
	}
}

// end checks that nothing but white space follows the value read.
func (s *scanner) end() error {
	if s.peek() != 0 {
		return s.unexpected("after top-level value")
	}
	return nil
}
