package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"smcallbacks/internal/auth"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/config"
	"smcallbacks/internal/mototest"
)

func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }

func awsService(t *testing.T, env []string, bucket, queueURL string) *callback.Service {
	t.Helper()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	cfg := &config.Config{
		BucketName: bucket, QueueURL: queueURL, KeyPrefix: "transcripts/",
		AuthHeaders: []auth.Credential{{Name: "Authorization", Value: "Bearer t"}},
	}
	svc, err := NewService(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func callbackRequest(t *testing.T) (*callback.Request, []byte) {
	t.Helper()
	transcript, err := os.ReadFile(filepath.Join("..", "callback", "testdata", "transcript-json-v2-example.json"))
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, _ := w.CreateFormFile("transcript", "transcript.json")
	fw.Write(transcript)
	fw, _ = w.CreateFormFile("jobinfo", "jobinfo.json")
	fw.Write([]byte(`{"id":"r6sr3jlzjj","created_at":"2026-11-27T10:00:00Z"}`))
	w.Close()
	h := http.Header{}
	h.Set("Authorization", "Bearer t")
	h.Set("Content-Type", w.FormDataContentType())
	return &callback.Request{
		Method: http.MethodPost, RawQuery: "id=r6sr3jlzjj&status=success", Header: h,
		Body: bytes.NewReader(body.Bytes()), RequestID: "req-1",
	}, transcript
}

// TestAWSSinks runs callbacks through the service wired to S3 and SQS the
// way the binary wires it, from the SDK's own environment variables.
func TestAWSSinks(t *testing.T) {
	moto := mototest.Get(t)
	bucket, queueURL := moto.Bucket(t), moto.Queue(t, false)

	t.Run("stored and queued", func(t *testing.T) {
		svc := awsService(t, moto.Env(), bucket, queueURL)
		req, transcript := callbackRequest(t)
		resp := svc.Handle(context.Background(), req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("got %d %s, want 200", resp.StatusCode, resp.Body)
		}
		key := "transcripts/r6sr3jlzjj/transcript.json"
		out, err := moto.S3().GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, transcript) {
			t.Errorf("got %d bytes in S3, want the %d sent", len(got), len(transcript))
		}
		msgs := moto.Messages(t, queueURL)
		if len(msgs) != 1 {
			t.Fatalf("got %d messages, want 1", len(msgs))
		}
		var ev callback.Event
		if err := json.Unmarshal([]byte(*msgs[0].Body), &ev); err != nil {
			t.Fatal(err)
		}
		if len(ev.Attachments) != 2 || ev.Attachments[0].Bucket != bucket || ev.Attachments[0].Key != key {
			t.Errorf("got attachments %+v, want 2, the first %s in %s", ev.Attachments, key, bucket)
		}
	})

	faults := []struct {
		name           string
		bucket, queue  string
		ctx            func() context.Context
		wantMessage    string
		wantQueueEmpty string
	}{
		{"missing bucket", "no-such-bucket", queueURL, context.Background, "could not store the callback, retry later", queueURL},
		{"missing queue", bucket, moto.Endpoint + "/123456789012/no-such-queue", context.Background, "could not queue the callback event, retry later", ""},
		{"deadline passed", bucket, queueURL, func() context.Context {
			ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			cancel()
			return ctx
		}, "timed out, retry later", queueURL},
	}
	for _, tt := range faults {
		t.Run(tt.name, func(t *testing.T) {
			svc := awsService(t, moto.Env(), tt.bucket, tt.queue)
			req, _ := callbackRequest(t)
			resp := svc.Handle(tt.ctx(), req)
			if want := `{"error":"` + tt.wantMessage + `"}`; resp.StatusCode != http.StatusServiceUnavailable || string(resp.Body) != want {
				t.Errorf("got %d %s, want 503 %s", resp.StatusCode, resp.Body, want)
			}
			if tt.wantQueueEmpty != "" {
				if msgs := moto.Messages(t, tt.wantQueueEmpty); len(msgs) != 0 {
					t.Errorf("got %d messages, want none: an event was queued for a callback not stored", len(msgs))
				}
			}
		})
	}
}
