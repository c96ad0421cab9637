package callback_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"smcallbacks/internal/auth"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
)

func TestAnnounce(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	queue := &callbacktest.Queue{}
	svc := callbacktest.NewService(t, callback.Config{Auth: auth.Disabled{}, Store: &callbacktest.Store{}, Queue: queue,
		Bucket: "b", KeyPrefix: "p/", Now: func() time.Time { return at }})
	att := callback.Attachment{Content: callback.ContentTranscript, Key: "p/j1/transcript.json", ContentType: "application/json",
		Size: 3, SHA256: "2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6"}
	err := svc.Announce(context.Background(), &callback.Announcement{JobID: "j1", Status: "success", Origin: callback.OriginReconciler,
		RequestID: "r1", SourceIP: "reconciler", UserAgent: "ua", Attachments: []callback.Attachment{att}})
	if err != nil {
		t.Fatal(err)
	}
	att.Bucket = "b"
	want := &callback.Event{Version: 1, JobID: "j1", Status: "success", ReceivedAt: at.UTC(), RequestID: "r1", SourceIP: "reconciler",
		UserAgent: "ua", Origin: callback.OriginReconciler, Attachments: []callback.Attachment{att}}
	if got := queue.Events(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	b, _ := json.Marshal(queue.Events()[0])
	callbacktest.CheckEventSchema(t, b)

	bad := []*callback.Announcement{
		{JobID: "../x", Status: "success"},
		{JobID: "j1", Status: "Success!"},
		{JobID: "j1", Status: "success", Attachments: []callback.Attachment{{Content: "transcript", Key: "p/j1/transcript.json"}}},
		{JobID: "j1", Status: "success", Attachments: []callback.Attachment{{Content: "jobinfo", Key: "p/j2/jobinfo.json"}}},
		{JobID: "j1", Status: "success", Attachments: []callback.Attachment{{Content: "jobinfo", Key: "p/j1/"}}},
	}
	for _, a := range bad {
		if err := svc.Announce(context.Background(), a); err == nil {
			t.Errorf("%+v: got nil, want an error", a)
		}
	}
	if len(queue.Events()) != 1 {
		t.Errorf("got %d events, want no more after refusals", len(queue.Events()))
	}
}
