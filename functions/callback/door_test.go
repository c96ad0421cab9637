package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"smcallbacks/internal/mototest"
)

// These tests reproduce, over the real binary, the ways a door could
// acknowledge a partial callback or hold a connection.

// truncatedMultipart ends inside its second part's headers: the first part
// is whole, and no closing delimiter follows.
const truncatedMultipart = "--XB\r\nContent-Disposition: form-data; name=\"transcript\"\r\n\r\n{\"format\":\"2.9\",\"results\":[]}\r\n--XB\r\nContent-Disposition: form-data; name=\"jobinfo\""

func TestServerRefusesTruncatedMultipart(t *testing.T) {
	s := start(t)
	for _, tt := range []struct {
		name, body string
		want       int
	}{
		{"cut inside headers", truncatedMultipart, 400},
		{"cut after a delimiter", truncatedMultipart[:strings.LastIndex(truncatedMultipart, "Content-Disposition")], 400},
		{"complete", truncatedMultipart + "\r\n\r\n{}\r\n--XB--\r\n", 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "body")
			os.WriteFile(path, []byte(tt.body), 0o644)
			code, out := curl(t, "-H", authLine, "-H", "Content-Type: multipart/form-data; boundary=XB", "--data-binary", "@"+path, s.url+"/callback?id=t1&status=success")
			if code != tt.want {
				t.Errorf("got %d %s, want %d", code, out, tt.want)
			}
		})
	}
	if n := len(s.events(t)); n != 1 || s.objectCount(t) != 2 {
		t.Errorf("got %d events and %d objects, want those of the complete body alone: 1 and 2", n, s.objectCount(t))
	}
}

// TestServerEarlyAnswersDoNotHold opens 50 connections that declare a body
// they never send, with a wrong token: each is answered 401 and closed at
// once, and a real callback sent meanwhile is answered.
func TestServerEarlyAnswersDoNotHold(t *testing.T) {
	s := start(t)
	addr := strings.TrimPrefix(s.url, "http://")
	const headerTimeout = 10 * time.Second // readHeaderTimeout in server mode
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		framing := "Content-Length: 100000"
		if i%2 == 1 {
			framing = "Transfer-Encoding: chunked"
		}
		wg.Go(func() { errs <- answeredAndClosed(addr, framing, headerTimeout) })
	}
	time.Sleep(200 * time.Millisecond) // the 50 are connected
	code, out := curl(t, "-H", authLine, "-H", "Content-Type: application/json", "--data-binary", `{"id":"a","created_at":"b"}`, s.url+"/callback?id=ok&status=success")
	if code != 200 {
		t.Errorf("a valid callback among held connections: got %d %s, want 200", code, out)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// answeredAndClosed sends headers with a wrong token and a body it never
// sends, then expects a 401 and the connection's end within limit.
func answeredAndClosed(addr, framing string, limit time.Duration) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST /callback?id=x&status=success HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n%s\r\n\r\n", framing)
	conn.SetReadDeadline(start.Add(limit))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return fmt.Errorf("%s: no answer after %v: %v", framing, time.Since(start), err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		return fmt.Errorf("%s: got %d, want 401", framing, resp.StatusCode)
	}
	// The connection then ends: a read returns EOF (or a reset), not a
	// timeout.
	if _, err := conn.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		return fmt.Errorf("%s: connection still open %v after the request: %v", framing, time.Since(start), err)
	}
	return nil
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestServerClassifiesAfterLargeMedia sends three 16 MiB media parts, then
// a small json-v2 transcript under the legacy form name: the transcript is
// recognised as such though the callback's memory budget is spent.
func TestServerClassifiesAfterLargeMedia(t *testing.T) {
	s := start(t)
	dir := t.TempDir()
	media := filepath.Join(dir, "media.wav")
	os.WriteFile(media, bytes.Repeat([]byte{0, 1, 2, 3}, 4<<20), 0o644)
	transcript := filepath.Join(dir, "t.json")
	os.WriteFile(transcript, []byte(`{"format":"2.9","job":{},"results":[]}`), 0o644)
	args := []string{"-H", authLine}
	for i := range 3 {
		args = append(args, "-F", fmt.Sprintf("media%d=@%s;type=audio/wav", i, media))
	}
	args = append(args, "-F", "data_file=@"+transcript+";type=application/json", s.url+"/callback?id=big&status=success")
	if code, out := curl(t, args...); code != 200 {
		t.Fatalf("got %d %s, want 200", code, out)
	}
	var got []string
	for _, a := range s.events(t)[0].Attachments {
		got = append(got, a.Content+" "+a.Key)
	}
	if want := "transcript.json-v2 big/transcript.json"; got[len(got)-1] != want {
		t.Errorf("got %v, want the last to be %q", got, want)
	}
}

// TestServerStatusOnlyWithSlowSinks puts a delay longer than the body idle
// timeout in front of S3 and SQS: a body of 0, 1 or 2 bytes, read at once,
// is still stored and queued.
func TestServerStatusOnlyWithSlowSinks(t *testing.T) {
	moto := mototest.Get(t)
	proxy := moto.NewFaultProxy(t)
	proxy.Fail(func(*http.Request) *mototest.Fault { return &mototest.Fault{Delay: 2 * time.Second} })
	bucket, queueURL := moto.Bucket(t), moto.Queue(t, false)
	s := start(t, append(proxy.Env(), "BUCKET_NAME="+bucket, "QUEUE_URL="+queueURL, "BODY_IDLE_TIMEOUT=1s")...)
	var wg sync.WaitGroup
	for _, body := range []string{"", "a", "ab"} {
		wg.Go(func() {
			code, out := curl(t, "-H", authLine, "-H", "Content-Type: text/plain", "--data-binary", body, s.url+"/callback?id=slow&status=success")
			if code != 200 {
				t.Errorf("body of %d bytes: got %d %s, want 200", len(body), code, out)
			}
		})
	}
	wg.Wait()
	if n := len(moto.Messages(t, queueURL)); n != 3 {
		t.Errorf("got %d messages, want 3", n)
	}
}

// v2Event is an HTTP API event for a POST to /callback with query, the
// given headers and cookies, and body base64-encoded.
func v2Event(t *testing.T, query string, headers map[string]string, cookies []string, body string) []byte {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /callback", RawPath: "/callback", RawQueryString: query,
		Cookies: cookies, Headers: headers, Body: base64.StdEncoding.EncodeToString([]byte(body)), IsBase64Encoded: true,
	}
	ev.RequestContext.RequestID = "door-test"
	ev.RequestContext.HTTP.Method = "POST"
	ev.RequestContext.HTTP.SourceIP = "203.0.113.9"
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLambdaDoorDefects runs, under the emulator, a truncated multipart
// body (refused, nothing stored or queued) and an auth line for a cookie,
// which HTTP API events carry apart from the headers.
func TestLambdaDoorDefects(t *testing.T) {
	moto := mototest.Get(t)
	bucket, queueURL := moto.Bucket(t), moto.Queue(t, false)
	e := startEmulator(t, append(moto.Env(), "BUCKET_NAME="+bucket, "QUEUE_URL="+queueURL,
		"AUTH_HEADERS=Cookie: session=abc")...)
	multipartHeaders := map[string]string{"content-type": "multipart/form-data; boundary=XB"}
	tests := []struct {
		name    string
		payload []byte
		want    int
	}{
		{"truncated multipart", v2Event(t, "id=t1&status=success", multipartHeaders, []string{"session=abc"}, truncatedMultipart), 400},
		{"cookie among others", v2Event(t, "id=c1&status=success", nil, []string{"theme=dark", "session=abc"}, ""), 401},
		{"cookie alone", v2Event(t, "id=c1&status=success", nil, []string{"session=abc"}, ""), 200},
		{"wrong cookie", v2Event(t, "id=c1&status=success", nil, []string{"session=abd"}, ""), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, body := e.invoke(t, tt.payload); code != tt.want {
				t.Errorf("got %d %s, want %d", code, body, tt.want)
			}
		})
	}
	msgs := moto.Messages(t, queueURL)
	if len(msgs) != 1 || !strings.Contains(*msgs[0].Body, `"job_id":"c1"`) {
		t.Errorf("got %d messages, want the one of c1", len(msgs))
	}
	out, err := moto.S3().ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil || len(out.Contents) != 0 {
		t.Errorf("got %d objects (%v), want none: the truncated body stores nothing", len(out.Contents), err)
	}
}
