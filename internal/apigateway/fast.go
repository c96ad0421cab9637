package apigateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"unicode/utf8"

	"smcallbacks/internal/callback"
)

// decodeFast decodes an event without copying or unescaping its body: it
// finds the top-level "body" string, decodes the small rest of the event
// with encoding/json, and hands the body's bytes on as they stand in the
// payload (the base64 decoding then streams from them). For a 4 MiB
// callback that saves most of the handler's time and a copy of the body.
//
// It gives exactly what the naive decode gives, or ok false for an event it
// does not fully understand: no body string, a body with escapes, a "body"
// key twice or in another case, an escaped key, text that is not plain
// UTF-8, anything the rest's decoding refuses. Those take the naive path.
func decodeFast(payload []byte) (req *callback.Request, v2, ok bool) {
	start, end, ok := findBody(payload)
	if !ok {
		return nil, false, false
	}
	body := payload[start:end]
	// The rest: the payload with the body's contents cut out, so "body":"".
	rest := make([]byte, 0, len(payload)-len(body))
	rest = append(append(rest, payload[:start]...), payload[end:]...)
	var ev event
	if err := json.Unmarshal(rest, &ev); err != nil {
		return nil, false, false
	}
	if !plainBody(body, ev.IsBase64Encoded) {
		return nil, false, false
	}
	ev.rawBody = body
	v2 = ev.Version == "2.0"
	req, err := ev.request(v2)
	if err != nil {
		return nil, false, false
	}
	return req, v2, true
}

// plainBody reports whether a JSON string's contents, which hold no quote
// or backslash, mean the same bytes unescaped. A base64 body is checked
// only for line breaks, which the base64 decoder would skip where JSON
// forbids them raw; any other byte outside the base64 alphabet fails the
// decoding anyway. Other bodies are checked whole: no control characters,
// valid UTF-8 (which JSON decoding would replace).
func plainBody(b []byte, base64 bool) bool {
	if base64 {
		// Padding before the end decodes or fails by where the decoder's
		// chunks happen to end: leave it to the naive path.
		if i := bytes.IndexByte(b, '='); i >= 0 && i < len(b)-2 {
			return false
		}
		return bytes.IndexByte(b, '\n') < 0 && bytes.IndexByte(b, '\r') < 0
	}
	for _, c := range b {
		if c < 0x20 {
			return false
		}
	}
	return utf8.Valid(b)
}

// findBody returns where the contents of the top-level "body" string start
// and end in an event, when the event is one object whose keys hold no
// escapes and whose "body" key stands once, in lower case, with a string
// without escapes. It skips the other values without checking them: the
// rest's decoding does.
func findBody(p []byte) (start, end int, ok bool) {
	start, end = -1, -1
	i := skipSpace(p, 0)
	if i >= len(p) || p[i] != '{' {
		return -1, -1, false
	}
	i++
	for {
		i = skipSpace(p, i)
		if i >= len(p) || p[i] != '"' {
			return -1, -1, false
		}
		keyEnd := bytes.IndexByte(p[i+1:], '"')
		if keyEnd < 0 {
			return -1, -1, false
		}
		key := p[i+1 : i+1+keyEnd]
		if bytes.IndexByte(key, '\\') >= 0 {
			return -1, -1, false
		}
		i = skipSpace(p, i+2+keyEnd)
		if i >= len(p) || p[i] != ':' {
			return -1, -1, false
		}
		i = skipSpace(p, i+1)
		if bytes.EqualFold(key, []byte("body")) {
			// encoding/json matches keys in any case and keeps the last:
			// leave such events to it.
			if string(key) != "body" || start >= 0 || i >= len(p) || p[i] != '"' {
				return -1, -1, false
			}
			n := bytes.IndexByte(p[i+1:], '"')
			if n < 0 || bytes.IndexByte(p[i+1:i+1+n], '\\') >= 0 {
				return -1, -1, false
			}
			start, end = i+1, i+1+n
			i = end + 1
		} else if i, ok = skipValue(p, i); !ok {
			return -1, -1, false
		}
		i = skipSpace(p, i)
		if i >= len(p) {
			return -1, -1, false
		}
		if p[i] == ',' {
			i++
			continue
		}
		if p[i] != '}' {
			return -1, -1, false
		}
		if skipSpace(p, i+1) != len(p) || start < 0 {
			return -1, -1, false
		}
		return start, end, true
	}
}

func skipSpace(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns where the JSON value at i ends.
func skipValue(p []byte, i int) (int, bool) {
	if i >= len(p) {
		return i, false
	}
	switch p[i] {
	case '"':
		return skipString(p, i)
	case '{', '[':
		depth := 0
		for i < len(p) {
			switch p[i] {
			case '"':
				var ok bool
				if i, ok = skipString(p, i); !ok {
					return i, false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return i, false
	default: // a number, true, false or null
		for i < len(p) && bytes.IndexByte([]byte(",}] \t\r\n"), p[i]) < 0 {
			i++
		}
		return i, true
	}
}

func skipString(p []byte, i int) (int, bool) {
	for j := i + 1; j < len(p); j++ {
		switch p[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return len(p), false
}

// base64Reader decodes standard base64 held in memory as it is read, in
// whole quanta, without the line-break filtering of base64.NewDecoder: the
// fast path has checked that there are none.
type base64Reader struct {
	src     []byte
	done    int // bytes of src decoded
	pending []byte
	scratch [3]byte
	err     error // once failed, always
}

func (r *base64Reader) Read(p []byte) (int, error) {
	if len(r.pending) > 0 {
		n := copy(p, r.pending)
		r.pending = r.pending[n:]
		return n, nil
	}
	if r.err != nil {
		return 0, r.err
	}
	if r.done == len(r.src) {
		return 0, io.EOF
	}
	if len(p) < 3 {
		// Smaller than a quantum: decode one aside and hand it out.
		n := min(4, len(r.src)-r.done)
		m, err := r.decode(r.scratch[:], n)
		r.pending = r.scratch[:m]
		if err != nil && m == 0 {
			r.err = err
			return 0, err
		}
		k := copy(p, r.pending)
		r.pending = r.pending[k:]
		r.err = err // after the bytes decoded before it, like base64.NewDecoder
		return k, nil
	}
	// The bytes decoded before an error come with it.
	n, err := r.decode(p, min(len(p)/3*4, len(r.src)-r.done))
	r.err = err
	return n, err
}

// decode decodes the next n bytes of src into p.
func (r *base64Reader) decode(p []byte, n int) (int, error) {
	m, err := base64.StdEncoding.Decode(p, r.src[r.done:r.done+n])
	if e, ok := err.(base64.CorruptInputError); ok {
		return m, base64.CorruptInputError(int64(e) + int64(r.done))
	}
	if err != nil {
		return m, err
	}
	r.done += n
	return m, nil
}
