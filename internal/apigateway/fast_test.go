package apigateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
)

// sameRequest fails unless the fast path's request is the naive path's,
// body bytes included.
func sameRequest(t *testing.T, fast, naive *callback.Request) {
	t.Helper()
	if fast.Method != naive.Method || fast.RawQuery != naive.RawQuery || fast.SourceIP != naive.SourceIP ||
		fast.RequestID != naive.RequestID || !reflect.DeepEqual(fast.Header, naive.Header) {
		t.Fatalf("fast %+v\nnaive %+v", fast, naive)
	}
	nb, nerr := io.ReadAll(naive.Body)
	// The service asks a whole body for its bytes first, and reads it as a
	// stream only when it cannot give them at once.
	if wb, ok := fast.Body.(callback.WholeBody); ok {
		if fb, ok := wb.Whole(); ok {
			if string(fb) != string(nb) || nerr != nil {
				t.Fatalf("bodies differ: fast %d bytes whole, naive %d bytes (%v)", len(fb), len(nb), nerr)
			}
			if tb, ok := wb.(callback.TextBody); ok && tb.UTF8Text() && (!utf8.Valid(fb) || bytes.IndexByte(fb, 0) >= 0) {
				t.Fatalf("the fast path says %q is UTF-8 text without NUL", fb)
			}
			return
		}
	}
	fb, ferr := io.ReadAll(fast.Body)
	if string(fb) != string(nb) || (ferr == nil) != (nerr == nil) {
		t.Fatalf("bodies differ: fast %d bytes (%v), naive %d bytes (%v)", len(fb), ferr, len(nb), nerr)
	}
}

func TestFastDecodeSampleEvents(t *testing.T) {
	fast := 0
	for _, ev := range callbacktest.SampleEvents(t) {
		t.Run(ev.Name, func(t *testing.T) {
			naive, nv2, err := decodeNaive(ev.Payload)
			if err != nil {
				t.Fatal(err)
			}
			req, v2, _, ok := decodeFast(ev.Payload, nil)
			if !ok {
				return // the naive path's alone
			}
			fast++
			if v2 != nv2 {
				t.Errorf("v2: got %v, want %v", v2, nv2)
			}
			sameRequest(t, req, naive)
		})
	}
	if fast < 3 {
		t.Errorf("the fast path took %d sample events, want the base64 ones at least", fast)
	}
}

func TestFastDecodeDeclines(t *testing.T) {
	body := base64.StdEncoding.EncodeToString([]byte("hello"))
	base := `{"version":"2.0","rawQueryString":"id=a&status=b","requestContext":{"http":{"method":"POST"}},"isBase64Encoded":true,`
	tests := []struct {
		name, event string
	}{
		{"bad escape in the body", `{"version":"2.0","requestContext":{"http":{"method":"POST"}},"body":"a\xb"}`},
		{"short unicode escape in the body", `{"version":"2.0","requestContext":{"http":{"method":"POST"}},"body":"a\u12"}`},
		{"escaped quote ending the body", `{"version":"2.0","requestContext":{"http":{"method":"POST"}},"body":"a\"}`},
		{"escape in a base64 body", base + `"body":"aGVs\/G8="}`},
		{"body twice", base + `"body":"` + body + `","body":"` + body + `"}`},
		{"body in another case", base + `"Body":"` + body + `"}`},
		{"escaped key", base + `"bod\u0079":"` + body + `"}`},
		{"control character in text", `{"version":"2.0","requestContext":{"http":{"method":"POST"}},"body":"a` + "\x01" + `b"}`},
		{"control character after an escape", `{"version":"2.0","requestContext":{"http":{"method":"POST"}},"body":"a\n` + "\x01" + `b"}`},
		{"no body", `{"version":"2.0","requestContext":{"http":{"method":"POST"}}}`},
		{"body not a string", base + `"body":null}`},
		{"not an object", `["body"]`},
		{"trailing garbage", base + `"body":"` + body + `"} x`},
		{"broken rest", base + `"body":"` + body + `", "headers": {]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, _, ok := decodeFast([]byte(tt.event), nil); ok {
				t.Error("the fast path took it, want the naive path")
			}
		})
	}
}

// FuzzFastDecode compares the two paths on every valid JSON event the
// fuzzer makes, base64 and text bodies alike: the fast path either declines
// or gives what the naive path gives.
func FuzzFastDecode(f *testing.F) {
	for _, ev := range callbacktest.SampleEvents(f) {
		f.Add(ev.Payload)
	}
	f.Add([]byte(`{"httpMethod":"POST","body":"aGk=","isBase64Encoded":true,"multiValueHeaders":{"a":["1","2"]}}`))
	f.Add([]byte(`{"version":"2.0","requestContext":{"http":{"method":"PUT"}},"body":"plain text é","headers":{"X":"1"}}`))
	// Text bodies, which the event carries JSON-escaped: every escape, a
	// surrogate pair, lone surrogates, bytes that are not UTF-8.
	f.Add([]byte(`{"version":"2.0","requestContext":{"http":{"method":"POST"}},"body":"1\n00:00:00,640 --> 00:00:03,080\r\n\"a\" \\ \/ \b\f\t \u00e9 \ud83d\ude00 \ud800 \udc00x \ud800\u0041","headers":{"content-type":"text/plain"}}`))
	f.Add([]byte("{\"httpMethod\":\"POST\",\"body\":\"caf\xc3\xa9 \xff\xc3 \\n \xe2\x82\",\"isBase64Encoded\":false}"))
	f.Add([]byte(`{"httpMethod":"POST","body":"{\"format\":\"2.9\",\"results\":[]}\n","headers":{"Content-Type":"application/json"}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		if len(payload) > 64<<10 || !json.Valid(payload) {
			t.Skip()
		}
		// A buffer with another body's bytes in it, as a handler keeps
		// one between events.
		scratch := bytes.Repeat([]byte{'x'}, len(payload)+8)[:0]
		req, v2, _, ok := decodeFast(payload, scratch)
		if !ok {
			return
		}
		naive, nv2, err := decodeNaive(payload)
		if err != nil {
			t.Fatalf("the fast path took an event the naive path refuses: %v", err)
		}
		if v2 != nv2 {
			t.Fatalf("v2: fast %v, naive %v", v2, nv2)
		}
		sameRequest(t, req, naive)
	})
}

// TestFastDecodeBodies sends bodies at the edges of what the fast path
// takes: each is taken or left to the naive path as the test says, and
// what the fast path takes gives what the naive path gives.
func TestFastDecodeBodies(t *testing.T) {
	event := func(body string, b64 bool) []byte {
		return []byte(fmt.Sprintf(`{"version":"2.0","requestContext":{"http":{"method":"POST"}},"isBase64Encoded":%v,"body":"%s"}`, b64, body))
	}
	tests := []struct {
		name    string
		payload []byte
		fast    bool
	}{
		{"base64", event("aGVsbG8=", true), true},
		{"base64, two padding bytes", event("aGk=", true), true},
		{"base64, no padding", event("aGVsbG8h", true), true},
		{"base64 without its padding", event("aGVsbG8", true), false},
		{"base64 with an escaped line break", event(`aGVs\nbG8=`, true), false},
		{"base64 with an escaped slash", event(`aGVs\/G8=`, true), false},
		{"base64 with a raw line break", event("aGVs\nbG8=", true), false},
		{"base64 with a raw line break every 4", event("aGVs\nbG8h\nbG8h", true), false},
		{"base64 padding before the end", event("QQ==aGVsbG8=", true), false},
		{"not base64", event("aGV*bG8=", true), false},
		{"empty base64", event("", true), true},
		{"text", event("hello, world", false), true},
		{"text with escapes", event(`a\nb\t\"c\" \u00e9 \ud83d\ude00`, false), true},
		{"text with an escaped quote and a comma", event(`a\",\"b`, false), true},
		{"text ending in an escaped backslash", event(`a\\`, false), true},
		{"text that is not UTF-8", event("a\xffb", false), true},
		{"text with a control character", event("a\x01b", false), false},
		{"text with a lone surrogate", event(`\ud800x`, false), true},
		{"text with a NUL escape", event(`a\u0000b`, false), true},
		{"text with a NUL escape late", event(strings.Repeat("a", 5000)+`\n\u0000`, false), true},
		{"text with an escape late", event(strings.Repeat("a", 5000)+`\"`, false), true},
		{"text with an escaped quote late and a comma", event(strings.Repeat("a", 5000)+`\",\"b`, false), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, v2, _, ok := decodeFast(tt.payload, nil)
			if ok != tt.fast {
				t.Fatalf("fast path took it: got %v, want %v", ok, tt.fast)
			}
			naive, nv2, err := decodeNaive(tt.payload)
			if !ok {
				return
			}
			if err != nil || v2 != nv2 {
				t.Fatalf("the naive path: %v, v2 %v; want a request, v2 %v", err, nv2, v2)
			}
			sameRequest(t, req, naive)
		})
	}
}
