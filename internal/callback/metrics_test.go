package callback_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/metrics"
	"smcallbacks/internal/metrics/metricstest"
)

// TestMetrics checks the one set of metrics each callback records: its
// outcome, and for a stored one its attachments by content and their bytes.
func TestMetrics(t *testing.T) {
	transcript := fixture(t, "transcript-json-v2-example.json")
	body, contentType := multipartBody(t,
		formPart{"transcript", "transcript.json", "application/json", transcript},
		formPart{"jobinfo", "jobinfo.json", "application/json", fixture(t, "jobinfo.json")},
		formPart{"data", "media.wav", "audio/wav", fixture(t, "media.wav")},
	)
	size := int64(len(transcript) + len(fixture(t, "jobinfo.json")) + len(fixture(t, "media.wav")))
	tests := []struct {
		name     string
		setup    func(*harness, *callback.Request)
		body     []byte
		outcome  string
		contents map[string]float64
		bytes    int64
		unknown  float64
	}{
		{name: "stored", body: body, outcome: "stored", bytes: size,
			contents: map[string]float64{"transcript.json-v2": 1, "jobinfo": 1, "data": 1}},
		{name: "unknown status", body: nil, outcome: "stored", unknown: 1,
			setup: func(_ *harness, r *callback.Request) { r.RawQuery = "id=r6sr3jlzjj&status=sparkling" }},
		{name: "wrong token", body: body, outcome: "unauthorized",
			setup: func(_ *harness, r *callback.Request) { r.Header.Set("Authorization", "Bearer nope") }},
		{name: "address not allowed", body: body, outcome: "forbidden",
			setup: func(h *harness, _ *callback.Request) { h.cfg.Sources = denyAll{} }},
		{name: "no job id", body: body, outcome: "bad_request",
			setup: func(_ *harness, r *callback.Request) { r.RawQuery = "status=success" }},
		{name: "wrong method", body: body, outcome: "bad_request",
			setup: func(_ *harness, r *callback.Request) { r.Method = http.MethodGet }},
		{name: "store down", body: body, outcome: "unavailable",
			setup: func(h *harness, _ *callback.Request) { h.store.Err = errors.New("down") }},
		{name: "queue down", body: body, outcome: "unavailable",
			setup: func(h *harness, _ *callback.Request) { h.queue.Err = errors.New("down") }},
		{name: "bug", body: body, outcome: "error",
			setup: func(h *harness, _ *callback.Request) {
				h.store.PutHook = func(context.Context, *callback.Object) error { panic("bug") }
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			rec := &metricstest.Recorder{}
			h.cfg.Metrics = rec
			req := request(query, contentType, tt.body)
			if tt.setup != nil {
				tt.setup(h, req)
			}
			h.service(t).Handle(context.Background(), req)
			calls := rec.Calls()
			if len(calls) != 1 {
				t.Fatalf("got %d records, want 1", len(calls))
			}
			c := calls[0]
			for _, o := range metrics.Outcomes {
				want := 0.0
				if o == tt.outcome {
					want = 1
				}
				if got, _ := c.Value("Callbacks", o); got != want {
					t.Errorf("Callbacks{Outcome=%s}: got %v, want %v", o, got, want)
				}
			}
			for _, content := range callback.Contents() {
				if got, _ := c.Value("Attachments", content); got != tt.contents[content] {
					t.Errorf("Attachments{Content=%s}: got %v, want %v", content, got, tt.contents[content])
				}
			}
			if got, ok := c.Value("AttachmentBytes", ""); !ok || got != float64(tt.bytes) {
				t.Errorf("AttachmentBytes: got %v (%v), want %v", got, ok, tt.bytes)
			}
			if got, ok := c.Value("UnknownStatus", ""); !ok || got != tt.unknown {
				t.Errorf("UnknownStatus: got %v (%v), want %v", got, ok, tt.unknown)
			}
			if got, ok := c.Value("HandlerDuration", ""); !ok || got < 0 {
				t.Errorf("HandlerDuration: got %v (%v), want a duration", got, ok)
			}
			if got := c.Prop("request_id"); got != "req-1" {
				t.Errorf("request_id: got %q, want req-1", got)
			}
			// Nothing the sender sent in a header or the body goes out.
			text := fmt.Sprint(c)
			for _, secret := range []string{"s3cr3t", "nope", "Speechmatics-API", "RIFF"} {
				if strings.Contains(text, secret) {
					t.Errorf("the record holds %q: %s", secret, text)
				}
			}
		})
	}
}

type denyAll struct{}

func (denyAll) Allows(string) bool { return false }
