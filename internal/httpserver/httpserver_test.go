package httpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"smcallbacks/internal/auth"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/sourceip"
)

func newService(t *testing.T) (*callback.Service, *callbacktest.Store, *callbacktest.Queue) {
	store, queue := &callbacktest.Store{}, &callbacktest.Queue{}
	return callbacktest.NewService(t, callback.Config{
		Auth:     auth.NewChecker([]auth.Credential{{Name: "Authorization", Value: "Bearer t"}}),
		Store:    store,
		Queue:    queue,
		SpoolDir: t.TempDir(),
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}), store, queue
}

func TestHandler(t *testing.T) {
	svc, store, queue := newService(t)
	srv := httptest.NewServer(&Handler{Service: svc})
	defer srv.Close()
	transcript, err := os.ReadFile(filepath.Join("..", "callback", "testdata", "transcript-json-v2-example.json"))
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, _ := w.CreateFormFile("data_file", "transcript.json")
	fw.Write(transcript)
	w.Close()

	ids := map[string]bool{}
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/callback?id=r6sr3jlzjj&status=success", bytes.NewReader(body.Bytes()))
		req.Header.Set("Authorization", "Bearer t")
		req.Header.Set("Content-Type", w.FormDataContentType())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			RequestID string   `json:"request_id"`
			Stored    []string `json:"stored"`
		}
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(got.Stored) != 1 || got.Stored[0] != "r6sr3jlzjj/transcript.json" {
			t.Fatalf("got %d %+v, want 200 storing r6sr3jlzjj/transcript.json", resp.StatusCode, got)
		}
		id := resp.Header.Get("X-Request-Id")
		if len(id) != 32 || id != got.RequestID || ids[id] {
			t.Errorf("got X-Request-Id %q (body %q), want a fresh 32-hex id matching the body", id, got.RequestID)
		}
		ids[id] = true
	}
	if o := store.Objects()["r6sr3jlzjj/transcript.json"]; !bytes.Equal(o.Bytes, transcript) {
		t.Error("stored bytes differ from the bytes sent")
	}
	events := queue.Events()
	if len(events) != 2 || events[0].SourceIP != "127.0.0.1" {
		t.Errorf("got %d events from %q, want 2 from 127.0.0.1", len(events), events[0].SourceIP)
	}
}

func TestHandlerBodyLimit(t *testing.T) {
	svc, store, queue := newService(t)
	srv := httptest.NewServer(&Handler{Service: svc, MaxBodyBytes: 1000})
	defer srv.Close()
	for _, tt := range []struct {
		size     int
		wantCode int
	}{{1000, http.StatusOK}, {1001, http.StatusRequestEntityTooLarge}} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/?id=a&status=success", bytes.NewReader(bytes.Repeat([]byte("a"), tt.size)))
		req.Header.Set("Authorization", "Bearer t")
		req.Header.Set("Content-Type", "text/plain")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.wantCode {
			t.Errorf("%d bytes: got %d, want %d", tt.size, resp.StatusCode, tt.wantCode)
		}
	}
	if n, m := len(store.Objects()), len(queue.Events()); n != 1 || m != 1 {
		t.Errorf("got %d objects and %d events, want only the first callback's", n, m)
	}
}

// TestServeFinishesInFlight stops the server while a callback is being
// stored: the callback still completes with 200.
func TestServeFinishesInFlight(t *testing.T) {
	svc, store, _ := newService(t)
	entered, release := make(chan struct{}), make(chan struct{})
	store.PutHook = func(context.Context, *callback.Object) error {
		close(entered)
		<-release
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, ln, &Handler{Service: svc}, 0, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	}()

	answered := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/?id=a&status=success", bytes.NewReader([]byte("hello")))
		req.Header.Set("Authorization", "Bearer t")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	<-entered
	stop()
	// Release the callback only once the server has stopped accepting.
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		if i == 5000 {
			t.Fatal("the server still accepts connections after being stopped")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	if code := <-answered; code != http.StatusOK {
		t.Errorf("got %d, want 200 for the callback in flight", code)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: got %v, want nil", err)
	}
}

func TestHandlerForwardedFor(t *testing.T) {
	svc, _, queue := newService(t)
	trusted, _ := sourceip.Parse("127.0.0.1", false)
	srv := httptest.NewServer(&Handler{Service: svc, TrustedProxies: trusted})
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/?id=a&status=success", nil)
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("X-Forwarded-For", "198.51.100.1, 40.74.41.91")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if events := queue.Events(); len(events) != 1 || events[0].SourceIP != "40.74.41.91" {
		t.Errorf("got %+v, want one event from 40.74.41.91", events)
	}
}

// TestHandlerBodyIdle sends a body that stalls, then one that is slow but
// keeps moving: the first is cut off, the second stored.
func TestHandlerBodyIdle(t *testing.T) {
	svc, store, _ := newService(t)
	srv := httptest.NewServer(&Handler{Service: svc, BodyIdleTimeout: 500 * time.Millisecond})
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	// send declares 100 bytes and sends chunks of 10, gap apart.
	send := func(job string, chunks int, gap time.Duration) string {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /?id=%s&status=success HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n", job)
		for range chunks {
			conn.Write(bytes.Repeat([]byte("a"), 10))
			time.Sleep(gap)
		}
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		status, _ := bufio.NewReader(conn).ReadString('\n')
		return status
	}
	// 10 of 100 bytes, then silence: cut off.
	if got := send("stalled", 1, 0); !strings.Contains(got, " 400 ") {
		t.Errorf("stalled body: got %q, want 400", got)
	}
	// 100 bytes in 10 chunks, 80 ms apart, 800 ms in all: longer than the
	// idle timeout, but never idle for even a third of it.
	if got := send("slow", 10, 80*time.Millisecond); !strings.Contains(got, " 200 ") {
		t.Errorf("slow body: got %q, want 200", got)
	}
	if objects := store.Objects(); len(objects) != 1 || objects["slow/transcript.txt"].Size != 100 {
		t.Errorf("got %d objects, want only the slow body's", len(objects))
	}
}

// TestServeSlowHeaders cuts off a client that never finishes its headers.
func TestServeSlowHeaders(t *testing.T) {
	setFor(t, &readHeaderTimeout, 200*time.Millisecond)
	svc, _, _ := newService(t)
	addr, _ := serve(t, &Handler{Service: svc}, 0)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /?id=a&status=success HTTP/1.1\r\nHost: x\r\n") // and never the blank line
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err = io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept the connection of a client that never finished its headers")
	}
}

func TestHealthz(t *testing.T) {
	svc, _, queue := newService(t)
	srv := httptest.NewServer(&Handler{Service: svc})
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != `{"status":"ok"}` || len(queue.Events()) != 0 {
		t.Errorf("got %d %s, want 200 {\"status\":\"ok\"} and no callback", resp.StatusCode, b)
	}
}

// serve starts Serve on a port of its own, with keep-alive connections held
// for keepAlive, and returns its address and a function that stops it and
// returns what Serve returned.
func serve(t *testing.T, h *Handler, keepAlive time.Duration) (addr string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, h, keepAlive, slog.New(slog.NewJSONHandler(io.Discard, nil))) }()
	var once sync.Once
	var err2 error
	stop = func() error {
		once.Do(func() { cancel(); err2 = <-served })
		return err2
	}
	t.Cleanup(func() { stop() })
	return ln.Addr().String(), stop
}

// TestServeHalfClose: a client that closes its side once its body is sent,
// as some do, still has its callback stored and gets its answer; net/http
// cancels the request's context at that point, and the service must not
// take that for the client giving up.
func TestServeHalfClose(t *testing.T) {
	svc, store, queue := newService(t)
	// A store that takes its time, as S3 does, and gives up when told to.
	store.PutHook = func(ctx context.Context, _ *callback.Object) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
			return nil
		}
	}
	addr, _ := serve(t, &Handler{Service: svc}, 0)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /?id=a&status=success HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")
	conn.(*net.TCPConn).CloseWrite()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(store.Objects()) != 1 || len(queue.Events()) != 1 {
		t.Errorf("got %d, %d objects and %d events, want 200, 1 and 1", resp.StatusCode, len(store.Objects()), len(queue.Events()))
	}
}

// TestServeClientNeverReads: a client that sends requests and never reads
// the answers is cut off once an answer cannot go out within writeTimeout,
// rather than holding its connection, and the server's shutdown, for good.
func TestServeClientNeverReads(t *testing.T) {
	setFor(t, &writeTimeout, 200*time.Millisecond)
	svc, _, _ := newService(t)
	addr, stop := serve(t, &Handler{Service: svc}, 0)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Enough pipelined requests that their answers fill both sides' buffers.
	go func() {
		req := []byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		for range 1 << 20 {
			if _, err := conn.Write(req); err != nil {
				return
			}
		}
	}()
	time.Sleep(time.Second)
	if err := stop(); err != nil {
		t.Errorf("Serve: got %v, want nil: the connection that never reads held the shutdown", err)
	}
}

// TestServeKeepAlive: a connection idle between requests for longer than
// the header timeout, but within keepAlive, is still served; a load
// balancer reuses its connections so.
func TestServeKeepAlive(t *testing.T) {
	setFor(t, &readHeaderTimeout, 100*time.Millisecond)
	svc, _, _ := newService(t)
	addr, _ := serve(t, &Handler{Service: svc}, 10*time.Second)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	for i := range 2 {
		if i == 1 {
			time.Sleep(5 * readHeaderTimeout)
		}
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("request %d: got %d, want 200", i+1, resp.StatusCode)
		}
	}
}

// setFor sets *v to d for the test, and restores it once the servers the
// test starts after have stopped: cleanups run last first.
func setFor(t *testing.T, v *time.Duration, d time.Duration) {
	old := *v
	*v = d
	t.Cleanup(func() { *v = old })
}
