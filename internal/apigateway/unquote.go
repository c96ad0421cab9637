package apigateway

import (
	"encoding/binary"
	"math/bits"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// unquote decodes the JSON string whose contents start at s[0] (just after
// its opening quote) in one pass, appending them to dst exactly as
// encoding/json decodes them: escapes, surrogate pairs, a lone surrogate or
// a byte that is not UTF-8 made U+FFFD. It returns the decoded bytes, which
// are UTF-8, the index in s of the closing quote, and whether a \u0000
// escape put a NUL among them; ok is false for a string that is not valid
// JSON (a control character, a bad escape, no closing quote), which
// encoding/json refuses.
//
// It copies 8 bytes at a time and finds the next byte that needs a look (a
// quote, a backslash, a control character or a non-ASCII byte) in the
// same 8, so that text, where such bytes are a few in a line, costs little
// more than a copy.
func unquote(dst, s []byte) (out []byte, end int, nul, ok bool) {
	d := grow(dst, len(s)+8)
	w := len(dst)
	i := 0
	for {
		i, w = copyPlain(d, s, i, w)
		for i < len(s) && !isSpecial(s[i]) {
			d[w] = s[i]
			i, w = i+1, w+1
		}
		if i == len(s) {
			return nil, 0, false, false
		}
		switch c := s[i]; {
		case c == '"':
			return d[:w], i, nul, true
		case c == '\\':
			// copyPlain leaves \u0000 here.
			nul = nul || i+6 <= len(s) && s[i+1] == 'u' && hex4(s[i+2:i+6]) == 0
			if i, w, ok = unescape(d, w, s, i); !ok {
				return nil, 0, false, false
			}
		case c < ' ':
			return nil, 0, false, false
		default:
			d, i, w = nonASCII(d, w, s, i)
		}
	}
}

// copyPlain copies plain bytes from s[i:] to d[w:] 8 at a time, decoding
// on the way the escapes that text has in every line (a one-letter escape,
// or a \u escape of a character that is not a surrogate), up to the last
// bytes of s or the first byte that needs a closer look, and returns where
// it stopped in s and d. Each word is written out before it is looked at,
// and w moves only past its plain bytes. (A function of its own, so that
// its loop keeps everything in registers.)
func copyPlain(d, s []byte, i, w int) (int, int) {
	for i+8 <= len(s) && w+8 <= len(d) {
		x := binary.LittleEndian.Uint64(s[i:])
		binary.LittleEndian.PutUint64(d[w:], x)
		m := special(x)
		if m == 0 {
			i, w = i+8, w+8
			continue
		}
		// The special byte and the one after it, taken from x while
		// they are in it, so that the next load need not wait for them.
		t := uint(bits.TrailingZeros64(m)) - 7
		k := int(t >> 3)
		i, w = i+k, w+k
		if byte(x>>t) != '\\' || i+1 >= len(s) {
			break
		}
		next := byte(x >> (t + 8))
		if k == 7 {
			next = s[i+1]
		}
		if c := unescaped[next]; c != 0 {
			d[w] = c
			i, w = i+2, w+1
			continue
		}
		r := rune(-1)
		if next == 'u' && i+6 <= len(s) {
			r = hex4(s[i+2 : i+6])
		}
		if r <= 0 || utf16.IsSurrogate(r) || w+utf8.UTFMax > len(d) {
			break
		}
		w += utf8.EncodeRune(d[w:], r)
		i += 6
	}
	return i, w
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special returns, for the 8 bytes of x (the first in its low byte), a word
// whose lowest set bit is the high bit of the first byte that is a quote, a
// backslash, a control character or not ASCII; 0 when none is. (Higher set
// bits may be wrong: only the lowest is used.)
func special(x uint64) uint64 {
	q := x ^ (ones * '"')
	b := x ^ (ones * '\\')
	// A control byte wraps below zero when ' ' is taken from it, and so
	// gets its high bit, as a non-ASCII byte has it already.
	return ((q-ones)&^q | (b-ones)&^b | (x - ones*' ') | x) & highs
}

func isSpecial(c byte) bool { return c == '"' || c == '\\' || c < ' ' || c >= utf8.RuneSelf }

// grow returns dst with room for at least n more bytes, as a slice of its
// whole capacity.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) < n {
		d := make([]byte, len(dst), 2*cap(dst)+n)
		copy(d, dst)
		dst = d
	}
	return dst[:cap(dst)]
}

// unescape decodes the escape at s[i] into d[w:], which has room for it.
func unescape(d []byte, w int, s []byte, i int) (int, int, bool) {
	if i+1 >= len(s) {
		return i, w, false
	}
	if c := unescaped[s[i+1]]; c != 0 {
		d[w] = c
		return i + 2, w + 1, true
	}
	if s[i+1] != 'u' {
		return i, w, false
	}
	r := hex4(s[i+2:])
	if r < 0 {
		return i, w, false
	}
	i += 6
	if utf16.IsSurrogate(r) {
		// As encoding/json: a pair makes one rune; a surrogate that is not
		// the first of a pair is U+FFFD, and what follows it is decoded on
		// its own.
		r2 := rune(-1)
		if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
			r2 = hex4(s[i+2:])
		}
		if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
			r, i = dec, i+6
		} else {
			r = unicode.ReplacementChar
		}
	}
	return i, w + utf8.EncodeRune(d[w:], r), true
}

// unescaped maps the letter of each one-letter escape to its byte.
var unescaped = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// hex4 returns the value of the 4 hex digits at the start of s, or -1.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	a, b, c, e := hexValue[s[0]], hexValue[s[1]], hexValue[s[2]], hexValue[s[3]]
	if (a|b|c|e)&0x80 != 0 {
		return -1
	}
	return rune(a)<<12 | rune(b)<<8 | rune(c)<<4 | rune(e)
}

// hexValue maps each hex digit to its value, and every other byte to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	for i, c := range "ABCDEF" {
		t[c] = byte(10 + i)
	}
	return t
}()

// nonASCII copies the non-ASCII text at s[i] into d[w:]: a run of it up to
// the next byte that needs a look at once when it is valid UTF-8, else rune
// by rune, each byte that is not UTF-8 made U+FFFD (3 bytes for 1: d may
// have to grow).
func nonASCII(d []byte, w int, s []byte, i int) ([]byte, int, int) {
	j := i + 1
	for j < len(s) && s[j] != '"' && s[j] != '\\' && s[j] >= ' ' {
		j++
	}
	if utf8.Valid(s[i:j]) {
		return d, j, w + copy(d[w:], s[i:j])
	}
	for i < j {
		r, size := utf8.DecodeRune(s[i:j])
		if r == utf8.RuneError && size == 1 {
			// Keep room for the rest of s at 1 for 1, and a word.
			if len(d)-w < 3+len(s)-i+8 {
				d = grow(d[:w], 3+len(s)-i+8)
			}
			w += utf8.EncodeRune(d[w:], utf8.RuneError)
		} else {
			w += copy(d[w:], s[i:i+size])
		}
		i += size
	}
	return d, i, w
}
