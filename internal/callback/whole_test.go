package callback_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
)

// wholeBody is a body held whole in memory, as the Lambda door hands on the
// bodies it decodes at once.
type wholeBody struct {
	*bytes.Reader
	b []byte
}

func (w wholeBody) Whole() ([]byte, bool) { return w.b, true }

// textBody is a wholeBody that its door knows to be UTF-8 text without NUL.
type textBody struct{ wholeBody }

func (textBody) UTF8Text() bool { return true }

var _ callback.TextBody = textBody{}

// outcome is what handling a body came to: the answer, and what was stored
// and queued.
type outcome struct {
	code        int
	answer      string
	objects     map[string]callbacktest.StoredObject
	attachments []callback.Attachment
}

// handleBody handles body as a stream, or held whole, with the door's word
// that it is UTF-8 text when text.
func handleBody(t *testing.T, dir string, hdr http.Header, body []byte, whole, text bool) outcome {
	t.Helper()
	svc, store, queue := fuzzService(t, dir)
	req := &callback.Request{Method: "POST", RawQuery: "id=job&status=success", Header: hdr, Body: bytes.NewReader(body)}
	switch {
	case whole && text:
		req.Body = textBody{wholeBody{bytes.NewReader(body), body}}
	case whole:
		req.Body = wholeBody{bytes.NewReader(body), body}
	}
	resp := svc.Handle(context.Background(), req)
	o := outcome{code: resp.StatusCode, answer: string(resp.Body), objects: store.Objects()}
	if evs := queue.Events(); len(evs) > 0 {
		o.attachments = evs[0].Attachments
	}
	return o
}

// checkWholeAsStream handles body as a stream and held whole (with the
// door's word that it is text, when it is), and fails unless each comes to
// what the stream comes to: answer, objects and event. It returns the
// stream's outcome.
func checkWholeAsStream(t *testing.T, dir string, hdr http.Header, body []byte) outcome {
	t.Helper()
	stream := handleBody(t, dir, hdr, body, false, false)
	sameOutcome(t, stream, handleBody(t, dir, hdr, body, true, false))
	if utf8.Valid(body) && bytes.IndexByte(body, 0) < 0 {
		sameOutcome(t, stream, handleBody(t, dir, hdr, body, true, true))
	}
	return stream
}

func sameOutcome(t *testing.T, stream, whole outcome) {
	t.Helper()
	if stream.code != whole.code || stream.answer != whole.answer {
		t.Fatalf("held whole, the body got %d %s, want %d %s as a stream", whole.code, whole.answer, stream.code, stream.answer)
	}
	if !reflect.DeepEqual(stream.attachments, whole.attachments) {
		t.Fatalf("held whole, the event lists %+v, want %+v as a stream", whole.attachments, stream.attachments)
	}
	for key, s := range stream.objects {
		w, ok := whole.objects[key]
		if !ok || !bytes.Equal(w.Bytes, s.Bytes) || w.ContentType != s.ContentType || w.Content != s.Content || w.SHA256 != s.SHA256 {
			t.Fatalf("held whole, %s is stored differently (or not at all) than as a stream", key)
		}
	}
	if len(whole.objects) != len(stream.objects) {
		t.Fatalf("held whole, %d objects are stored, want %d as a stream", len(whole.objects), len(stream.objects))
	}
}

// TestWholeBodyAsStream sends bodies that try every rule of the multipart
// framing, held whole and as a stream: each comes to the same both ways,
// the truncated ones to a refusal.
func TestWholeBodyAsStream(t *testing.T) {
	for _, tt := range truncationCases() {
		t.Run(tt.name, func(t *testing.T) {
			hdr := http.Header{"Authorization": {token}, "Content-Type": {"multipart/form-data; boundary=XB"}}
			if got := checkWholeAsStream(t, t.TempDir(), hdr, []byte(tt.body)); got.code != tt.wantCode {
				t.Errorf("got %d %s, want %d", got.code, got.answer, tt.wantCode)
			}
		})
	}
	for _, tt := range framingCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			hdr := http.Header{"Authorization": {token}, "Content-Type": {tt.contentType}}
			if got := checkWholeAsStream(t, t.TempDir(), hdr, tt.body); got.code != tt.wantCode {
				t.Errorf("got %d %s, want %d", got.code, got.answer, tt.wantCode)
			}
		})
	}
}

type framingCase struct {
	name        string
	contentType string
	body        []byte
	wantCode    int
}

// framingCases are bodies at the edges of mime/multipart's rules, and
// bodies whose parts outgrow memory.
func framingCases(t *testing.T) []framingCase {
	const ct = "multipart/form-data; boundary=XB"
	part := func(name, data string) string {
		return "--XB\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + data + "\r\n"
	}
	long := strings.Repeat("p", 5000)
	large := bytes.Repeat([]byte{0, 1, 2, 250}, 4<<20+1) // past memoryLimit
	largeBody, largeCT := multipartBody(t, formPart{"data", "a.wav", "audio/wav", large}, formPart{"jobinfo", "", "application/json", fixture(t, "jobinfo.json")})
	var many strings.Builder
	for i := range 101 {
		many.WriteString(part(fmt.Sprint("p", i), "x"))
	}
	return []framingCase{
		{"a part that starts with the delimiter", ct, []byte(part("a", "") + "--XB\r\n\r\nb\r\n--XB--"), 200},
		{"a part that starts with the delimiter and more", ct, []byte(part("a", "--XBx") + "--XB--\r\n"), 200},
		{"a delimiter followed by other bytes", ct, []byte(part("a", "x\r\n--XBy\r\n--XB-y") + "--XB--\r\n"), 200},
		{"a delimiter followed by white space", ct, []byte(part("a", "x") + "--XB \t\r\n\r\ny\r\n--XB--"), 200},
		{"a preamble line past the buffer", ct, []byte(long + "\r\n" + part("a", "x") + "--XB--"), 400},
		{"a preamble line just within the buffer", ct, []byte(long[:4094] + "\r\n" + part("a", "x") + "--XB--"), 200},
		{"a line past the buffer between parts", ct, []byte(part("a", "x") + long), 400},
		{"a continued header line", ct, []byte("--XB\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\nx\r\n--XB--"), 200},
		{"a header line without a colon", ct, []byte("--XB\r\nContent-Disposition\r\n\r\nx\r\n--XB--"), 400},
		{"a part without headers", ct, []byte("--XB\r\n\r\nx\r\n--XB--"), 200},
		{"headers that end with the body", ct, []byte("--XB\r\nX-A: b"), 400},
		{"LF only, a part that starts with the delimiter", ct, []byte("--XB\n\n--XB\n\nx\n--XB--\n"), 200},
		{"LF after CRLF", ct, []byte(part("a", "x") + "--XB\n\ny\r\n--XB--"), 400},
		{"too many parts", ct, []byte(many.String() + "--XB--"), 400},
		{"an epilogue within the limit", ct, []byte(part("a", "x") + "--XB--\r\n" + strings.Repeat("e", 60<<10)), 200},
		{"an epilogue past the limit", ct, []byte(part("a", "x") + "--XB--\r\n" + strings.Repeat("e", 70<<10)), 400},
		{"a quoted boundary with a space", `multipart/form-data; boundary="a b"`, []byte("--a b\r\n\r\nx\r\n--a b--"), 200},
		{"a boundary past RFC 2046's length", "multipart/form-data; boundary=" + strings.Repeat("b", 80),
			[]byte("--" + strings.Repeat("b", 80) + "\r\n\r\nx\r\n--" + strings.Repeat("b", 80) + "--"), 200},
		{"a part past memoryLimit", largeCT, largeBody, 200},
		{"a part past memoryLimit, cut", largeCT, largeBody[:len(largeBody)/2], 400},
		{"a single body past memoryLimit", "audio/wav", large, 200},
		{"a single JSON transcript", "application/json", fixture(t, "transcript-json-v2-example.json"), 200},
		{"a single SRT body", "", fixture(t, "transcript-srt-excerpt.srt"), 200},
		{"an empty body", ct, nil, 200},
		{"multipart without a boundary", "multipart/form-data", []byte("x"), 400},
	}
}
