package sqsannounce

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"smcallbacks/internal/assembler"
	"smcallbacks/internal/mototest"
)

func TestAnnounceAgainstMoto(t *testing.T) {
	moto := mototest.Get(t)
	msg := &assembler.Message{Version: 1, Type: "job.completed", JobID: "r6sr3jlzjj",
		Contents: map[string]string{"jobinfo": "r6sr3jlzjj/jobinfo.json"}, CompletedAt: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	for _, fifo := range []bool{false, true} {
		url := moto.Queue(t, fifo)
		if err := New(moto.SQS(), url).Announce(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
		msgs := moto.Messages(t, url)
		if len(msgs) != 1 {
			t.Fatalf("fifo %v: got %d messages, want 1", fifo, len(msgs))
		}
		want, _ := json.Marshal(msg)
		if *msgs[0].Body != string(want) {
			t.Errorf("body: got %s, want %s", *msgs[0].Body, want)
		}
		for k, v := range map[string]string{"type": "job.completed", "job_id": "r6sr3jlzjj", "deduplication_id": "r6sr3jlzjj:job.completed"} {
			if a := msgs[0].MessageAttributes[k]; a.StringValue == nil || *a.StringValue != v {
				t.Errorf("fifo %v: attribute %s: got %+v, want %s", fifo, k, a, v)
			}
		}
		if fifo && (msgs[0].Attributes["MessageGroupId"] != "r6sr3jlzjj" || msgs[0].Attributes["MessageDeduplicationId"] != "r6sr3jlzjj:job.completed") {
			t.Errorf("got attributes %v, want the job as group and r6sr3jlzjj:job.completed as deduplication id", msgs[0].Attributes)
		}
	}
}
