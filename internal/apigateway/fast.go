package apigateway

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"unicode/utf8"

	"smcallbacks/internal/callback"
)

// decodeFast decodes an event without the naive path's copies of its body:
// it finds the top-level "body" string, decodes the small rest of the event
// with encoding/json, and hands the body on whole (callback.WholeBody),
// where the service keeps each attachment as it lies: a base64 body
// decoded in one go into one buffer, a text body as it stands in the
// payload or, when it holds escapes, unescaped in one pass (unquote) into
// one buffer. Decoding a body here, before the service checks the caller,
// costs what the naive path's decoding costs there.
//
// It gives exactly what the naive decode gives, or ok false for an event it
// does not fully understand: no body string, a base64 body that is not
// base64 alone, a "body" key twice or in another case, an escaped key,
// anything the rest's decoding or the body's unescaping refuses. Those take
// the naive path.
//
// It decodes into scratch when that has room (a buffer an earlier event is
// done with), and returns in buf the buffer the body lies in when it is not
// the payload's own bytes, for the next event to decode into.
func decodeFast(payload, scratch []byte) (req *callback.Request, v2 bool, buf []byte, ok bool) {
	// Most bodies hold no escaped quote, so that the body string ends at
	// its first quote: that framing costs one search, and decoding the body
	// confirms it (a text body with escapes in its first bytes is framed by
	// unquote at once). The second framing unescapes any body with escapes,
	// for a text body whose first escaped quote comes later.
	if loc, ok := findBody(payload, false, scratch); ok {
		if req, v2, buf, ok := loc.decode(payload, scratch); ok {
			return req, v2, buf, true
		}
	}
	if loc, ok := findBody(payload, true, scratch); ok && loc.escaped {
		return loc.decode(payload, scratch)
	}
	return nil, false, nil, false
}

// bodyString is where the body string's contents lie in a payload, between
// its quotes, and, for contents that findBody unescaped to find their end,
// what they decode to.
type bodyString struct {
	start, end int
	escaped    bool
	decoded    []byte
	text       bool // decoded is UTF-8 without NUL
}

// decode decodes the event around the body string.
func (b bodyString) decode(payload, scratch []byte) (req *callback.Request, v2 bool, buf []byte, ok bool) {
	// The rest: the payload with the body's contents cut out, so "body":"".
	rest := make([]byte, 0, len(payload)-(b.end-b.start))
	rest = append(append(rest, payload[:b.start]...), payload[b.end:]...)
	var ev event
	if err := json.Unmarshal(rest, &ev); err != nil {
		return nil, false, nil, false
	}
	body, buf, text, ok := b.body(payload, scratch, ev.IsBase64Encoded)
	if !ok {
		return nil, false, nil, false
	}
	ev.body = wholeBytes{bytes.NewReader(body), body, text}
	v2 = ev.Version == "2.0"
	req, err := ev.request(v2)
	if err != nil {
		return nil, false, nil, false
	}
	return req, v2, buf, true
}

// body returns the body's bytes, the buffer they lie in when it is not the
// payload, and whether they are known to be UTF-8 text without NUL; ok false
// when it cannot give exactly what the naive path gives, or when the body
// string does not end where findBody's first framing ended it.
func (b bodyString) body(payload, scratch []byte, base64 bool) (body, buf []byte, text, ok bool) {
	raw := payload[b.start:b.end:b.end]
	switch {
	case base64 && b.escaped:
		return nil, nil, false, false
	case base64:
		body, ok = decodeBase64(raw, scratch)
		return body, body, false, ok
	case b.escaped:
		return b.decoded, b.decoded, b.text, true
	case plainText(raw):
		return raw, nil, true, true
	}
	// Escapes, control characters, which JSON forbids, or bytes that are
	// not UTF-8, which encoding/json makes U+FFFD: unquote does as it
	// does, and finds where the string really ends.
	body, end, nul, ok := unquote(scratch[:0], payload[b.start:])
	return body, body, !nul, ok && end == len(raw)
}

// decodeBase64 decodes a body that is standard base64 and nothing else: a
// length that is a multiple of 4, and every byte decoded, so that it held
// no line break (which the decoder skips) and so no byte that JSON forbids
// in a string, nor a backslash or a quote. There base64.NewDecoder, the
// naive path's, gives the same bytes.
func decodeBase64(raw, scratch []byte) ([]byte, bool) {
	if len(raw)%4 != 0 {
		return nil, false
	}
	dst := scratch[:0]
	if n := base64.StdEncoding.DecodedLen(len(raw)); cap(dst) >= n {
		dst = dst[:n]
	} else {
		dst = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(dst, raw)
	padding := 0
	for i := len(raw) - 1; i >= max(len(raw)-2, 0) && raw[i] == '='; i-- {
		padding++
	}
	if err != nil || n != len(raw)/4*3-padding {
		return nil, false
	}
	return dst[:n], true
}

// plainText reports whether a JSON string's contents are the bytes they
// decode to: no escapes, no control characters, valid UTF-8.
func plainText(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		bs := x ^ (ones * '\\')
		// Exact for "any byte": a false mark needs a true one below it.
		if ((bs-ones)&^bs|(x-ones*' ')&^x)&highs != 0 {
			return false
		}
	}
	for _, c := range b[i:] {
		if c < ' ' || c == '\\' {
			return false
		}
	}
	return utf8.Valid(b)
}

// findBody finds the contents of the top-level "body" string of an event
// whose keys hold no escapes and whose "body" key stands once, in lower
// case, with a string. The string ends at its first quote, or, with
// unescape, where unquote ends it, unescaping it into scratch on the way
// when it holds escapes. It skips the other values without checking them: the rest's
// decoding does.
func findBody(p []byte, unescape bool, scratch []byte) (loc bodyString, ok bool) {
	loc.start = -1
	i := skipSpace(p, 0)
	if i >= len(p) || p[i] != '{' {
		return loc, false
	}
	i++
	for {
		i = skipSpace(p, i)
		if i >= len(p) || p[i] != '"' {
			return loc, false
		}
		keyEnd := bytes.IndexByte(p[i+1:], '"')
		if keyEnd < 0 {
			return loc, false
		}
		key := p[i+1 : i+1+keyEnd]
		if bytes.IndexByte(key, '\\') >= 0 {
			return loc, false
		}
		i = skipSpace(p, i+2+keyEnd)
		if i >= len(p) || p[i] != ':' {
			return loc, false
		}
		i = skipSpace(p, i+1)
		if bytes.EqualFold(key, []byte("body")) {
			// encoding/json matches keys in any case and keeps the last:
			// leave such events to it.
			if string(key) != "body" || loc.start >= 0 {
				return loc, false
			}
			if loc, ok = findString(p, i, unescape, scratch); !ok {
				return loc, false
			}
			i = loc.end + 1
		} else if i, ok = skipValue(p, i); !ok {
			return loc, false
		}
		i = skipSpace(p, i)
		if i >= len(p) {
			return loc, false
		}
		if p[i] == ',' {
			i++
			continue
		}
		if p[i] != '}' || skipSpace(p, i+1) != len(p) || loc.start < 0 {
			return loc, false
		}
		return loc, true
	}
}

// findString finds the contents of the string at p[i], as findBody says;
// but a string with a backslash before any quote in its first bytes holds
// escapes (a base64 body holds none), and is framed by unquote at once,
// which finds its end as it decodes it, without a search for its first
// quote through the whole body first.
func findString(p []byte, i int, unescape bool, scratch []byte) (bodyString, bool) {
	if i >= len(p) || p[i] != '"' {
		return bodyString{}, false
	}
	start := i + 1
	head := p[start:min(len(p), start+escapeWindow)]
	if bs := bytes.IndexByte(head, '\\'); bs < 0 || bytes.IndexByte(head[:bs], '"') >= 0 {
		n := bytes.IndexByte(p[start:], '"')
		if n < 0 {
			return bodyString{}, false
		}
		if !unescape || bytes.IndexByte(p[start:start+n], '\\') < 0 {
			return bodyString{start: start, end: start + n}, true
		}
	}
	decoded, end, nul, ok := unquote(scratch[:0], p[start:])
	return bodyString{start: start, end: start + end, escaped: true, decoded: decoded, text: !nul}, ok
}

// escapeWindow is how far into a string findString looks for a backslash.
const escapeWindow = 4 << 10

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

// wholeBytes is a body held in memory (callback.TextBody).
type wholeBytes struct {
	*bytes.Reader
	b    []byte
	text bool
}

// Whole returns the body's bytes.
func (w wholeBytes) Whole() ([]byte, bool) { return w.b, true }

// UTF8Text reports whether the body's bytes are known to be UTF-8 text
// without NUL: those that unquote decoded, or that needed no decoding.
func (w wholeBytes) UTF8Text() bool { return w.text }
