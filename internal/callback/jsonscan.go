package callback

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
)

// A whole attachment that starts like a JSON object is classified by one
// pass of jsonScanner over its bytes: json.Valid's verdict and the top-level
// keys that json.Unmarshal into topKeys would find, without encoding/json's
// scanner, which takes a call per byte, or its decoding, which takes the
// bytes a second time. A fuzz target holds it to encoding/json.

// maxJSONDepth is encoding/json's bound on nesting, past which it refuses
// a document.
const maxJSONDepth = 10000

// scanJSON reports whether b is valid JSON, as json.Valid does, and, when
// b is an object, which of topKeys' keys its top level has.
func scanJSON(b []byte) (keys topKeys, valid bool) {
	s := jsonScanner{b: b}
	valid = s.document()
	return s.keys, valid
}

// jsonScanner walks a JSON document: b[i] is the next byte to read, and
// open holds the containers it is inside, '{' or '[' each.
type jsonScanner struct {
	b    []byte
	i    int
	open []byte
	keys topKeys
}

// document reads one value and what follows it: white space alone.
func (s *jsonScanner) document() bool {
	for {
		opened, ok := s.value()
		if !ok {
			return false
		}
		if opened {
			continue // on to the container's first value
		}
		// After a value: close what ends here, then on to the next value.
		for closed := true; closed; {
			if len(s.open) == 0 {
				return s.space() == len(s.b)
			}
			if closed, ok = s.next(); !ok {
				return false
			}
		}
	}
}

// value reads a scalar (opened false), or the start of a container up to
// its first value (opened true; an empty one is left for next to close).
func (s *jsonScanner) value() (opened, ok bool) {
	i := s.space()
	if i >= len(s.b) {
		return false, false
	}
	switch c := s.b[i]; c {
	case '{', '[':
		if len(s.open) == maxJSONDepth {
			return false, false
		}
		s.open = append(s.open, c)
		s.i = i + 1
		if j := s.space(); j < len(s.b) && s.b[j] == c+2 { // '}' or ']'
			return false, true
		}
		return true, c == '[' || s.key()
	case '"':
		return false, s.str(i + 1)
	case 't':
		return false, s.literal(i, "true")
	case 'f':
		return false, s.literal(i, "false")
	case 'n':
		return false, s.literal(i, "null")
	}
	return false, s.number(i)
}

// next reads what follows a value inside a container: a comma and the next
// key or element (closed false), or the container's end (closed true).
func (s *jsonScanner) next() (closed, ok bool) {
	i := s.space()
	if i >= len(s.b) {
		return false, false
	}
	top := s.open[len(s.open)-1]
	switch c := s.b[i]; {
	case c == ',':
		s.i = i + 1
		return false, top == '[' || s.key()
	case c == top+2: // '}' or ']'
		s.open = s.open[:len(s.open)-1]
		s.i = i + 1
		return true, true
	}
	return false, false
}

// key reads an object's key and its colon, and notes a top-level key.
func (s *jsonScanner) key() bool {
	i := s.space()
	if i >= len(s.b) || s.b[i] != '"' || !s.str(i+1) {
		return false
	}
	if len(s.open) == 1 {
		s.keys.note(s.b[i:s.i])
	}
	i = s.space()
	if i >= len(s.b) || s.b[i] != ':' {
		return false
	}
	s.i = i + 1
	return true
}

// space skips white space from i and returns where it ends. Most tokens
// follow one another at once; the indentation of a pretty-printed document
// is skipped 8 bytes at a time.
func (s *jsonScanner) space() int {
	b, i := s.b, s.i
	if i < len(b) && b[i] > ' ' {
		return i
	}
	for i < len(b) {
		if i+8 <= len(b) {
			// The high bit of each byte that is not a space, exactly (no
			// carry crosses bytes).
			y := binary.LittleEndian.Uint64(b[i:]) ^ (ones * ' ')
			m := ((y & lows) + lows | y) & highs
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		}
		if c := b[i]; c != ' ' && c != '\n' && c != '\t' && c != '\r' {
			break
		}
		i++
	}
	s.i = i
	return i
}

// str reads a string's contents from i, past its closing quote: no
// control characters, valid escapes. (Like encoding/json, it takes bytes
// that are not UTF-8.)
func (s *jsonScanner) str(i int) bool {
	b := s.b
	for {
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			q, bs := x^(ones*'"'), x^(ones*'\\')
			// The lowest mark is the first quote, backslash or control
			// byte (higher ones may be false).
			if m := ((q-ones)&^q | (bs-ones)&^bs | (x-ones*' ')&^x) & highs; m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(b) {
			return false
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return true
		case c == '\\':
			n := escapeLen(b[i:])
			if n == 0 {
				return false
			}
			i += n
		case c < ' ':
			return false
		default:
			i++
		}
	}
}

// escapeLen returns the length of the escape at the start of b, 0 for an
// invalid one.
func escapeLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if len(b) < 6 {
			return 0
		}
		for _, c := range b[2:6] {
			if !isHex(c) {
				return 0
			}
		}
		return 6
	}
	return 0
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// literal reads true, false or null.
func (s *jsonScanner) literal(i int, lit string) bool {
	if !bytes.HasPrefix(s.b[i:], []byte(lit)) {
		return false
	}
	s.i = i + len(lit)
	return true
}

// number reads a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *jsonScanner) number(i int) bool {
	b := s.b
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		if i+1 >= len(b) || !isDigit(b[i+1]) {
			return false
		}
		i = digits(b, i+1)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return false
		}
		i = digits(b, i)
	}
	s.i = i
	return true
}

func digits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

// note records a top-level key, given with its quotes, when it is one of
// topKeys': matched as encoding/json matches keys to fields, unescaped and
// in any case.
func (k *topKeys) note(quoted []byte) {
	name := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(name, '\\') >= 0 {
		var s string
		if json.Unmarshal(quoted, &s) != nil {
			return
		}
		name = []byte(s)
	}
	switch {
	case bytes.EqualFold(name, []byte("format")):
		k.Format = true
	case bytes.EqualFold(name, []byte("results")):
		k.Results = true
	case bytes.EqualFold(name, []byte("id")):
		k.ID = true
	case bytes.EqualFold(name, []byte("created_at")):
		k.CreatedAt = true
	}
}

const (
	ones  = 0x0101010101010101
	lows  = 0x7f7f7f7f7f7f7f7f
	highs = 0x8080808080808080
)
