package apigateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sort"
	"testing"

	"smcallbacks/internal/auth"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
)

func newHandler(t *testing.T) (*Handler, *callbacktest.Store, *callbacktest.Queue) {
	t.Helper()
	store, queue := &callbacktest.Store{}, &callbacktest.Queue{}
	svc := callbacktest.NewService(t, callback.Config{
		Auth:     auth.NewChecker([]auth.Credential{{Name: "Authorization", Value: "Bearer test-token-0123456789"}}),
		Store:    store,
		Queue:    queue,
		SpoolDir: t.TempDir(),
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	return &Handler{Service: svc}, store, queue
}

// response holds the fields common to 1.0 and 2.0 response events.
type response struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// TestEvents runs every event in events/ through the handler and checks the
// answer, the stored bytes and the queued event.
func TestEvents(t *testing.T) {
	for _, tt := range callbacktest.SampleEvents(t) {
		t.Run(tt.Name, func(t *testing.T) {
			h, store, queue := newHandler(t)
			out, err := h.Invoke(context.Background(), tt.Payload)
			if err != nil {
				t.Fatal(err)
			}
			var resp response
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.StatusCode {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, resp.Body, tt.StatusCode)
			}
			if resp.Headers["Content-Type"] != "application/json" || resp.IsBase64Encoded {
				t.Errorf("got headers %v, base64 %v, want a plain JSON body", resp.Headers, resp.IsBase64Encoded)
			}
			objects := store.Objects()
			if len(objects) != len(tt.Objects) {
				t.Errorf("got objects %v, want %v", sortedKeys(objects), tt.Objects)
			}
			for key, fix := range tt.Objects {
				if o, ok := objects[key]; !ok || !bytes.Equal(o.Bytes, callbacktest.Fixture(t, fix)) {
					t.Errorf("%s: got %d bytes (stored %v), want the bytes of %s", key, len(o.Bytes), ok, fix)
				}
			}
			events := queue.Events()
			if tt.StatusCode != 200 {
				if len(events) != 0 {
					t.Errorf("got %d events, want none", len(events))
				}
				return
			}
			if len(events) != 1 {
				t.Fatalf("got %d events, want 1", len(events))
			}
			ev := events[0]
			if ev.JobID != tt.JobID || ev.Status != tt.Status || ev.RequestID != tt.RequestID ||
				ev.SourceIP != "40.74.41.91" || ev.UserAgent != "Speechmatics-API/2.0" || len(ev.Attachments) != len(tt.Objects) {
				t.Errorf("got event %+v, want job %s, status %s, request %s from 40.74.41.91 with %d attachments",
					ev, tt.JobID, tt.Status, tt.RequestID, len(tt.Objects))
			}
		})
	}
}

func sortedKeys(m map[string]callbacktest.StoredObject) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestInvokeRequestShapes(t *testing.T) {
	tests := []struct {
		name     string
		event    string
		wantCode int
		wantBody string
	}{
		{"v2 repeated parameter from the raw query",
			`{"version":"2.0","rawQueryString":"id=a&id=b&status=success","queryStringParameters":{"id":"a,b"},"headers":{"authorization":"Bearer test-token-0123456789"},"requestContext":{"http":{"method":"POST"}}}`,
			400, `{"error":"query parameter \"id\" given twice with different values"}`},
		{"v2 joined auth headers do not match",
			`{"version":"2.0","rawQueryString":"id=a&status=success","headers":{"authorization":"Bearer test-token-0123456789,Bearer test-token-0123456789"},"requestContext":{"http":{"method":"POST"}}}`,
			401, `{"error":"unauthorized"}`},
		{"v1 repeated parameter with different values",
			`{"httpMethod":"POST","headers":{"Authorization":"Bearer test-token-0123456789"},"queryStringParameters":{"id":"b","status":"success"},"multiValueQueryStringParameters":{"id":["a","b"],"status":["success"]}}`,
			400, `{"error":"query parameter \"id\" given twice with different values"}`},
		{"v1 repeated header does not match",
			`{"httpMethod":"POST","multiValueHeaders":{"Authorization":["Bearer test-token-0123456789","Bearer test-token-0123456789"]},"headers":{"Authorization":"Bearer test-token-0123456789"},"multiValueQueryStringParameters":{"id":["a"],"status":["success"]}}`,
			401, `{"error":"unauthorized"}`},
		{"v1 lower-case single-value headers and query",
			`{"httpMethod":"PUT","headers":{"authorization":"Bearer test-token-0123456789"},"queryStringParameters":{"id":"a","status":"success"}}`,
			200, `{"job_id":"a","status":"success","request_id":"","stored":[]}`},
		{"v1 GET",
			`{"httpMethod":"GET","headers":{"Authorization":"Bearer test-token-0123456789"}}`,
			405, `{"error":"method not allowed: use POST or PUT"}`},
		{"bad base64",
			`{"version":"2.0","rawQueryString":"id=a&status=success","headers":{"authorization":"Bearer test-token-0123456789","content-type":"text/plain"},"requestContext":{"http":{"method":"POST"}},"body":"aGVsbG8@@@","isBase64Encoded":true}`,
			400, `{"error":"request body could not be read: malformed or truncated"}`},
		{"base64 of an empty body",
			`{"version":"2.0","rawQueryString":"id=a&status=success","headers":{"authorization":"Bearer test-token-0123456789"},"requestContext":{"http":{"method":"POST"}},"body":"","isBase64Encoded":true}`,
			200, `{"job_id":"a","status":"success","request_id":"","stored":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _, _ := newHandler(t)
			out, err := h.Invoke(context.Background(), []byte(tt.event))
			if err != nil {
				t.Fatal(err)
			}
			var resp response
			json.Unmarshal(out, &resp)
			if resp.StatusCode != tt.wantCode || resp.Body != tt.wantBody {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, resp.Body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestInvokeUnsupportedEvent(t *testing.T) {
	for _, payload := range []string{`{}`, `{"Records":[{"eventSource":"aws:sqs"}]}`, `not json`, `[]`} {
		h, _, _ := newHandler(t)
		if _, err := h.Invoke(context.Background(), []byte(payload)); !errors.Is(err, ErrUnsupportedEvent) {
			t.Errorf("%s: got %v, want ErrUnsupportedEvent", payload, err)
		}
	}
}

// TestEventsReuseBuffer runs every event in events/ through one handler,
// forwards then backwards, so that each body is decoded into a buffer that
// an earlier, different body was decoded into: each stores its own bytes.
func TestEventsReuseBuffer(t *testing.T) {
	samples := callbacktest.SampleEvents(t)
	h, store, _ := newHandler(t)
	for round := range 2 {
		for i := range samples {
			tt := samples[i]
			if round == 1 {
				tt = samples[len(samples)-1-i]
			}
			before := store.Objects()
			out, err := h.Invoke(context.Background(), tt.Payload)
			if err != nil {
				t.Fatal(err)
			}
			var resp response
			if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != tt.StatusCode {
				t.Fatalf("%s: got %d %s (%v), want %d", tt.Name, resp.StatusCode, resp.Body, err, tt.StatusCode)
			}
			for key, fix := range tt.Objects {
				if o := store.Objects()[key]; !bytes.Equal(o.Bytes, callbacktest.Fixture(t, fix)) {
					t.Errorf("%s: %s holds %d bytes, want the bytes of %s", tt.Name, key, len(o.Bytes), fix)
				}
			}
			if tt.StatusCode != 200 && len(store.Objects()) != len(before) {
				t.Errorf("%s: a refused event stored objects", tt.Name)
			}
		}
	}
}

// TestHandlerKeepsBufferOnlyWhenStored checks that the buffer a body was
// decoded into is kept for the next event after a stored callback, and
// dropped after a refused one, whose store may still be reading it.
func TestHandlerKeepsBufferOnlyWhenStored(t *testing.T) {
	event := func(token string) []byte {
		return []byte(`{"version":"2.0","rawQueryString":"id=r6sr3jlzjj&status=success","headers":{"authorization":"Bearer ` + token +
			`","content-type":"application/octet-stream"},"requestContext":{"http":{"method":"POST"}},"isBase64Encoded":true,"body":"aGVsbG8gd29ybGQ="}`)
	}
	tests := []struct {
		name     string
		token    string
		wantKept bool
	}{
		{"stored", "test-token-0123456789", true},
		{"refused", "wrong", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _, _ := newHandler(t)
			if _, err := h.Invoke(context.Background(), event(tt.token)); err != nil {
				t.Fatal(err)
			}
			if kept := h.spare.Load() != nil; kept != tt.wantKept {
				t.Errorf("got a buffer kept %v, want %v", kept, tt.wantKept)
			}
		})
	}
}
