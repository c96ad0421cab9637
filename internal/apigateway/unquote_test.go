package apigateway

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// checkUnquote fails unless unquote decodes the contents raw of a JSON
// string, followed by its closing quote, as encoding/json does, and refuses
// them where encoding/json refuses the string.
func checkUnquote(t *testing.T, raw []byte) {
	t.Helper()
	var want string
	jsonErr := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &want)
	prefix := []byte("kept:")
	got, end, nul, ok := unquote(bytes.Clone(prefix), append(bytes.Clone(raw), '"', ',', '"', 'x'))
	// A quote inside raw ends the string early: encoding/json then
	// refuses what follows it.
	ok = ok && end == len(raw)
	switch {
	case (jsonErr == nil) != ok:
		t.Fatalf("unquote(%q): got ok %v, want %v (encoding/json: %v)", raw, ok, jsonErr == nil, jsonErr)
	case !ok:
	case string(got) != string(prefix)+want:
		t.Fatalf("unquote(%q): got %q, want %q", raw, got, string(prefix)+want)
	case nul != strings.Contains(want, "\x00"):
		t.Fatalf("unquote(%q): got nul %v, want %v", raw, nul, !nul)
	}
}

func TestUnquote(t *testing.T) {
	tests := []struct {
		name, raw string
	}{
		{"empty", ``},
		{"plain", `hello, world`},
		{"every escape", `\" \\ \/ \b \f \n \r \t`},
		{"unicode escapes", `\u0041\u00e9\u20AC\uFFFF\u0000`},
		{"a NUL escape after 8 plain bytes", `12345678\u0000`},
		{"an escaped backslash before u0000", `\\u0000`},
		{"a surrogate pair", `\ud83d\ude00`},
		{"a high surrogate alone", `\ud83d x`},
		{"a low surrogate alone", `\ude00`},
		{"a high surrogate before a non-surrogate escape", `\ud83d\u0041`},
		{"two high surrogates then a low", `\ud83d\ud83d\ude00`},
		{"a high surrogate at the end", `\ud83d`},
		{"a high surrogate before a bad escape", `\ud83d\uzzzz`},
		{"raw UTF-8", "café ☕ 😀"},
		{"bytes that are not UTF-8", "a\xffb\xc3(\xe2\x82\xed\xa0\x80"},
		{"a rune cut by an escape", "\xe2\x82\\n\xac"},
		{"a rune cut by the end", "ab\xe2\x82"},
		{"not UTF-8 after 8 plain bytes", "12345678\xff"},
		{"a control character", "a\x01b"},
		{"a control character after 8 bytes", "12345678\x1f"},
		{"a bad escape", `\x`},
		{"an apostrophe escape", `\'`},
		{"a short unicode escape", `\u12`},
		{"a unicode escape with a bad digit", `\u12g4`},
		{"a backslash at the end", `abc\`},
		{"a quote inside", `ab"cd`},
		{"long runs", strings.Repeat("0123456789abcdef", 9) + `\n` + strings.Repeat("é", 40)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkUnquote(t, []byte(tt.raw)) })
	}
}

// TestUnquoteGrows decodes a string that is all bytes that are not UTF-8,
// each of which becomes 3 bytes, into a buffer with no room to spare.
func TestUnquoteGrows(t *testing.T) {
	raw := bytes.Repeat([]byte{0xff}, 1000)
	got, _, _, ok := unquote(nil, append(raw, '"'))
	if want := strings.Repeat("\uFFFD", 1000); !ok || string(got) != want {
		t.Fatalf("got %d bytes, ok %v, want %d bytes", len(got), ok, len(want))
	}
}

// FuzzUnquote holds unquote to encoding/json on arbitrary string contents:
// escapes of every kind, surrogates paired and alone, control characters,
// bytes that are not UTF-8.
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{``, `plain`, `\" \\ \/ \b \f \n \r \t`, `\u00e9\ud83d\ude00\ud800\udc00\ud800\u0041`,
		"caf\xc3\xa9 \xff\xc3 \\n \xe2\x82", "1\\n00:00:00,640 --> 00:00:03,080\\nHey everyone\\n\\n", `{\"format\":\"2.9\"}`, "\x01", `\u12`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkUnquote(t, raw) })
}

// TestHex4 checks every byte as a hex digit against strconv's reading.
func TestHex4(t *testing.T) {
	for c := range 256 {
		got := hex4([]byte{'0', '0', '0', byte(c)})
		want := rune(-1)
		if v, err := strconv.ParseUint(string(rune(c)), 16, 8); err == nil && c < 0x80 {
			want = rune(v)
		}
		if got != want {
			t.Errorf("hex4(%q): got %d, want %d", "000"+string(rune(c)), got, want)
		}
	}
}
