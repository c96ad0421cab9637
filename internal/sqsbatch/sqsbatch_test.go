package sqsbatch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"smcallbacks/internal/assembler"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/emf"
	"smcallbacks/internal/emf/emftest"
	"smcallbacks/internal/mototest"
	"smcallbacks/internal/s3manifest"
	"smcallbacks/internal/sqsannounce"
)

func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }

var discard = slog.New(slog.NewJSONHandler(io.Discard, nil))

func eventBody(job, status string, at time.Duration, contents ...string) string {
	ev := callback.Event{Version: 1, JobID: job, Status: status, ReceivedAt: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC).Add(at),
		RequestID: fmt.Sprint(at), Attachments: []callback.Attachment{}}
	for _, c := range contents {
		ev.Attachments = append(ev.Attachments, callback.Attachment{Content: c, Bucket: "b", Key: job + "/" + c, SHA256: "s"})
	}
	b, _ := json.Marshal(ev)
	return string(b)
}

// memStore is a plain Store for the batch rules; the assembler's own tests
// prove the conditional writes.
type memStore struct {
	m map[string]*assembler.Manifest
}

func (s *memStore) Get(_ context.Context, job string) (*assembler.Manifest, string, error) {
	if m, ok := s.m[job]; ok {
		return m, "v", nil
	}
	return nil, "", assembler.ErrNotFound
}

func (s *memStore) Put(_ context.Context, job string, m *assembler.Manifest, _ string) (string, error) {
	s.m[job] = m
	return "v", nil
}

type nopAnnouncer struct{}

func (nopAnnouncer) Announce(context.Context, *assembler.Message) error { return nil }

func TestBatchFailures(t *testing.T) {
	good := eventBody("a", "success", time.Second, "jobinfo")
	tests := []struct {
		name   string
		groups []string // MessageGroupId of each record, for a FIFO source
		bodies []string
		want   []string // message IDs reported as failed
	}{
		{"all good", nil, []string{good, good}, nil},
		{"poison alone is reported", nil, []string{good, "not json", good, `{"version":2,"job_id":"a","status":"success"}`, good}, []string{"m1", "m3"}},
		{"fifo fails the rest of the group", []string{"g1", "g1", "g2", "g1", "g2"}, []string{good, "not json", good, good, good}, []string{"m1", "m3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Handler{Assembler: &assembler.Assembler{Store: &memStore{m: map[string]*assembler.Manifest{}}, Announcer: nopAnnouncer{},
				Expected: []string{"jobinfo"}, Logger: discard}, Logger: discard}
			var batch events.SQSEvent
			for i, b := range tt.bodies {
				rec := events.SQSMessage{MessageId: fmt.Sprintf("m%d", i), Body: b}
				if tt.groups != nil {
					rec.Attributes = map[string]string{"MessageGroupId": tt.groups[i]}
				}
				batch.Records = append(batch.Records, rec)
			}
			resp, err := h.Handle(context.Background(), batch)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range resp.BatchItemFailures {
				got = append(got, f.ItemIdentifier)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got failures %v, want %v", got, tt.want)
			}
		})
	}
}

// poll drives h the way Lambda's event source mapping does: it receives a
// batch from the queue, hands it over, and deletes what was not reported as
// failed. It returns the number of messages received.
func poll(t *testing.T, moto *mototest.Server, queueURL, queueARN string, h *Handler) int {
	t.Helper()
	out, err := moto.SQS().ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: &queueURL, MaxNumberOfMessages: 10, VisibilityTimeout: 300,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatal(err)
	}
	var batch events.SQSEvent
	for _, m := range out.Messages {
		batch.Records = append(batch.Records, events.SQSMessage{MessageId: *m.MessageId, ReceiptHandle: *m.ReceiptHandle,
			Body: *m.Body, Attributes: m.Attributes, EventSourceARN: queueARN, EventSource: "aws:sqs"})
	}
	resp, err := h.Handle(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, r := range batch.Records {
		if !failed[r.MessageId] {
			if _, err := moto.SQS().DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &queueURL, ReceiptHandle: &r.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return len(batch.Records)
}

// TestAgainstMoto runs a job's callback events, each twice, and a poison
// message through the handler from moto's SQS, with the manifest in moto's S3
// and the announcement on moto's output queue.
func TestAgainstMoto(t *testing.T) {
	moto := mototest.Get(t)
	bucket, in, out := moto.Bucket(t), moto.Queue(t, false), moto.Queue(t, false)
	h := &Handler{Assembler: &assembler.Assembler{
		Store:     s3manifest.New(moto.S3(), bucket, "transcripts/"),
		Announcer: sqsannounce.New(moto.SQS(), out),
		Expected:  []string{"transcript.json-v2", "transcript.srt", "jobinfo", "data"},
		Logger:    discard,
	}, Logger: discard}
	bodies := []string{
		eventBody("r6sr3jlzjj", "success", 2*time.Second, "jobinfo", "data"),
		"poison",
		eventBody("r6sr3jlzjj", "success", 3*time.Second, "transcript.json-v2"),
		eventBody("r6sr3jlzjj", "success", 1*time.Second, "transcript.srt"),
	}
	for _, b := range append(bodies, bodies...) {
		if _, err := moto.SQS().SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &in, MessageBody: &b}); err != nil {
			t.Fatal(err)
		}
	}
	received := 0
	for range 10 {
		n := poll(t, moto, in, "arn:aws:sqs:us-east-1:123456789012:in", h)
		if n == 0 {
			break
		}
		received += n
	}
	if received != 8 {
		t.Errorf("got %d messages handled, want 8", received)
	}
	key := "transcripts/r6sr3jlzjj/manifest.json"
	obj, err := moto.S3().GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	var m assembler.Manifest
	json.NewDecoder(obj.Body).Decode(&m)
	obj.Body.Close()
	if m.State != assembler.StateCompleted || !m.Announced || len(m.Contents) != 4 {
		t.Errorf("got manifest %+v, want completed and announced with 4 contents", m)
	}
	msgs := moto.Messages(t, out)
	if len(msgs) != 1 {
		t.Fatalf("got %d job messages, want 1", len(msgs))
	}
	var msg assembler.Message
	json.Unmarshal([]byte(*msgs[0].Body), &msg)
	if msg.Type != "job.completed" || msg.JobID != "r6sr3jlzjj" || msg.Contents["data"] != "r6sr3jlzjj/data" {
		t.Errorf("got %s", *msgs[0].Body)
	}
}

// TestBatchMetrics writes a batch's metrics as an EMF record: a job
// completed 3 s after its first event, one failed, one poison message.
func TestBatchMetrics(t *testing.T) {
	var out bytes.Buffer
	h := &Handler{Assembler: &assembler.Assembler{Store: &memStore{m: map[string]*assembler.Manifest{}}, Announcer: nopAnnouncer{},
		Expected: []string{"jobinfo"}, Logger: discard}, Logger: discard, Metrics: emf.New(&out, "NS", "assembler")}
	var batch events.SQSEvent
	for i, body := range []string{
		eventBody("a", "success", time.Second), eventBody("b", "error", 2*time.Second),
		"not json", eventBody("a", "success", 4*time.Second, "jobinfo"),
	} {
		batch.Records = append(batch.Records, events.SQSMessage{MessageId: fmt.Sprintf("m%d", i), Body: body})
	}
	if _, err := h.Handle(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	records := emftest.Records(t, out.Bytes())
	if len(records) != 1 {
		t.Fatalf("got %d records, want 1: %s", len(records), out.Bytes())
	}
	for name, want := range map[string]any{
		"JobsCompleted": 1.0, "JobsFailed": 1.0, "PoisonEvents": 1.0, "JobCompletionTime": []any{0.0, 3.0}, // b ends first
	} {
		if got, _ := records[0].Metric(name); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
}
