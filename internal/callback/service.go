package callback

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"smcallbacks/internal/metrics"
)

// maxParallelPuts bounds how many attachments of one callback are written at
// once.
const maxParallelPuts = 8

// Config is what a Service is built from: three dependencies, which New
// requires, and options.
type Config struct {
	Auth  Authenticator
	Store ObjectStore
	Queue EventQueue
	// Sources, when set, are the only addresses accepted; nil accepts any.
	Sources SourcePolicy
	// Bucket is recorded in each Attachment; empty for a store without
	// buckets.
	Bucket string
	// KeyPrefix goes, exactly as given, in front of every key.
	KeyPrefix string
	// SpoolDir holds attachments too large for memory; "" means os.TempDir().
	SpoolDir string
	// Logger gets one line per callback; nil means slog.Default().
	Logger *slog.Logger
	// Metrics gets the metrics of each callback (metrics.Receiver); nil
	// keeps none.
	Metrics metrics.Recorder
	// Now returns the time a callback is received; nil means time.Now.
	Now func() time.Time
}

// Service handles callbacks. It is safe for concurrent use.
type Service struct {
	c Config
}

// New returns a Service, or an error naming each missing dependency.
func New(c Config) (*Service, error) {
	var missing []string
	if c.Auth == nil {
		missing = append(missing, "an Authenticator")
	}
	if c.Store == nil {
		missing = append(missing, "an ObjectStore")
	}
	if c.Queue == nil {
		missing = append(missing, "an EventQueue")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("callback service: missing %s", strings.Join(missing, ", "))
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Metrics == nil {
		c.Metrics = metrics.Discard{}
	}
	return &Service{c: c}, nil
}

// KeyPrefix is the prefix every key of this Service starts with.
func (s *Service) KeyPrefix() string { return s.c.KeyPrefix }

// Handle checks, stores and queues one callback and returns the answer
// for the sender. Every failure is an answer, never a panic: a non-2xx answer
// makes the sender retry, and nothing is queued unless every attachment of the
// callback is stored.
func (s *Service) Handle(ctx context.Context, req *Request) (resp *Response) {
	start := time.Now()
	ev := &Event{
		Version:     EventVersion,
		ReceivedAt:  s.c.Now().UTC(),
		Origin:      req.Origin,
		RequestID:   req.RequestID,
		SourceIP:    req.SourceIP,
		UserAgent:   req.Header.Get("User-Agent"),
		Attachments: []Attachment{},
	}
	defer func() {
		if v := recover(); v != nil {
			resp = s.finish(ctx, req, ev, start, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
		}
	}()
	return s.finish(ctx, req, ev, start, s.handle(ctx, req, ev))
}

// handle does the work of Handle, filling in ev as it learns about the
// callback.
func (s *Service) handle(ctx context.Context, req *Request, ev *Event) error {
	if req.Method != http.MethodPost && req.Method != http.MethodPut {
		return &Error{Code: http.StatusMethodNotAllowed, Message: "method not allowed: use POST or PUT"}
	}
	if s.c.Sources != nil && !s.c.Sources.Allows(req.SourceIP) {
		return &Error{Code: http.StatusForbidden, Message: "forbidden: this address may not send callbacks"}
	}
	if err := s.c.Auth.Authenticate(req.Header); err != nil {
		// Only for the log line: which job's callbacks are being refused.
		ev.JobID, ev.Status, _ = parseQuery(req.RawQuery)
		return err
	}
	var err error
	if ev.JobID, ev.Status, err = parseQuery(req.RawQuery); err != nil {
		return err
	}
	contentType := req.Header.Get("Content-Type")
	if len(contentType) > maxContentTypeBytes {
		return badRequest(fmt.Sprintf("Content-Type too long: at most %d bytes", maxContentTypeBytes), nil)
	}
	in := s.newIntake(ctx, ev)
	defer in.release()
	if err := in.read(req.Body, contentType); err != nil {
		return err
	}
	if err := s.store(ctx, in.writes()); err != nil {
		return err
	}
	if err := s.c.Queue.Send(ctx, ev); err != nil {
		return unavailable("could not queue the callback event, retry later", fmt.Errorf("send event: %w", err))
	}
	return nil
}

// write makes one attachment visible in the store.
type write struct {
	key   string
	store func(ctx context.Context) error
}

// writes lists each part in the event, once per key, and returns what
// makes them visible: a part whose bytes another part under the same key
// has is listed and stored once.
func (in *intake) writes() []write {
	writes := make([]write, 0, len(in.parts))
	for _, p := range in.parts {
		if p.duplicate {
			continue
		}
		obj := in.object(p)
		writes = append(writes, write{p.key, func(ctx context.Context) error { return p.held.store(ctx, in.svc.c.Store, obj) }})
		in.ev.Attachments = append(in.ev.Attachments, Attachment{
			Content: p.content, Bucket: in.svc.c.Bucket, Key: p.key, ContentType: obj.ContentType,
			Size: p.size, SHA256: hex.EncodeToString(p.sum[:]),
		})
	}
	return writes
}

// contentTypeOf is the Content-Type an attachment is stored with: the one it
// was sent with, unless that says nothing ("" or application/octet-stream)
// about content we know to be JSON or text.
func contentTypeOf(content, sent string) string {
	generic := sent == "" || strings.HasPrefix(sent, "application/octet-stream")
	switch {
	case !generic:
		return sent
	case content == ContentTranscript, content == ContentJobInfo:
		return "application/json"
	case content == ContentData, content == ContentOther:
		return "application/octet-stream"
	default:
		return "text/plain; charset=utf-8"
	}
}

// store writes the objects in parallel and returns when all are written or
// one has failed. The first failure stops the others; it is the one reported,
// as the others then fail only because they were stopped.
func (s *Service) store(ctx context.Context, writes []write) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		once  sync.Once
		first error
	)
	fail := func(err error) {
		once.Do(func() {
			first = err
			cancel()
		})
	}
	slots := make(chan struct{}, maxParallelPuts)
	var wg sync.WaitGroup
	for _, w := range writes {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			// A panic here would end the process: make it this request's error.
			defer func() {
				if v := recover(); v != nil {
					fail(&panicError{fmt.Sprintf("put %s: panic: %v\n%s", w.key, v, debug.Stack())})
				}
			}()
			if err := w.store(ctx); err != nil {
				fail(fmt.Errorf("put %s: %w", w.key, err))
			}
		})
	}
	wg.Wait()
	var p *panicError
	if errors.As(first, &p) {
		return first // a bug, not a fault of the store: 500
	}
	if first != nil {
		return unavailable("could not store the callback, retry later", first)
	}
	return nil
}

// panicError is a panic recovered in a goroutine of a request.
type panicError struct{ msg string }

func (e *panicError) Error() string { return e.msg }

type okBody struct {
	JobID     string   `json:"job_id"`
	Status    string   `json:"status"`
	RequestID string   `json:"request_id"`
	Stored    []string `json:"stored"`
}

type errorBody struct {
	Error string `json:"error"`
}

// finish logs the callback, records its metrics and builds the answer.
func (s *Service) finish(ctx context.Context, req *Request, ev *Event, start time.Time, err error) *Response {
	code, message := answer(err)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Request-Id", req.RequestID)
	if code == http.StatusMethodNotAllowed {
		h.Set("Allow", "POST, PUT")
	}
	var body any = errorBody{Error: message}
	if err == nil {
		stored := make([]string, len(ev.Attachments))
		for i, a := range ev.Attachments {
			stored[i] = a.Key
		}
		body = okBody{JobID: ev.JobID, Status: ev.Status, RequestID: req.RequestID, Stored: stored}
	}
	b, _ := json.Marshal(body) // plain strings and slices: cannot fail
	took := time.Since(start)
	s.log(ctx, ev, took, code, err)
	s.record(ctx, ev, took, code, err)
	return &Response{StatusCode: code, Header: h, Body: b}
}

// logAttachment is what the log line says of each attachment: never its bytes.
type logAttachment struct {
	Content string `json:"content"`
	Key     string `json:"key"`
	Size    int64  `json:"size"`
}

func (s *Service) logger() *slog.Logger { return s.c.Logger }

func (s *Service) log(ctx context.Context, ev *Event, took time.Duration, code int, err error) {
	logger := s.logger()
	attachments := make([]logAttachment, len(ev.Attachments))
	for i, a := range ev.Attachments {
		attachments[i] = logAttachment{Content: a.Content, Key: a.Key, Size: a.Size}
	}
	attrs := []slog.Attr{
		slog.String("job_id", ev.JobID),
		slog.String("status", ev.Status),
		slog.String("request_id", ev.RequestID),
		slog.String("source_ip", ev.SourceIP),
		slog.Any("attachments", attachments),
		slog.Float64("duration_ms", milliseconds(took)),
		slog.Int("outcome", code),
	}
	level := slog.LevelInfo
	if ev.Status != "" && !knownStatuses[ev.Status] {
		level = slog.LevelWarn
		attrs = append(attrs, slog.Bool("unknown_status", true))
	}
	if err != nil {
		level = slog.LevelWarn
		if code >= 500 {
			level = slog.LevelError
		}
		attrs = append(attrs, slog.String("error", logSafe(err).Error()))
	}
	// The context carries what the door knows of the invocation (a
	// Lambda request ID) for the logger to add.
	logger.LogAttrs(context.WithoutCancel(ctx), level, "callback", attrs...)
}

func milliseconds(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// record gives the callback's metrics to the recorder: its outcome, how
// long it took, and what it stored, by content.
func (s *Service) record(ctx context.Context, ev *Event, took time.Duration, code int, err error) {
	unknown := 0.0
	if ev.Status != "" && !knownStatuses[ev.Status] {
		unknown = 1
	}
	samples := []metrics.Sample{
		{Metric: metrics.Callbacks, Dimension: outcome(code), Value: 1},
		{Metric: metrics.HandlerDuration, Value: milliseconds(took)},
		{Metric: metrics.UnknownStatus, Value: unknown},
	}
	var size int64
	if err == nil {
		// One sample per content, in the order the contents came.
		var contents []string
		counts := map[string]float64{}
		for _, a := range ev.Attachments {
			if counts[a.Content] == 0 {
				contents = append(contents, a.Content)
			}
			counts[a.Content]++
			size += a.Size
		}
		for _, c := range contents {
			samples = append(samples, metrics.Sample{Metric: metrics.Attachments, Dimension: c, Value: counts[c]})
		}
	}
	samples = append(samples, metrics.Sample{Metric: metrics.AttachmentBytes, Value: float64(size)})
	s.c.Metrics.Record(context.WithoutCancel(ctx), samples,
		metrics.Property{Name: "job_id", Value: ev.JobID}, metrics.Property{Name: "status", Value: ev.Status},
		metrics.Property{Name: "request_id", Value: ev.RequestID})
}

// logSafe drops the detail of errors about the request body, which can quote
// the body's bytes, and keeps what says where and why it failed.
func logSafe(err error) error {
	var e *Error
	if !errors.As(err, &e) || e.Code != http.StatusBadRequest || e.Err == nil {
		return err
	}
	var corrupt base64.CorruptInputError
	switch {
	case errors.As(e.Err, &corrupt):
		return fmt.Errorf("%s: %w", e.Message, corrupt)
	case errors.Is(e.Err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: %w", e.Message, io.ErrUnexpectedEOF)
	}
	return errors.New(e.Message)
}
