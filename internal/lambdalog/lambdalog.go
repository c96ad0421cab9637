// Package lambdalog adds to each log line under Lambda what Powertools'
// loggers add: the invocation's request ID, whether it is the cold start,
// the function's version and, when the invocation is traced, its X-Ray
// trace ID. Metric records get the same invocation fields (Properties).
package lambdalog

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"smcallbacks/internal/metrics"
	"smcallbacks/internal/xray"
)

// Handler wraps a slog.Handler. Lines logged outside an invocation (at
// init) carry the function's version only.
type Handler struct {
	next    slog.Handler
	version string
	// first is the request ID of the first invocation: its lines are the
	// cold start's.
	first *atomic.Pointer[string]
}

var _ slog.Handler = (*Handler)(nil)

// New returns a Handler that adds the fields and passes each line on to
// next. version is the function's version (AWS_LAMBDA_FUNCTION_VERSION).
func New(next slog.Handler, version string) *Handler {
	return &Handler{next: next, version: version, first: &atomic.Pointer[string]{}}
}

// Enabled reports whether next logs at level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle adds the fields to r and passes it on.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	r.AddAttrs(slog.String("function_version", h.version))
	if id, ok := requestID(ctx); ok {
		h.first.CompareAndSwap(nil, &id)
		r.AddAttrs(slog.String("aws_request_id", id), slog.Bool("cold_start", *h.first.Load() == id))
	}
	if trace := TraceID(ctx); trace != "" {
		r.AddAttrs(slog.String("xray_trace_id", trace))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs returns a Handler whose lines carry attrs too.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	return &c
}

// WithGroup returns a Handler that puts the attributes that follow in a
// group. The fields it adds go in the group too: call it only for groups of
// a line's own attributes.
func (h *Handler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}

func requestID(ctx context.Context) (string, bool) {
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok || lc.AwsRequestID == "" {
		return "", false
	}
	return lc.AwsRequestID, true
}

// TraceID returns the X-Ray trace ID of a sampled invocation, "" for an
// invocation that is not traced.
func TraceID(ctx context.Context) string {
	h, ok := xray.HeaderFromContext(ctx)
	if !ok || !h.Sampled {
		return ""
	}
	return h.Root
}

// Properties returns the invocation's request ID and trace ID, for the
// metric records written in it.
func Properties(ctx context.Context) []metrics.Property {
	var props []metrics.Property
	if id, ok := requestID(ctx); ok {
		props = append(props, metrics.Property{Name: "aws_request_id", Value: id})
	}
	if trace := TraceID(ctx); trace != "" {
		props = append(props, metrics.Property{Name: "xray_trace_id", Value: trace})
	}
	return props
}
