package apigateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"smcallbacks/internal/auth"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
)

// The handler's whole path, event bytes in, objects and event out to sinks
// that keep nothing, against two references measured in the same run: the
// floor (base64-decode and SHA-256 the body, nothing else) and the naive
// path (the event decoded into aws-lambda-go's structs, the body
// base64-decoded whole, split with mime/multipart, each part hashed).
// Each case reports its time and allocations as ratios: x-floor, x-naive,
// and alloc/body, the bytes allocated per decoded body byte.

type benchCase struct {
	name      string
	payload   []byte
	body      []byte // decoded
	base64    bool
	multipart bool
	v2        bool
}

func benchCases(b *testing.B) []benchCase {
	transcript := callbacktest.Fixture(b, "transcript-json-v2-example.json")
	jobinfo := callbacktest.Fixture(b, "jobinfo.json")
	srt := callbacktest.Fixture(b, "transcript-srt-excerpt.srt")
	var cases []benchCase
	for _, size := range []int{64 << 10, 1 << 20, 4 << 20} {
		for _, mp := range []bool{false, true} {
			for _, v2 := range []bool{true, false} {
				for _, b64 := range []bool{true, false} {
					var body []byte
					contentType := ""
					switch {
					case !mp && b64: // raw media
						body, contentType = media(size), "application/octet-stream"
					case !mp: // a text transcript
						body, contentType = repeat(srt, size), "text/plain"
					default:
						last, lastType := media(size-len(transcript)-len(jobinfo)), "audio/wav"
						if !b64 {
							last, lastType = repeat(srt, size-len(transcript)-len(jobinfo)), "text/plain"
						}
						body, contentType = form(b, transcript, jobinfo, last, lastType)
					}
					name := fmt.Sprintf("%s/%s/%s/%s", sizeName(size), pick(mp, "multipart", "single"), pick(v2, "v2", "v1"), pick(b64, "base64", "plain"))
					cases = append(cases, benchCase{name, benchEvent(b, v2, contentType, body, b64), body, b64, mp, v2})
				}
			}
		}
	}
	return cases
}

func pick(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}

func media(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7919 + i>>8)
	}
	return b
}

func repeat(b []byte, n int) []byte { return bytes.Repeat(b, n/len(b)+1)[:n] }

func form(b testing.TB, transcript, jobinfo, last []byte, lastType string) ([]byte, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range []struct {
		name, file, ctype string
		data              []byte
	}{{"transcript", "", "application/json", transcript}, {"jobinfo", "", "application/json", jobinfo}, {"data", "call.wav", lastType, last}} {
		h := make(map[string][]string)
		disposition := fmt.Sprintf("form-data; name=%q", p.name)
		if p.file != "" {
			disposition += fmt.Sprintf("; filename=%q", p.file)
		}
		h["Content-Disposition"] = []string{disposition}
		h["Content-Type"] = []string{p.ctype}
		pw, err := w.CreatePart(h)
		if err != nil {
			b.Fatal(err)
		}
		pw.Write(p.data)
	}
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

func benchEvent(b testing.TB, v2 bool, contentType string, body []byte, b64 bool) []byte {
	s := string(body)
	if b64 {
		s = base64.StdEncoding.EncodeToString(body)
	}
	headers := map[string]string{"authorization": "Bearer test-token-0123456789", "user-agent": "Speechmatics-API/2.0"}
	if contentType != "" {
		headers["content-type"] = contentType
	}
	var ev any
	if v2 {
		ev = events.APIGatewayV2HTTPRequest{Version: "2.0", RawQueryString: "id=r6sr3jlzjj&status=success", Headers: headers,
			RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "JKJaXmPLvHcESHA=",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", SourceIP: "40.74.41.91"}},
			Body: s, IsBase64Encoded: b64}
	} else {
		ev = events.APIGatewayProxyRequest{HTTPMethod: "POST", Headers: headers,
			QueryStringParameters: map[string]string{"id": "r6sr3jlzjj", "status": "success"},
			RequestContext:        events.APIGatewayProxyRequestContext{RequestID: "c6af9ac6", Identity: events.APIGatewayRequestIdentity{SourceIP: "40.74.41.91"}},
			Body:                  s, IsBase64Encoded: b64}
	}
	p, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// discardStore and discardQueue keep nothing, so that the benchmarks count
// the handler's work and allocations alone.
type discardStore struct{}

func (discardStore) Put(_ context.Context, obj *callback.Object) error {
	_, err := io.Copy(io.Discard, obj.Body)
	return err
}

type discardQueue struct{}

func (discardQueue) Send(context.Context, *callback.Event) error { return nil }

// floor base64-decodes and hashes the body: the least any path must do.
func floor(c benchCase) func() {
	bodyString := extractBody(c)
	return func() {
		var data []byte
		if c.base64 {
			data, _ = base64.StdEncoding.DecodeString(bodyString)
		} else {
			data = []byte(bodyString)
		}
		sha256.Sum256(data)
	}
}

func extractBody(c benchCase) string {
	var ev struct{ Body string }
	json.Unmarshal(c.payload, &ev)
	return ev.Body
}

// naive is the obvious handler: the event into aws-lambda-go's structs, the
// body decoded whole, multipart split by mime/multipart, each part hashed.
func naive(c benchCase) func() {
	return func() {
		var body string
		var b64 bool
		var headers map[string]string
		if c.v2 {
			var ev events.APIGatewayV2HTTPRequest
			json.Unmarshal(c.payload, &ev)
			body, b64, headers = ev.Body, ev.IsBase64Encoded, ev.Headers
		} else {
			var ev events.APIGatewayProxyRequest
			json.Unmarshal(c.payload, &ev)
			body, b64, headers = ev.Body, ev.IsBase64Encoded, ev.Headers
		}
		data := []byte(body)
		if b64 {
			data, _ = base64.StdEncoding.DecodeString(body)
		}
		h := http.Header{}
		for k, v := range headers {
			h.Set(k, v)
		}
		_, params, err := mime.ParseMediaType(h.Get("Content-Type"))
		if err != nil || params["boundary"] == "" {
			sha256.Sum256(data)
			return
		}
		r := multipart.NewReader(bytes.NewReader(data), params["boundary"])
		for {
			p, err := r.NextPart()
			if err != nil {
				return
			}
			hash := sha256.New()
			io.Copy(hash, p)
			hash.Sum(nil)
		}
	}
}

var (
	refMu  sync.Mutex
	refsNs = map[string]float64{}
)

// reference measures fn once per name and run: as many calls as take half
// a second, after one to warm up. (testing.Benchmark cannot run inside a
// benchmark.)
func reference(name string, fn func()) float64 {
	refMu.Lock()
	defer refMu.Unlock()
	if ns, ok := refsNs[name]; ok {
		return ns
	}
	fn()
	for n := 1; ; n *= 2 {
		start := time.Now()
		for range n {
			fn()
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			refsNs[name] = float64(d.Nanoseconds()) / float64(n)
			return refsNs[name]
		}
	}
}

func BenchmarkEvent(b *testing.B) {
	h := &Handler{Service: callbacktest.NewService(b, callback.Config{
		Auth:   auth.NewChecker([]auth.Credential{{Name: "Authorization", Value: "Bearer test-token-0123456789"}}),
		Store:  discardStore{},
		Queue:  discardQueue{},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})}
	for _, c := range benchCases(b) {
		b.Run(c.name, func(b *testing.B) {
			// Check once that the handler stores the callback.
			out, err := h.Invoke(context.Background(), c.payload)
			if err != nil || !strings.Contains(string(out), `"statusCode":200`) {
				b.Fatalf("got %s, %v", out, err)
			}
			floorNs := reference(c.name+"/floor", floor(c))
			naiveNs := reference(c.name+"/naive", naive(c))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.SetBytes(int64(len(c.body)))
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				h.Invoke(context.Background(), c.payload)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			runtime.ReadMemStats(&after)
			ns := float64(elapsed.Nanoseconds()) / float64(b.N)
			b.ReportMetric(ns/floorNs, "x-floor")
			b.ReportMetric(ns/naiveNs, "x-naive")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/float64(len(c.body)), "alloc/body")
		})
	}
}
