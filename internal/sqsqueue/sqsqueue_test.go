package sqsqueue

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/mototest"
)

func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }

func event(status string) *callback.Event {
	return &callback.Event{
		Version: 1, JobID: "r6sr3jlzjj", Status: status, ReceivedAt: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
		RequestID: "req-1", SourceIP: "40.74.41.91", UserAgent: "Speechmatics-API/2.0",
		Attachments: []callback.Attachment{{Content: "jobinfo", Bucket: "b", Key: "r6sr3jlzjj/jobinfo.json",
			ContentType: "application/json", Size: 3, SHA256: strings.Repeat("ab", 32)}},
	}
}

func TestSendAgainstMoto(t *testing.T) {
	moto := mototest.Get(t)
	for _, fifo := range []bool{false, true} {
		name := "standard"
		if fifo {
			name = "fifo"
		}
		t.Run(name, func(t *testing.T) {
			url := moto.Queue(t, fifo)
			q := New(moto.SQS(), url)
			evs := []*callback.Event{event("success"), event("error")}
			for _, ev := range evs {
				if err := q.Send(context.Background(), ev); err != nil {
					t.Fatal(err)
				}
			}
			msgs := moto.Messages(t, url)
			if len(msgs) != len(evs) {
				t.Fatalf("got %d messages, want %d", len(msgs), len(evs))
			}
			for i, m := range msgs {
				ev := evs[i]
				want, _ := json.Marshal(ev)
				if *m.Body != string(want) {
					t.Errorf("body: got %s, want %s", *m.Body, want)
				}
				for k, v := range map[string]string{"job_id": ev.JobID, "status": ev.Status} {
					a, ok := m.MessageAttributes[k]
					if !ok || *a.DataType != "String" || *a.StringValue != v {
						t.Errorf("attribute %s: got %+v, want String %q", k, a, v)
					}
				}
				group := m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]
				dedup := m.Attributes[string(types.MessageSystemAttributeNameMessageDeduplicationId)]
				wantGroup, wantDedup := "", ""
				if fifo {
					wantGroup, wantDedup = ev.JobID, ev.DeduplicationID()
				}
				if group != wantGroup || dedup != wantDedup {
					t.Errorf("group, deduplication id: got %q, %q, want %q, %q", group, dedup, wantGroup, wantDedup)
				}
			}
		})
	}
}

func TestSendErrorAgainstMoto(t *testing.T) {
	moto := mototest.Get(t)
	url := moto.Endpoint + "/123456789012/no-such-queue"
	err := New(moto.SQS(), url).Send(context.Background(), event("success"))
	if err == nil {
		t.Fatal("got nil, want an error")
	}
	for _, want := range []string{"queue " + url, "RequestID"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to say %q", err, want)
		}
	}
}
