// Package httpserver is the net/http front door: the callback receiver as a
// plain HTTP server, for local runs, containers, and media too large for
// Lambda.
package httpserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/sourceip"
)

// Handler serves callbacks on every path, GET /healthz for load balancers
// and orchestrators, and GET /metrics for Prometheus.
type Handler struct {
	Service *callback.Service
	// MaxBodyBytes bounds a request's body: a longer one is answered 413.
	// Zero means no bound.
	MaxBodyBytes int64
	// BodyIdleTimeout cuts off a client whose body sends no byte for this
	// long; a slow upload that keeps moving is fine. Zero means no limit.
	BodyIdleTimeout time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For names the client.
	TrustedProxies *sourceip.List
	// Metrics, when set, serves GET /metrics, without authentication like
	// /healthz: the metrics hold no token, header value or body byte.
	Metrics http.Handler
}

var _ http.Handler = (*Handler)(nil)

// ServeHTTP handles one callback. The answer carries the request's generated
// ID in the X-Request-Id header.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		answerBy(w)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`)
		return
	}
	if r.URL.Path == "/metrics" && h.Metrics != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		answerBy(w)
		h.Metrics.ServeHTTP(w, r)
		return
	}
	var body io.Reader = r.Body
	if h.MaxBodyBytes > 0 {
		body = http.MaxBytesReader(w, r.Body, h.MaxBodyBytes)
	}
	if h.BodyIdleTimeout > 0 {
		body = &idleReader{r: body, rc: http.NewResponseController(w), timeout: h.BodyIdleTimeout}
	}
	// A request declaring no body has nothing left to read.
	read := &endReader{r: body, ended: r.ContentLength == 0}
	// Not the connection's context: net/http cancels it when the client
	// half-closes after its body, or gives up waiting for the answer, and a
	// callback read to its end is then stored and queued all the same (a
	// retry of it is a duplicate, which consumers expect). A body cut short
	// still fails on its own, as its reads do.
	resp := h.Service.Handle(context.WithoutCancel(r.Context()), &callback.Request{
		Method:    r.Method,
		RawQuery:  r.URL.RawQuery,
		Header:    r.Header,
		Body:      read,
		SourceIP:  sourceip.ClientIP(peerIP(r.RemoteAddr), r.Header.Values("X-Forwarded-For"), h.TrustedProxies),
		RequestID: newRequestID(),
	})
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	if !read.ended {
		// Answered before the body's end (refused, or cut off): the
		// answer goes out at once and the connection closes, rather than
		// net/http waiting, without a deadline, for up to 256 KiB more.
		w.Header().Set("Connection", "close")
		stopReading(r.Context())
	}
	answerBy(w)
	w.WriteHeader(resp.StatusCode)
	w.Write(resp.Body)
}

// writeTimeout bounds how long a client may take to take in an answer: one
// that never reads (pipelining requests it never reads the answers of, say)
// would otherwise hold its connection, and the server's shutdown, for good.
// A variable for the tests.
var writeTimeout = 10 * time.Second

// answerBy gives the answer about to be written writeTimeout to go out. It
// is set as the answer starts, not with the request, so that an upload of
// any length is not cut off at its end.
func answerBy(w http.ResponseWriter) {
	// An error means the connection takes no deadlines (a test recorder).
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(writeTimeout))
}

// idleReader moves the connection's read deadline forward before each read,
// so that a body stalls out after timeout without bounding the whole upload.
type idleReader struct {
	r       io.Reader
	rc      *http.ResponseController
	timeout time.Duration
}

func (i *idleReader) Read(p []byte) (int, error) {
	// An error here means the connection cannot take deadlines (an
	// HTTP/2 test recorder, say): read without one.
	i.rc.SetReadDeadline(time.Now().Add(i.timeout))
	n, err := i.r.Read(p)
	if err != nil {
		// The body is read: a deadline left behind would cut off the
		// connection while the callback is still being stored.
		i.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// endReader records whether the body was read to its end.
type endReader struct {
	r     io.Reader
	ended bool
}

func (e *endReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.ended = true
	}
	return n, err
}

func peerIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

// newRequestID returns 16 random bytes in hex.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails: crypto/rand panics rather than return short
	return hex.EncodeToString(b[:])
}

// readHeaderTimeout cuts off a client that is slow to send its headers:
// Speechmatics itself times out awaiting ours, so a sender slower than this
// is not Speechmatics. A variable for the tests.
var readHeaderTimeout = 10 * time.Second

// shutdownGrace is how long callbacks in flight may take to finish after the
// server is told to stop.
const shutdownGrace = 25 * time.Second

// Serve answers on ln until ctx is done, then stops accepting and lets the
// callbacks in flight finish. A connection is kept alive between requests
// for keepAlive (at least readHeaderTimeout): behind a load balancer,
// longer than the balancer's own idle timeout, so that the server never
// closes a connection the balancer is about to reuse (a 502 to the sender).
func Serve(ctx context.Context, ln net.Listener, h http.Handler, keepAlive time.Duration, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       max(keepAlive, readHeaderTimeout),
		ConnContext:       withConn,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(stoppableListener{ln}) }()
	logger.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing callbacks in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
