package callback_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"smcallbacks/internal/auth"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
)

const token = "Bearer s3cr3t-t0ken"

type harness struct {
	cfg   callback.Config
	store *callbacktest.Store
	queue *callbacktest.Queue
	logs  *bytes.Buffer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{store: &callbacktest.Store{}, queue: &callbacktest.Queue{}, logs: &bytes.Buffer{}}
	h.cfg = callback.Config{
		Auth:     auth.NewChecker([]auth.Credential{{Name: "Authorization", Value: token}}),
		Store:    h.store,
		Queue:    h.queue,
		Bucket:   "test-bucket",
		SpoolDir: t.TempDir(),
		Logger:   slog.New(slog.NewJSONHandler(h.logs, nil)),
		Now:      func() time.Time { return time.Date(2026, 11, 27, 10, 0, 0, 0, time.FixedZone("CET", 3600)) },
	}
	return h
}

// service builds the Service from the harness's Config as the test has
// changed it.
func (h *harness) service(t testing.TB) *callback.Service {
	return callbacktest.NewService(t, h.cfg)
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type formPart struct {
	name, fileName, contentType string
	data                        []byte
}

func multipartBody(t testing.TB, parts ...formPart) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disposition := fmt.Sprintf("form-data; name=%q", p.name)
		if p.fileName != "" {
			disposition += fmt.Sprintf("; filename=%q", p.fileName)
		}
		h.Set("Content-Disposition", disposition)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		pw.Write(p.data)
	}
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// request builds an authorized POST for job r6sr3jlzjj.
func request(query, contentType string, body []byte) *callback.Request {
	h := http.Header{}
	h.Set("Authorization", token)
	h.Set("User-Agent", "Speechmatics-API/2.0")
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &callback.Request{
		Method: http.MethodPost, RawQuery: query, Header: h, Body: bytes.NewReader(body),
		SourceIP: "203.0.113.7", RequestID: "req-1",
	}
}

const query = "id=r6sr3jlzjj&status=success"

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestHandleStoresEveryAttachment(t *testing.T) {
	h := newHarness(t)
	transcript, jobinfo, wav := fixture(t, "transcript-json-v2-example.json"), fixture(t, "jobinfo.json"), fixture(t, "media.wav")
	body, ct := multipartBody(t,
		formPart{"transcript", "", "application/json", transcript},
		formPart{"jobinfo", "", "application/json", jobinfo},
		formPart{"data", "meeting.wav", "audio/wav", wav},
	)
	resp := h.service(t).Handle(context.Background(), request(query, ct, body))

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d %s, want 200", resp.StatusCode, resp.Body)
	}
	wantKeys := []string{"r6sr3jlzjj/transcript.json", "r6sr3jlzjj/jobinfo.json", "r6sr3jlzjj/data/meeting.wav"}
	got := decode[struct{ Stored []string }](t, resp.Body)
	if !reflect.DeepEqual(got.Stored, wantKeys) {
		t.Errorf("stored: got %v, want %v", got.Stored, wantKeys)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", ct)
	}
	if id := resp.Header.Get("X-Request-Id"); id != "req-1" {
		t.Errorf("X-Request-Id: got %q, want req-1", id)
	}

	objects := h.store.Objects()
	for key, want := range map[string]struct {
		data           []byte
		content, ctype string
	}{
		wantKeys[0]: {transcript, "transcript.json-v2", "application/json"},
		wantKeys[1]: {jobinfo, "jobinfo", "application/json"},
		wantKeys[2]: {wav, "data", "audio/wav"},
	} {
		o, ok := objects[key]
		if !ok {
			t.Errorf("%s: not stored", key)
			continue
		}
		if !bytes.Equal(o.Bytes, want.data) {
			t.Errorf("%s: stored bytes differ from the bytes sent", key)
		}
		if o.Content != want.content || o.ContentType != want.ctype || o.JobID != "r6sr3jlzjj" || o.Status != "success" {
			t.Errorf("%s: got content %q, type %q, job %q, status %q, want %q, %q, r6sr3jlzjj, success",
				key, o.Content, o.ContentType, o.JobID, o.Status, want.content, want.ctype)
		}
	}

	events := h.queue.Events()
	if len(events) != 1 {
		t.Fatalf("got %d events, want 1", len(events))
	}
	wantEvent := `{"version":1,"job_id":"r6sr3jlzjj","status":"success","received_at":"2026-11-27T09:00:00Z",` +
		`"request_id":"req-1","source_ip":"203.0.113.7","user_agent":"Speechmatics-API/2.0","attachments":[` +
		`{"content":"transcript.json-v2","bucket":"test-bucket","key":"r6sr3jlzjj/transcript.json","content_type":"application/json","size":12557,"sha256":"` + sha(transcript) + `"},` +
		`{"content":"jobinfo","bucket":"test-bucket","key":"r6sr3jlzjj/jobinfo.json","content_type":"application/json","size":116,"sha256":"` + sha(jobinfo) + `"},` +
		`{"content":"data","bucket":"test-bucket","key":"r6sr3jlzjj/data/meeting.wav","content_type":"audio/wav","size":3244,"sha256":"` + sha(wav) + `"}]}`
	b, _ := json.Marshal(events[0])
	if string(b) != wantEvent {
		t.Errorf("event:\ngot  %s\nwant %s", b, wantEvent)
	}
	callbacktest.CheckEventSchema(t, b)
}

func TestHandleSingleBodies(t *testing.T) {
	tests := []struct {
		name, contentType, file string
		wantKey, wantType       string
	}{
		{"json-v2 transcript", "application/json", "transcript-json-v2-example.json", "r6sr3jlzjj/transcript.json", "application/json"},
		{"jobinfo", "application/json", "jobinfo.json", "r6sr3jlzjj/jobinfo.json", "application/json"},
		{"srt", "text/plain", "transcript-srt-excerpt.srt", "r6sr3jlzjj/transcript.srt", "text/plain"},
		{"txt", "text/plain; charset=utf-8", "transcript-txt-example.txt", "r6sr3jlzjj/transcript.txt", "text/plain; charset=utf-8"},
		{"raw media", "application/octet-stream", "media.wav", "r6sr3jlzjj/data/media.bin", "application/octet-stream"},
		{"untyped text", "", "transcript-txt-example.txt", "r6sr3jlzjj/transcript.txt", "text/plain; charset=utf-8"},
		{"other json", "application/json", "job-status-example.json", "r6sr3jlzjj/other/part-1", "application/json"},
		{"multipart/mixed is one attachment", "multipart/mixed; boundary=x", "transcript-txt-example.txt", "r6sr3jlzjj/other/part-1", "multipart/mixed; boundary=x"},
		{"unparsable parameters are kept", "text/plain; charset", "transcript-txt-example.txt", "r6sr3jlzjj/transcript.txt", "text/plain; charset"},
		{"unparsable type is kept", "audio/", "media.wav", "r6sr3jlzjj/other/part-1", "audio/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			data := fixture(t, tt.file)
			resp := h.service(t).Handle(context.Background(), request(query, tt.contentType, data))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("got %d %s, want 200", resp.StatusCode, resp.Body)
			}
			o, ok := h.store.Objects()[tt.wantKey]
			if !ok {
				t.Fatalf("got objects %v, want %s", keys(h.store.Objects()), tt.wantKey)
			}
			if !bytes.Equal(o.Bytes, data) || o.ContentType != tt.wantType {
				t.Errorf("got %d bytes of %q, want the %d bytes sent, of %q", len(o.Bytes), o.ContentType, len(data), tt.wantType)
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestHandleStatusOnly(t *testing.T) {
	for _, tt := range []struct {
		name        string
		body        io.Reader
		contentType string
	}{
		{"no body", nil, ""},
		{"empty body", strings.NewReader(""), ""},
		{"empty multipart body", strings.NewReader(""), "multipart/form-data; boundary=x"},
		{"multipart body without parts", strings.NewReader("--x--\r\n"), "multipart/form-data; boundary=x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			req := request("id=r6sr3jlzjj&status=error", tt.contentType, nil)
			req.Body = tt.body
			resp := h.service(t).Handle(context.Background(), req)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("got %d %s, want 200", resp.StatusCode, resp.Body)
			}
			if want := `{"job_id":"r6sr3jlzjj","status":"error","request_id":"req-1","stored":[]}`; string(resp.Body) != want {
				t.Errorf("got %s, want %s", resp.Body, want)
			}
			events := h.queue.Events()
			if len(events) != 1 {
				t.Fatalf("got %d events, want 1", len(events))
			}
			b, _ := json.Marshal(events[0])
			if !bytes.Contains(b, []byte(`"attachments":[]`)) {
				t.Errorf("got event %s, want empty attachments", b)
			}
			callbacktest.CheckEventSchema(t, b)
			if n := len(h.store.Objects()); n != 0 {
				t.Errorf("got %d objects, want 0", n)
			}
		})
	}
}

func TestHandleSameKeyTwice(t *testing.T) {
	a, b, c := fixture(t, "transcript-json-v2-example.json"), fixture(t, "transcript-json-v2-sdk-test-fixture.json"), fixture(t, "transcript-json-v2-real-capture-vcon.json")
	tests := []struct {
		name     string
		parts    []formPart
		wantKeys []string
	}{
		{"identical bytes are stored once",
			[]formPart{{"transcript", "", "application/json", a}, {"transcript.json-v2", "", "application/json", a}},
			[]string{"r6sr3jlzjj/transcript.json"}},
		{"different bytes get numbered keys",
			[]formPart{{"transcript", "", "application/json", a}, {"transcript", "", "application/json", b}, {"data_file", "", "application/json", c}},
			[]string{"r6sr3jlzjj/transcript.json", "r6sr3jlzjj/transcript-2.json", "r6sr3jlzjj/transcript-3.json"}},
		{"a repeat of a numbered one is stored once",
			[]formPart{{"transcript", "", "", a}, {"transcript", "", "", b}, {"transcript", "", "", b}},
			[]string{"r6sr3jlzjj/transcript.json", "r6sr3jlzjj/transcript-2.json"}},
		{"media files of one name",
			[]formPart{{"data", "a.wav", "audio/wav", a}, {"data", "a.wav", "audio/wav", b}},
			[]string{"r6sr3jlzjj/data/a.wav", "r6sr3jlzjj/data/a-2.wav"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			body, ct := multipartBody(t, tt.parts...)
			resp := h.service(t).Handle(context.Background(), request(query, ct, body))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("got %d %s, want 200", resp.StatusCode, resp.Body)
			}
			var gotKeys []string
			for _, a := range h.queue.Events()[0].Attachments {
				gotKeys = append(gotKeys, a.Key)
			}
			if !reflect.DeepEqual(gotKeys, tt.wantKeys) {
				t.Errorf("got %v, want %v", gotKeys, tt.wantKeys)
			}
			if n := len(h.store.Objects()); n != len(tt.wantKeys) {
				t.Errorf("got %d objects, want %d", n, len(tt.wantKeys))
			}
		})
	}
}

func TestHandleKeyPrefix(t *testing.T) {
	h := newHarness(t)
	h.cfg.KeyPrefix = "transcripts/"
	resp := h.service(t).Handle(context.Background(), request(query, "application/json", fixture(t, "jobinfo.json")))
	if _, ok := h.store.Objects()["transcripts/r6sr3jlzjj/jobinfo.json"]; resp.StatusCode != 200 || !ok {
		t.Errorf("got %d and objects %v, want 200 and transcripts/r6sr3jlzjj/jobinfo.json", resp.StatusCode, keys(h.store.Objects()))
	}
}

// TestHandleFailures covers every refusal and fault: the answer, and that
// nothing is queued unless everything is stored.
func TestHandleFailures(t *testing.T) {
	txt := fixture(t, "transcript-txt-example.txt")
	good, goodType := multipartBody(t, formPart{"transcript.txt", "", "text/plain", txt}, formPart{"jobinfo", "", "application/json", fixture(t, "jobinfo.json")})
	tests := []struct {
		name        string
		change      func(h *harness, r *callback.Request)
		ctx         func() context.Context
		wantCode    int
		wantMessage string
		wantObjects int
	}{
		{name: "GET", change: func(_ *harness, r *callback.Request) { r.Method = http.MethodGet },
			wantCode: 405, wantMessage: "method not allowed: use POST or PUT"},
		{name: "PUT is a callback too", change: func(_ *harness, r *callback.Request) { r.Method = http.MethodPut },
			wantCode: 200, wantObjects: 2},
		{name: "address not allowed", change: func(h *harness, _ *callback.Request) { h.cfg.Sources = allowOnly("40.74.41.91") },
			wantCode: 403, wantMessage: "forbidden: this address may not send callbacks"},
		{name: "address not allowed comes before auth", change: func(h *harness, r *callback.Request) {
			h.cfg.Sources = allowOnly("40.74.41.91")
			r.Header.Del("Authorization")
		}, wantCode: 403, wantMessage: "forbidden: this address may not send callbacks"},
		{name: "address allowed", change: func(h *harness, r *callback.Request) {
			h.cfg.Sources = allowOnly("40.74.41.91")
			r.SourceIP = "40.74.41.91"
		}, wantCode: 200, wantObjects: 2},
		{name: "method comes before address", change: func(h *harness, r *callback.Request) {
			h.cfg.Sources = allowOnly("40.74.41.91")
			r.Method = http.MethodGet
		}, wantCode: 405, wantMessage: "method not allowed: use POST or PUT"},
		{name: "part headers too large", change: func(_ *harness, r *callback.Request) {
			body, ct := multipartBody(t, formPart{"transcript.txt", "", "text/plain; x=" + strings.Repeat("a", 17<<10), []byte("x")})
			r.Body = bytes.NewReader(body)
			r.Header.Set("Content-Type", ct)
		}, wantCode: 400, wantMessage: "part 1: headers too large: at most 16384 bytes"},
		{name: "file name too long", change: func(_ *harness, r *callback.Request) {
			body, ct := multipartBody(t, formPart{"data", strings.Repeat("a", 1025) + ".wav", "audio/wav", []byte("x")})
			r.Body = bytes.NewReader(body)
			r.Header.Set("Content-Type", ct)
		}, wantCode: 400, wantMessage: "part 1: name too long: at most 1024 bytes"},
		{name: "part Content-Type too long", change: func(_ *harness, r *callback.Request) {
			body, ct := multipartBody(t, formPart{"transcript.txt", "", "text/plain; x=" + strings.Repeat("a", 250), []byte("x")})
			r.Body = bytes.NewReader(body)
			r.Header.Set("Content-Type", ct)
		}, wantCode: 400, wantMessage: "part 1: Content-Type too long: at most 256 bytes"},
		{name: "a later part's Content-Type too long stores nothing", change: func(_ *harness, r *callback.Request) {
			body, ct := multipartBody(t, formPart{"transcript.txt", "", "text/plain", txt},
				formPart{"jobinfo", "", "application/json; x=" + strings.Repeat("a", 250), []byte("{}")})
			r.Body = bytes.NewReader(body)
			r.Header.Set("Content-Type", ct)
		}, wantCode: 400, wantMessage: "part 2: Content-Type too long: at most 256 bytes"},
		{name: "part Content-Type at the bound", change: func(_ *harness, r *callback.Request) {
			body, ct := multipartBody(t, formPart{"transcript.txt", "", "text/plain; x=" + strings.Repeat("a", 256-len("text/plain; x=")), txt})
			r.Body = bytes.NewReader(body)
			r.Header.Set("Content-Type", ct)
		}, wantCode: 200, wantObjects: 1},
		{name: "body Content-Type too long", change: func(_ *harness, r *callback.Request) {
			r.Body = bytes.NewReader(txt)
			r.Header.Set("Content-Type", "text/plain; x="+strings.Repeat("a", 250))
		}, wantCode: 400, wantMessage: "Content-Type too long: at most 256 bytes"},
		{name: "no auth header", change: func(_ *harness, r *callback.Request) { r.Header.Del("Authorization") },
			wantCode: 401, wantMessage: "unauthorized"},
		{name: "wrong token", change: func(_ *harness, r *callback.Request) { r.Header.Set("Authorization", "Bearer nope") },
			wantCode: 401, wantMessage: "unauthorized"},
		{name: "token as a prefix", change: func(_ *harness, r *callback.Request) { r.Header.Set("Authorization", token+"x") },
			wantCode: 401, wantMessage: "unauthorized"},
		{name: "empty auth header", change: func(_ *harness, r *callback.Request) { r.Header.Set("Authorization", "") },
			wantCode: 401, wantMessage: "unauthorized"},
		{name: "token differs in its last byte", change: func(_ *harness, r *callback.Request) { r.Header.Set("Authorization", token[:len(token)-1]+"m") },
			wantCode: 401, wantMessage: "unauthorized"},
		{name: "token one byte short", change: func(_ *harness, r *callback.Request) { r.Header.Set("Authorization", token[:len(token)-1]) },
			wantCode: 401, wantMessage: "unauthorized"},
		{name: "scheme in another case", change: func(_ *harness, r *callback.Request) { r.Header.Set("Authorization", "bearer"+token[6:]) },
			wantCode: 401, wantMessage: "unauthorized"},
		{name: "token under another header", change: func(_ *harness, r *callback.Request) {
			r.Header.Del("Authorization")
			r.Header.Set("X-Authorization", token)
		}, wantCode: 401, wantMessage: "unauthorized"},
		{name: "auth header twice", change: func(_ *harness, r *callback.Request) { r.Header.Add("Authorization", token) },
			wantCode: 401, wantMessage: "unauthorized"},
		{name: "no credentials loaded yet", change: func(h *harness, _ *callback.Request) { h.cfg.Auth = &auth.Checker{} },
			wantCode: 503, wantMessage: "authentication is not available yet, retry later"},
		{name: "missing id", change: func(_ *harness, r *callback.Request) { r.RawQuery = "status=success" },
			wantCode: 400, wantMessage: `missing query parameter "id"`},
		{name: "invalid Content-Type", change: func(_ *harness, r *callback.Request) { r.Header.Set("Content-Type", "multipart/form-data; boundary") },
			wantCode: 400, wantMessage: "invalid Content-Type header"},
		{name: "multipart without boundary", change: func(_ *harness, r *callback.Request) { r.Header.Set("Content-Type", "multipart/form-data") },
			wantCode: 400, wantMessage: "multipart/form-data without a boundary"},
		{name: "wrong boundary", change: func(_ *harness, r *callback.Request) {
			r.Header.Set("Content-Type", "multipart/form-data; boundary=other")
		},
			wantCode: 400, wantMessage: "malformed or truncated multipart body"},
		{name: "truncated multipart", change: func(_ *harness, r *callback.Request) { r.Body = bytes.NewReader(good[:len(good)-20]) },
			wantCode: 400, wantMessage: "request body could not be read: malformed or truncated"},
		{name: "body read error", change: func(_ *harness, r *callback.Request) {
			r.Body = io.MultiReader(bytes.NewReader(good[:len(good)/2]), errReader{})
		},
			wantCode: 400, wantMessage: "request body could not be read: malformed or truncated"},
		{name: "store fails", change: func(h *harness, _ *callback.Request) { h.store.Err = errors.New("disk on fire") },
			wantCode: 503, wantMessage: "could not store the callback, retry later"},
		{name: "one of two puts fails", change: func(h *harness, _ *callback.Request) {
			h.store.PutHook = func(_ context.Context, o *callback.Object) error {
				if o.Content == "jobinfo" {
					return errors.New("disk on fire")
				}
				return nil
			}
		}, wantCode: 503, wantMessage: "could not store the callback, retry later", wantObjects: 1},
		{name: "queue fails", change: func(h *harness, _ *callback.Request) { h.queue.Err = errors.New("queue on fire") },
			wantCode: 503, wantMessage: "could not queue the callback event, retry later", wantObjects: 2},
		{name: "deadline passed", ctx: func() context.Context {
			ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
			cancel()
			return ctx
		}, wantCode: 503, wantMessage: "timed out, retry later", wantObjects: 0},
		{name: "store panics", change: func(h *harness, _ *callback.Request) {
			h.store.PutHook = func(context.Context, *callback.Object) error { panic("disk on fire") }
		}, wantCode: 500, wantMessage: "internal error"},
		{name: "body too large", change: func(_ *harness, r *callback.Request) {
			r.Body = http.MaxBytesReader(nil, io.NopCloser(r.Body), 100)
		}, wantCode: 413, wantMessage: "request body too large: at most 100 bytes"},
		{name: "too many parts", change: func(_ *harness, r *callback.Request) {
			var b bytes.Buffer
			w := multipart.NewWriter(&b)
			for range 101 {
				w.CreateFormField("x")
			}
			w.Close()
			r.Body = &b
			r.Header.Set("Content-Type", w.FormDataContentType())
		}, wantCode: 400, wantMessage: "too many parts: at most 100"},
		{name: "auth panics", change: func(h *harness, _ *callback.Request) { h.cfg.Auth = panicAuth{} },
			wantCode: 500, wantMessage: "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			req := request(query, goodType, good)
			if tt.change != nil {
				tt.change(h, req)
			}
			ctx := context.Background()
			if tt.ctx != nil {
				h.store.PutHook = func(ctx context.Context, _ *callback.Object) error { return ctx.Err() }
				ctx = tt.ctx()
			}
			resp := h.service(t).Handle(ctx, req)
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, resp.Body, tt.wantCode)
			}
			if n := len(h.store.Objects()); n != tt.wantObjects {
				t.Errorf("got %d objects stored, want %d", n, tt.wantObjects)
			}
			wantEvents := 0
			if tt.wantCode == http.StatusOK {
				wantEvents = 1
			}
			if n := len(h.queue.Events()); n != wantEvents {
				t.Errorf("got %d events, want %d", n, wantEvents)
			}
			if tt.wantCode == http.StatusOK {
				return
			}
			if got := decode[map[string]string](t, resp.Body); len(got) != 1 || got["error"] != tt.wantMessage {
				t.Errorf("got body %s, want only the error %q", resp.Body, tt.wantMessage)
			}
			if tt.wantCode == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != "POST, PUT" {
				t.Errorf("Allow: got %q, want %q", resp.Header.Get("Allow"), "POST, PUT")
			}
		})
	}
}

// allowOnly is a SourcePolicy of fixed addresses.
type allowOnly string

func (a allowOnly) Allows(ip string) bool { return ip == string(a) }

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

type panicAuth struct{}

func (panicAuth) Authenticate(http.Header) error { panic("auth on fire") }

// TestHandleUnauthorizedReadsNothing checks that a refused caller's body is
// never read.
func TestHandleUnauthorizedReadsNothing(t *testing.T) {
	h := newHarness(t)
	req := request(query, "text/plain", nil)
	req.Header.Set("Authorization", "Bearer wrong")
	var reads atomic.Int32
	req.Body = countingReader{&reads}
	if resp := h.service(t).Handle(context.Background(), req); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("got %d, want 401", resp.StatusCode)
	}
	if n := reads.Load(); n != 0 {
		t.Errorf("got %d body reads, want 0", n)
	}
}

type countingReader struct{ n *atomic.Int32 }

func (r countingReader) Read(p []byte) (int, error) {
	r.n.Add(1)
	return 0, io.EOF
}

// TestHandleWritesInParallel holds every Put until all three are under way:
// written one after another, the callback would time out instead.
func TestHandleWritesInParallel(t *testing.T) {
	h := newHarness(t)
	var started atomic.Int32
	all := make(chan struct{})
	h.store.PutHook = func(ctx context.Context, _ *callback.Object) error {
		if started.Add(1) == 3 {
			close(all)
		}
		select {
		case <-all:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	body, ct := multipartBody(t,
		formPart{"transcript.txt", "", "text/plain", []byte("one")},
		formPart{"transcript.srt", "", "text/plain", []byte("two")},
		formPart{"jobinfo", "", "application/json", []byte(`{"id":"x","created_at":"y"}`)},
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if resp := h.service(t).Handle(ctx, request(query, ct, body)); resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d %s, want 200", resp.StatusCode, resp.Body)
	}
}

// TestHandleLargeAttachment sends an attachment too large for memory: it is
// stored byte for byte, and its temporary file is gone afterwards.
func TestHandleLargeAttachment(t *testing.T) {
	h := newHarness(t)
	media := make([]byte, 20<<20)
	for i := range media {
		media[i] = byte(i * 7 % 251)
	}
	body, ct := multipartBody(t, formPart{"data", "big.mp4", "video/mp4", media})
	if resp := h.service(t).Handle(context.Background(), request(query, ct, body)); resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d %s, want 200", resp.StatusCode, resp.Body)
	}
	if o := h.store.Objects()["r6sr3jlzjj/data/big.mp4"]; !bytes.Equal(o.Bytes, media) {
		t.Errorf("got %d bytes stored, want the %d sent", len(o.Bytes), len(media))
	}
	if left, _ := os.ReadDir(h.cfg.SpoolDir); len(left) != 0 {
		t.Errorf("got %d files left in the spool directory, want 0", len(left))
	}
}

func TestHandleLogLine(t *testing.T) {
	secretBody := "SPEAKER S1: the launch code is 0000"
	tests := []struct {
		name        string
		req         func() *callback.Request
		wantLevel   string
		wantOutcome float64
		wantFields  map[string]any
	}{
		{"stored", func() *callback.Request {
			return request(query, "text/plain", []byte(secretBody))
		}, "INFO", 200, map[string]any{"job_id": "r6sr3jlzjj", "status": "success", "request_id": "req-1", "source_ip": "203.0.113.7"}},
		{"unknown status", func() *callback.Request {
			return request("id=r6sr3jlzjj&status=brand_new", "text/plain", []byte(secretBody))
		}, "WARN", 200, map[string]any{"status": "brand_new", "unknown_status": true}},
		{"refused", func() *callback.Request {
			r := request(query, "text/plain", []byte(secretBody))
			r.Header.Set("Authorization", "Bearer guessed-"+token)
			return r
		}, "WARN", 401, map[string]any{"job_id": "r6sr3jlzjj", "error": "unauthorized"}},
		{"malformed part header quoting the body", func() *callback.Request {
			return request(query, "multipart/form-data; boundary=b", []byte("--b\r\nthe launch code is 0000\r\n\r\nx\r\n--b--\r\n"))
		}, "WARN", 400, map[string]any{"error": "malformed or truncated multipart body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.service(t).Handle(context.Background(), tt.req())
			lines := strings.Split(strings.TrimSpace(h.logs.String()), "\n")
			if len(lines) != 1 {
				t.Fatalf("got %d log lines, want 1:\n%s", len(lines), h.logs)
			}
			if strings.Contains(lines[0], "s3cr3t") || strings.Contains(lines[0], "launch code") {
				t.Errorf("log line carries a secret or body bytes: %s", lines[0])
			}
			got := decode[map[string]any](t, []byte(lines[0]))
			if got["level"] != tt.wantLevel || got["outcome"] != tt.wantOutcome || got["msg"] != "callback" {
				t.Errorf("got level %v, outcome %v, msg %v, want %s, %v, callback", got["level"], got["outcome"], got["msg"], tt.wantLevel, tt.wantOutcome)
			}
			for k, want := range tt.wantFields {
				if got[k] != want {
					t.Errorf("%s: got %v, want %v", k, got[k], want)
				}
			}
			if _, ok := got["duration_ms"].(float64); !ok {
				t.Errorf("duration_ms: got %v, want a number", got["duration_ms"])
			}
		})
	}
}

func TestDeduplicationID(t *testing.T) {
	ev := func(status string, atts ...callback.Attachment) *callback.Event {
		return &callback.Event{JobID: "r6sr3jlzjj", Status: status, RequestID: "differs", Attachments: atts}
	}
	a := callback.Attachment{Content: "alignment", SHA256: "bb", Key: "k1"}
	b := callback.Attachment{Content: "alignment.one_per_line", SHA256: "aa", Key: "k2"}
	c := callback.Attachment{Content: "alignment", SHA256: "aa", Key: "k3"}
	// The text hashed: job, status, then content:sha256 lines sorted by content, then sha256.
	want := sha([]byte("r6sr3jlzjj\nsuccess\nalignment:aa\nalignment:bb\nalignment.one_per_line:aa\n"))
	if got := ev("success", a, b, c).DeduplicationID(); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got := ev("success", b, c, a).DeduplicationID(); got != want {
		t.Errorf("order of attachments: got %s, want %s", got, want)
	}
	if ev("error", a, b, c).DeduplicationID() == want {
		t.Error("another status gave the same ID")
	}
	if got, want := ev("error").DeduplicationID(), sha([]byte("r6sr3jlzjj\nerror\n")); got != want {
		t.Errorf("status only: got %s, want %s", got, want)
	}
}

// TestHandlePanicKeepsServing panics inside a request: the answer is 500,
// the log says why, and the next request is served.
func TestHandlePanicKeepsServing(t *testing.T) {
	h := newHarness(t)
	var calls atomic.Int32
	h.store.PutHook = func(context.Context, *callback.Object) error {
		if calls.Add(1) == 1 {
			var m map[string]int
			m["boom"]++ // a nil map write: a real bug, not a panic(…) call
		}
		return nil
	}
	body := fixture(t, "transcript-txt-example.txt")
	if resp := h.service(t).Handle(context.Background(), request(query, "text/plain", body)); resp.StatusCode != 500 || string(resp.Body) != `{"error":"internal error"}` {
		t.Fatalf("got %d %s, want 500 internal error", resp.StatusCode, resp.Body)
	}
	if !strings.Contains(h.logs.String(), "assignment to entry in nil map") || !strings.Contains(h.logs.String(), `"outcome":500`) {
		t.Errorf("the log does not say what panicked: %s", h.logs)
	}
	if resp := h.service(t).Handle(context.Background(), request(query, "text/plain", body)); resp.StatusCode != 200 {
		t.Errorf("next request: got %d %s, want 200", resp.StatusCode, resp.Body)
	}
}

// TestHostileNames sends names built to escape the job's prefix or to fool
// a reader: every object lands below the prefix under a plain ASCII name.
func TestHostileNames(t *testing.T) {
	names := []string{
		"../../../etc/passwd", `..\..\windows\system32`, "/abs/olute", "a/../../b", "..", ".", "",
		"\u202etxt.exe", "a\x00b", "line\nbreak", "tab\there", "\x7f", "．．／etc", "..\u2215etc",
		"con", "name with spaces.wav", strings.Repeat("é", 300) + ".mp3",
	}
	h := newHarness(t)
	h.cfg.KeyPrefix = "p/"
	for i, name := range names {
		body, ct := multipartBody(t,
			formPart{name, name, "audio/wav", []byte("media " + name)},
			formPart{name, "", "text/html", []byte("other " + name)},
		)
		req := request(fmt.Sprintf("id=job%d&status=success", i), ct, body)
		if resp := h.service(t).Handle(context.Background(), req); resp.StatusCode != http.StatusOK {
			t.Fatalf("%q: got %d %s, want 200", name, resp.StatusCode, resp.Body)
		}
	}
	if n := len(h.store.Objects()); n != 2*len(names) {
		t.Errorf("got %d objects, want %d: one per part", n, 2*len(names))
	}
	for key, o := range h.store.Objects() {
		job, rest, _ := strings.Cut(strings.TrimPrefix(key, "p/"), "/")
		if !strings.HasPrefix(key, "p/job") || o.JobID != job || rest == "" {
			t.Errorf("key %q is outside its job's prefix", key)
		}
		for _, elem := range strings.Split(rest, "/") {
			if elem == "" || strings.HasPrefix(elem, ".") {
				t.Errorf("key %q has the element %q", key, elem)
			}
		}
		for _, r := range key {
			if r < 0x21 || r > 0x7e || r == '\\' {
				t.Errorf("key %q has the character %U", key, r)
			}
		}
	}
	for _, id := range []string{"..%2F..%2Fetc", "%2E%2E", "a%00b", "a%0Ab", "%E2%80%AEabc", "%EF%BC%8E%EF%BC%8E", "-rf", "a/b"} {
		req := request("id="+id+"&status=success", "text/plain", []byte("x"))
		if resp := h.service(t).Handle(context.Background(), req); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("id=%s: got %d, want 400", id, resp.StatusCode)
		}
	}
}

// putOnly hides the streaming of a Store: large parts then wait in files.
type putOnly struct{ s *callbacktest.Store }

func (p putOnly) Put(ctx context.Context, obj *callback.Object) error { return p.s.Put(ctx, obj) }

func TestHandleLargeAttachmentPaths(t *testing.T) {
	media := make([]byte, 20<<20)
	for i := range media {
		media[i] = byte(i * 13 % 251)
	}
	body, ct := multipartBody(t,
		formPart{"jobinfo", "", "application/json", fixture(t, "jobinfo.json")},
		formPart{"data", "big.mp4", "video/mp4", media},
	)
	tests := []struct {
		name        string
		streaming   bool
		body        []byte
		putErr      error
		wantCode    int
		wantObjects int
		wantAborted int
	}{
		{"streamed", true, body, nil, 200, 2, 0},
		{"in a temporary file", false, body, nil, 200, 2, 0},
		{"streamed, then the body is cut", true, body[:len(body)-1000], nil, 400, 0, 1},
		{"in a file, then the body is cut", false, body[:len(body)-1000], nil, 400, 0, 0},
		{"streamed, then the store fails", true, body, errors.New("disk on fire"), 503, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if !tt.streaming {
				h.cfg.Store = putOnly{h.store}
			}
			if tt.putErr != nil {
				h.store.PutHook = func(context.Context, *callback.Object) error { return tt.putErr }
			}
			resp := h.service(t).Handle(context.Background(), request(query, ct, tt.body))
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, resp.Body, tt.wantCode)
			}
			objects := h.store.Objects()
			if len(objects) != tt.wantObjects || h.store.Aborted() != tt.wantAborted {
				t.Errorf("got %d objects, %d uploads aborted, want %d and %d", len(objects), h.store.Aborted(), tt.wantObjects, tt.wantAborted)
			}
			if tt.wantCode == 200 && !bytes.Equal(objects["r6sr3jlzjj/data/big.mp4"].Bytes, media) {
				t.Error("the media stored differs from the media sent")
			}
			if left, _ := os.ReadDir(h.cfg.SpoolDir); len(left) != 0 {
				t.Errorf("got %d files left in the spool directory, want 0", len(left))
			}
			if tt.wantCode == 200 {
				ev := h.queue.Events()[0]
				if len(ev.Attachments) != 2 || ev.Attachments[1].SHA256 != sha(media) || ev.Attachments[1].Size != int64(len(media)) {
					t.Errorf("got attachments %+v, want the media's size and hash", ev.Attachments)
				}
			}
		})
	}
}

// TestLargePartClassified checks that a large part is classified by its
// head and type alike whether it streams or waits in a file.
func TestLargePartClassified(t *testing.T) {
	media := bytes.Repeat([]byte{0, 1, 2, 250}, 5<<20)
	body, ct := multipartBody(t, formPart{"media", "", "video/mp4", media})
	for _, streaming := range []bool{true, false} {
		h := newHarness(t)
		if !streaming {
			h.cfg.Store = putOnly{h.store}
		}
		if resp := h.service(t).Handle(context.Background(), request(query, ct, body)); resp.StatusCode != 200 {
			t.Fatalf("streaming %v: got %d %s", streaming, resp.StatusCode, resp.Body)
		}
		if _, ok := h.store.Objects()["r6sr3jlzjj/data/media.mp4"]; !ok {
			t.Errorf("streaming %v: got %v, want r6sr3jlzjj/data/media.mp4", streaming, keys(h.store.Objects()))
		}
	}
}
