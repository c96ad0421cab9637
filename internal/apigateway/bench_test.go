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
	"mime/multipart"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"smcallbacks/internal/auth"
	"smcallbacks/internal/benchtable"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
)

// BenchmarkEvent times the handler's whole path, event bytes in, objects and
// event out to sinks that keep nothing, against its floor: the least any
// handler must do with the same bytes. For a base64 body that is decoding it
// into a buffer allocated beforehand and hashing the result with SHA-256; for
// a text body, which the event carries JSON-escaped, hashing the decoded
// bytes (unescaping them is the handler's cost, not the floor's). The two are
// timed interleaved (benchtable.Interleave) over BENCH_ROUNDS rounds, 41 by
// default, so that the machine's noise falls on both alike; each case is one
// row of `make bench`'s table, with its goal. It measures once whatever
// b.N: run it with -benchtime 1x.
func BenchmarkEvent(b *testing.B) {
	h := benchHandler(b)
	rounds := benchRounds(b)
	for _, c := range benchCases(b) {
		b.Run(c.name, func(b *testing.B) {
			row, ok := measured[c.name]
			if !ok {
				row = measure(b, h, c, rounds)
				measured[c.name] = row
				benchtable.Record(b, row)
			}
			b.ReportMetric(0, "ns/op") // the wall time per b.N says nothing here
			b.ReportMetric(row.HandlerMs, "ms-handler")
			b.ReportMetric(row.FloorMs, "ms-floor")
			b.ReportMetric(row.Ratio, "x-floor")
			b.ReportMetric(row.AllocPerBody, "alloc/body")
		})
	}
}

// measured keeps each case's row once taken, so that a run with more than
// one b.N neither measures nor records it twice.
var measured = map[string]benchtable.Row{}

func measure(b *testing.B, h *Handler, c benchCase, rounds int) benchtable.Row {
	// Check once that the handler stores the callback: a handler that
	// refuses it would be fast for nothing.
	out, err := h.Invoke(context.Background(), c.payload)
	if err != nil || !strings.Contains(string(out), `"statusCode":200`) {
		b.Fatalf("got %s, %v, want a 200 response", out, err)
	}
	handler := benchtable.Local(func() { h.Invoke(context.Background(), c.payload) })
	floor := benchtable.Local(floorOf(c))
	n := benchtable.Batch(handler, 10*time.Millisecond)
	samples := benchtable.Interleave(rounds, n, handler, floor)
	row := benchtable.Compare(c.name, samples[0], samples[1])
	row.AllocPerBody = allocPerCall(func() { h.Invoke(context.Background(), c.payload) }) / float64(len(c.body))
	row.Goal, row.AllocGoal = c.goal, c.allocGoal
	return row
}

// allocPerCall returns the bytes that fn allocates per call, over a few
// calls.
func allocPerCall(fn func()) float64 {
	const calls = 10
	fn()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range calls {
		fn()
	}
	runtime.ReadMemStats(&after)
	return float64(after.TotalAlloc-before.TotalAlloc) / calls
}

// floorOf returns the floor of case c: the base64 body decoded, as it
// stands in the payload, into a buffer allocated once, and hashed; or a
// text body's decoded bytes hashed.
func floorOf(c benchCase) func() {
	if !c.base64 {
		return func() { sha256.Sum256(c.body) }
	}
	dst := make([]byte, base64.StdEncoding.DecodedLen(len(c.raw)))
	return func() {
		n, _ := base64.StdEncoding.Decode(dst, c.raw)
		sha256.Sum256(dst[:n])
	}
}

func benchHandler(tb testing.TB) *Handler {
	return &Handler{Service: callbacktest.NewService(tb, callback.Config{
		Auth:   auth.NewChecker([]auth.Credential{{Name: "Authorization", Value: "Bearer test-token-0123456789"}}),
		Store:  discardStore{},
		Queue:  discardQueue{},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})}
}

// benchRounds is BENCH_ROUNDS, 41 by default.
func benchRounds(tb testing.TB) int {
	v := os.Getenv("BENCH_ROUNDS")
	if v == "" {
		return 41
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("BENCH_ROUNDS: want a positive number of rounds, got %q", v)
	}
	return n
}

// benchCase is one event of the benchmark and the goal its handler is held
// to (0: none, the row is for reference).
type benchCase struct {
	name    string
	payload []byte
	body    []byte // decoded
	raw     []byte // the body string's contents in the payload, for a base64 body
	base64  bool
	goal    float64
	// allocGoal bounds the handler's allocations per decoded body byte.
	allocGoal float64
}

// The goals: a base64 body within 1.2 times its floor and 1.3
// times its size in allocations, a text body within twice its floor; held
// at 4 MiB, the size they were set for, where fixed costs no longer count.
const (
	base64Goal      = 1.2
	base64AllocGoal = 1.3
	textGoal        = 2.0
)

func benchCases(tb testing.TB) []benchCase {
	transcript := callbacktest.Fixture(tb, "transcript-json-v2-example.json")
	jobinfo := callbacktest.Fixture(tb, "jobinfo.json")
	srt := callbacktest.Fixture(tb, "transcript-srt-excerpt.srt")
	txt := callbacktest.Fixture(tb, "transcript-txt-example.txt")
	multipartCase := func(size int, v2 bool) benchCase {
		body, ct := form(tb, transcript, jobinfo, media(size-len(transcript)-len(jobinfo)), "audio/wav")
		return newCase(tb, fmt.Sprintf("%s multipart %s base64", sizeName(size), version(v2)), v2, ct, body, true)
	}
	textCase := func(kind string, size int, v2 bool, ct string, body []byte) benchCase {
		return newCase(tb, fmt.Sprintf("%s %s %s text", sizeName(size), kind, version(v2)), v2, ct, body, false)
	}
	const mib = 1 << 20
	var cases []benchCase
	for _, size := range []int{64 << 10, mib} {
		cases = append(cases, multipartCase(size, true))
	}
	for _, v2 := range []bool{true, false} {
		c := multipartCase(4*mib, v2)
		c.goal, c.allocGoal = base64Goal, base64AllocGoal
		cases = append(cases, c)
	}
	c := newCase(tb, "4MiB media v2 base64", true, "application/octet-stream", media(4*mib), true)
	c.goal, c.allocGoal = base64Goal, base64AllocGoal
	cases = append(cases, c)
	for _, size := range []int{64 << 10, mib} {
		cases = append(cases, textCase("SRT", size, true, "text/plain", repeat(srt, size)))
	}
	for _, tc := range []benchCase{
		textCase("SRT", 4*mib, true, "text/plain", repeat(srt, 4*mib)),
		textCase("SRT", 4*mib, false, "text/plain", repeat(srt, 4*mib)),
		textCase("txt", 4*mib, true, "text/plain", repeat(txt, 4*mib)),
		textCase("JSON transcript", 4*mib, true, "application/json", bigTranscript(tb, transcript, 4*mib)),
		textCase("JSON transcript", 4*mib, false, "application/json", bigTranscript(tb, transcript, 4*mib)),
	} {
		tc.goal = textGoal
		cases = append(cases, tc)
	}
	return cases
}

func newCase(tb testing.TB, name string, v2 bool, contentType string, body []byte, b64 bool) benchCase {
	payload := benchEvent(tb, v2, contentType, body, b64)
	c := benchCase{name: name, payload: payload, body: body, base64: b64}
	if b64 {
		enc := []byte(base64.StdEncoding.EncodeToString(body))
		i := bytes.Index(payload, enc)
		if i < 0 {
			tb.Fatalf("%s: the base64 body is not in the payload as is", name)
		}
		c.raw = payload[i : i+len(enc)]
	}
	return c
}

func version(v2 bool) string {
	if v2 {
		return "v2"
	}
	return "v1"
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}

// media returns n bytes that look random enough to a multipart parser:
// every byte value, carriage returns included.
func media(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7919 + i>>8)
	}
	return b
}

func repeat(b []byte, n int) []byte { return bytes.Repeat(b, n/len(b)+1)[:n] }

// bigTranscript returns a json-v2 transcript of at least n bytes, indented
// as Speechmatics sends them: the fixture with its results repeated.
func bigTranscript(tb testing.TB, fixture []byte, n int) []byte {
	var t map[string]any
	if err := json.Unmarshal(fixture, &t); err != nil {
		tb.Fatal(err)
	}
	results := t["results"].([]any)
	var all []any
	for {
		all = append(all, results...)
		t["results"] = all
		b, err := json.MarshalIndent(t, "", "  ")
		if err != nil {
			tb.Fatal(err)
		}
		if len(b) >= n {
			return b
		}
		if len(all) == len(results) { // jump close to n, then step
			per := len(b) / len(results)
			for len(all)*per < n*9/10 {
				all = append(all, results...)
			}
		}
	}
}

func form(tb testing.TB, transcript, jobinfo, last []byte, lastType string) ([]byte, string) {
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
			tb.Fatal(err)
		}
		pw.Write(p.data)
	}
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// benchEvent is the event API Gateway sends for a callback with this body:
// an HTTP API (v2) or REST API (v1) proxy event.
func benchEvent(tb testing.TB, v2 bool, contentType string, body []byte, b64 bool) []byte {
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
		tb.Fatal(err)
	}
	return p
}

// discardStore and discardQueue keep nothing, so that the benchmarks count
// the handler's work and allocations alone. The store still reads each
// object, as a real one sends it.
type discardStore struct{}

func (discardStore) Put(_ context.Context, obj *callback.Object) error {
	_, err := io.Copy(io.Discard, obj.Body)
	return err
}

type discardQueue struct{}

func (discardQueue) Send(context.Context, *callback.Event) error { return nil }
