package callback_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"smcallbacks/internal/auth"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
)

// The fuzz targets' properties: no panic; no key outside the job's prefix;
// every 200 stored exactly the bytes sent, and every other answer stored and
// queued nothing. `make test` runs each briefly, `make fuzz` longer.

func fuzzService(t testing.TB, dir string) (*callback.Service, *callbacktest.Store, *callbacktest.Queue) {
	store, queue := &callbacktest.Store{}, &callbacktest.Queue{}
	return callbacktest.NewService(t, callback.Config{
		Auth:      auth.NewChecker([]auth.Credential{{Name: "Authorization", Value: token}}),
		Store:     store,
		Queue:     queue,
		KeyPrefix: "p/",
		SpoolDir:  dir,
		Logger:    slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}), store, queue
}

// checkKeys fails unless every stored key is a safe key below the job's
// prefix.
func checkKeys(t *testing.T, store *callbacktest.Store, job string) {
	t.Helper()
	for key := range store.Objects() {
		rest, ok := strings.CutPrefix(key, "p/"+job+"/")
		if !ok || rest == "" || strings.Contains(key, "\\") || strings.HasPrefix(rest, "/") || strings.HasSuffix(rest, "/") {
			t.Fatalf("key %q is outside p/%s/", key, job)
		}
		for _, elem := range strings.Split(rest, "/") {
			if elem == "" || elem == "." || elem == ".." || strings.HasPrefix(elem, ".") {
				t.Fatalf("key %q has the element %q", key, elem)
			}
		}
		if strings.IndexFunc(key, func(r rune) bool { return unicode.IsControl(r) || r > unicode.MaxASCII }) >= 0 {
			t.Fatalf("key %q has a control or non-ASCII character", key)
		}
	}
}

// checkNothingIfRefused fails when a refused callback stored or queued
// anything.
func checkNothingIfRefused(t *testing.T, code int, store *callbacktest.Store, queue *callbacktest.Queue) {
	t.Helper()
	if code != http.StatusOK && (len(store.Objects()) != 0 || len(queue.Events()) != 0) {
		t.Fatalf("answered %d, yet stored %d objects and queued %d events", code, len(store.Objects()), len(queue.Events()))
	}
	if code == http.StatusInternalServerError {
		t.Fatal("answered 500: a panic or an unexpected error")
	}
}

var (
	jobID  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)
	status = regexp.MustCompile(`^[a-z_]{1,32}$`)
)

// skipLarge skips inputs the mutator has grown past the seeds' size: each
// would take long, and large bodies have tests of their own.
func skipLarge(t *testing.T, data []byte) {
	if len(data) > 64<<10 {
		t.Skip()
	}
}

func FuzzQuery(f *testing.F) {
	for _, seed := range []string{"id=r6sr3jlzjj&status=success", "id=a&id=a&status=error", "id=%2e%2e&status=x", "status=success&id=1&token=abc", "id=a;status=b", "id=\x00&status=\xff"} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, raw string) {
		svc, store, queue := fuzzService(t, dir)
		h := http.Header{"Authorization": {token}}
		resp := svc.Handle(context.Background(), &callback.Request{Method: "POST", RawQuery: raw, Header: h, Body: strings.NewReader("SPEAKER S1: hi")})
		checkNothingIfRefused(t, resp.StatusCode, store, queue)
		if resp.StatusCode == http.StatusOK {
			ev := queue.Events()[0]
			if !jobID.MatchString(ev.JobID) || !status.MatchString(ev.Status) {
				t.Fatalf("accepted job %q, status %q from %q", ev.JobID, ev.Status, raw)
			}
			checkKeys(t, store, ev.JobID)
		}
	})
}

// FuzzMultipart sends a well-formed multipart body whose names, type and
// bytes are the fuzzer's, beside a real job info; and the same body cut
// short at a point of the fuzzer's before its closing delimiter's end,
// which must never be acknowledged.
func FuzzMultipart(f *testing.F) {
	for _, s := range []struct{ name, file, ctype, fixture string }{
		{"transcript", "", "application/json", "transcript-json-v2-example.json"},
		{"data_file", "transcript.json", "application/octet-stream", "transcript-json-v2-sdk-test-fixture.json"},
		{"jobinfo", "", "application/json", "jobinfo.json"},
		{"data", "../../etc/passwd", "audio/wav", "media.wav"},
		{"x", "C:\\a\\b.srt", "text/plain", "transcript-srt-excerpt.srt"},
		{"\u202etxt.exe", "\x00.", "", "transcript-txt-example.txt"},
	} {
		f.Add(s.name, s.file, s.ctype, callbacktest.Fixture(f, s.fixture), uint16(len(s.name)*97))
	}
	// A small second part: under the fuzzer's instrumentation every byte
	// of JSON parsed costs, and the fuzzed part brings enough.
	other := callbacktest.Fixture(f, "jobinfo.json")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, name, file, ctype string, data []byte, cut uint16) {
		skipLarge(t, data)
		if strings.ContainsAny(ctype, "\r\n") {
			t.Skip() // not a header value: the body would not say what the test thinks it sent
		}
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		h := textproto.MIMEHeader{}
		disposition := fmt.Sprintf("form-data; name=%q", name)
		if file != "" {
			disposition += fmt.Sprintf("; filename=%q", file)
		}
		h.Set("Content-Disposition", disposition)
		if ctype != "" {
			h.Set("Content-Type", ctype)
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Skip()
		}
		pw.Write(data)
		tw, _ := w.CreateFormField("jobinfo")
		tw.Write(other)
		w.Close()

		hdr := http.Header{"Authorization": {token}, "Content-Type": {w.FormDataContentType()}}
		checkCutRefused(t, dir, hdr, body.Bytes(), "--"+w.Boundary()+"--", int(cut))
		checkWholeAsStream(t, dir, hdr, body.Bytes())
		svc, store, queue := fuzzService(t, dir)
		resp := svc.Handle(context.Background(), &callback.Request{Method: "POST", RawQuery: "id=job&status=success", Header: hdr, Body: &body})
		checkNothingIfRefused(t, resp.StatusCode, store, queue)
		if resp.StatusCode != http.StatusOK {
			return
		}
		checkKeys(t, store, "job")
		// Every part is stored, byte for byte, under the key its event names.
		objects := store.Objects()
		var stored [][]byte
		for _, a := range queue.Events()[0].Attachments {
			stored = append(stored, objects[a.Key].Bytes)
		}
		found := func(b []byte) bool {
			for _, s := range stored {
				if bytes.Equal(s, b) {
					return true
				}
			}
			return false
		}
		if !found(data) || !found(other) {
			t.Fatalf("answered 200 but did not store both parts as sent")
		}
	})
}

// checkCutRefused sends body cut short somewhere before the end of its
// closing delimiter, and fails unless the answer is a refusal that
// changed nothing.
func checkCutRefused(t *testing.T, dir string, hdr http.Header, body []byte, closing string, cut int) {
	t.Helper()
	end := bytes.LastIndex(body, []byte(closing)) + len(closing)
	short := body[:cut%end]
	checkWholeAsStream(t, dir, hdr, short)
	svc, store, queue := fuzzService(t, dir)
	resp := svc.Handle(context.Background(), &callback.Request{Method: "POST", RawQuery: "id=job&status=success", Header: hdr, Body: bytes.NewReader(short)})
	if resp.StatusCode < 400 && len(short) > 0 {
		t.Fatalf("a body cut at %d of %d bytes got %d, want a refusal", len(short), len(body), resp.StatusCode)
	}
	checkNothingIfRefused(t, resp.StatusCode, store, queue)
}

// FuzzBody sends any body with any Content-Type: multipart splitting of
// arbitrary bytes included. Held whole, as the Lambda door hands bodies on,
// each body must come to what it comes to as a stream.
func FuzzBody(f *testing.F) {
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	w.SetBoundary("b0undary")
	fw, _ := w.CreateFormFile("transcript.srt", "t.srt")
	fw.Write(callbacktest.Fixture(f, "transcript-srt-excerpt.srt"))
	w.Close()
	f.Add("multipart/form-data; boundary=b0undary", mp.Bytes())
	f.Add("multipart/form-data; boundary=b0undary", mp.Bytes()[:mp.Len()/2])
	f.Add("application/json", callbacktest.Fixture(f, "transcript-json-v2-example.json"))
	f.Add("text/plain", callbacktest.Fixture(f, "transcript-txt-example.txt"))
	f.Add("", callbacktest.Fixture(f, "media.wav"))
	f.Add("multipart/form-data; boundary=\"a b\"", []byte("--a b\r\n\r\n\r\n--a b--"))
	f.Add("multipart/form-data; boundary=b", []byte("--b\n\n--b\n\nx\n--b-x\n--b--\n"))
	f.Add("multipart/form-data; boundary=b", []byte("pre\r\n--b \r\nA: 1\r\n 2\r\n\r\n--bx\r\n--b--\r\nepilogue"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, ctype string, data []byte) {
		skipLarge(t, data)
		hdr := http.Header{"Authorization": {token}, "Content-Type": {ctype}}
		checkWholeAsStream(t, dir, hdr, data)
		svc, store, queue := fuzzService(t, dir)
		resp := svc.Handle(context.Background(), &callback.Request{Method: "PUT", RawQuery: "id=job&status=success", Header: hdr, Body: bytes.NewReader(data)})
		checkNothingIfRefused(t, resp.StatusCode, store, queue)
		if resp.StatusCode != http.StatusOK {
			return
		}
		checkKeys(t, store, "job")
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ctype)), "multipart/form-data") && len(data) > 0 {
			atts := queue.Events()[0].Attachments
			if len(atts) != 1 || !bytes.Equal(store.Objects()[atts[0].Key].Bytes, data) {
				t.Fatalf("a single body was not stored as sent")
			}
		}
	})
}
