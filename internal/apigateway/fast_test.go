package apigateway

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"

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
	fb, ferr := io.ReadAll(fast.Body)
	nb, nerr := io.ReadAll(naive.Body)
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
			req, v2, ok := decodeFast(ev.Payload)
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
		{"escape in the body", `{"version":"2.0","requestContext":{"http":{"method":"POST"}},"body":"a\nb"}`},
		{"body twice", base + `"body":"` + body + `","body":"` + body + `"}`},
		{"body in another case", base + `"Body":"` + body + `"}`},
		{"escaped key", base + `"bod\u0079":"` + body + `"}`},
		{"line break in base64", base + `"body":"aGVs` + "\n" + `bG8="}`},
		{"padding before the end", base + `"body":"QQ==aGVsbG8="}`},
		{"control character in text", `{"version":"2.0","requestContext":{"http":{"method":"POST"}},"body":"a` + "\x01" + `b"}`},
		{"invalid UTF-8", `{"version":"2.0","requestContext":{"http":{"method":"POST"}},"body":"a` + "\xff" + `b"}`},
		{"no body", `{"version":"2.0","requestContext":{"http":{"method":"POST"}}}`},
		{"body not a string", base + `"body":null}`},
		{"not an object", `["body"]`},
		{"trailing garbage", base + `"body":"` + body + `"} x`},
		{"broken rest", base + `"body":"` + body + `", "headers": {]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, ok := decodeFast([]byte(tt.event)); ok {
				t.Error("the fast path took it, want the naive path")
			}
		})
	}
}

func TestBase64Reader(t *testing.T) {
	data := []byte(strings.Repeat("0123456789abcdef", 1000) + "xyz")
	enc := base64.StdEncoding.EncodeToString(data)
	for _, size := range []int{1, 2, 3, 4, 5, 7, 4096} {
		r := &base64Reader{src: []byte(enc)}
		var got []byte
		buf := make([]byte, size)
		for {
			n, err := r.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("reads of %d: %v", size, err)
			}
		}
		if string(got) != string(data) {
			t.Errorf("reads of %d: got %d bytes, want %d", size, len(got), len(data))
		}
	}
	if _, err := io.ReadAll(&base64Reader{src: []byte("aGVs*G8=")}); err == nil {
		t.Error("bad base64: got nil, want an error")
	}
}

// FuzzFastDecode compares the two paths on every valid JSON event the
// fuzzer makes: the fast path either declines or gives what the naive path
// gives.
func FuzzFastDecode(f *testing.F) {
	for _, ev := range callbacktest.SampleEvents(f) {
		f.Add(ev.Payload)
	}
	f.Add([]byte(`{"httpMethod":"POST","body":"aGk=","isBase64Encoded":true,"multiValueHeaders":{"a":["1","2"]}}`))
	f.Add([]byte(`{"version":"2.0","requestContext":{"http":{"method":"PUT"}},"body":"plain text é","headers":{"X":"1"}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		if len(payload) > 64<<10 || !json.Valid(payload) {
			t.Skip()
		}
		req, v2, ok := decodeFast(payload)
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
