package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/mototest"
)

// jobCallbacks are callbacks one job can have, as separate notification
// entries: the transcript alone, the SRT alone, and the job info with the
// media.
func jobCallbacks(t *testing.T, job string) map[string]func() *callback.Request {
	t.Helper()
	req := func(contentType string, body []byte) func() *callback.Request {
		return func() *callback.Request {
			h := http.Header{}
			h.Set("Authorization", "Bearer t")
			h.Set("Content-Type", contentType)
			return &callback.Request{Method: http.MethodPost, RawQuery: "id=" + job + "&status=success",
				Header: h, Body: bytes.NewReader(body), RequestID: "req", SourceIP: "40.74.41.91"}
		}
	}
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	fw, _ := w.CreateFormFile("jobinfo", "jobinfo.json")
	fw.Write(callbacktest.Fixture(t, "jobinfo.json"))
	fw, _ = w.CreateFormFile("data", "media.wav")
	fw.Write(callbacktest.Fixture(t, "media.wav"))
	w.Close()
	return map[string]func() *callback.Request{
		"transcript":    req("application/json", callbacktest.Fixture(t, "transcript-json-v2-example.json")),
		"srt":           req("text/plain", callbacktest.Fixture(t, "transcript-srt-excerpt.srt")),
		"jobinfo+media": req(w.FormDataContentType(), mp.Bytes()),
	}
}

// wantObjects are the objects of all of a job's callbacks, with their bytes.
func wantObjects(t *testing.T, job string) map[string][]byte {
	return map[string][]byte{
		job + "/transcript.json": callbacktest.Fixture(t, "transcript-json-v2-example.json"),
		job + "/transcript.srt":  callbacktest.Fixture(t, "transcript-srt-excerpt.srt"),
		job + "/jobinfo.json":    callbacktest.Fixture(t, "jobinfo.json"),
		job + "/data/media.wav":  callbacktest.Fixture(t, "media.wav"),
	}
}

// checkState checks the bucket and the queue after a job's callbacks: every
// object intact and no other; every event names only stored objects with
// their hashes. It returns the events.
func checkState(t *testing.T, moto *mototest.Server, bucket, queueURL string, want map[string][]byte) []callback.Event {
	t.Helper()
	client := moto.S3()
	list, err := client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	stored := map[string]string{}
	for _, o := range list.Contents {
		got = append(got, *o.Key)
		out, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if w, ok := want[*o.Key]; ok && !bytes.Equal(b, w) {
			t.Errorf("%s: stored bytes differ from the bytes sent", *o.Key)
		}
		sum := sha256.Sum256(b)
		stored[*o.Key] = hex.EncodeToString(sum[:])
	}
	var wantKeys []string
	for k := range want {
		wantKeys = append(wantKeys, k)
	}
	sort.Strings(got)
	sort.Strings(wantKeys)
	if !equal(got, wantKeys) {
		t.Errorf("got objects %v, want %v", got, wantKeys)
	}
	var events []callback.Event
	for _, m := range moto.Messages(t, queueURL) {
		var ev callback.Event
		if err := json.Unmarshal([]byte(*m.Body), &ev); err != nil {
			t.Fatal(err)
		}
		for _, a := range ev.Attachments {
			if stored[a.Key] != a.SHA256 {
				t.Errorf("event %s names %s with sha256 %s, but the bucket holds %q", ev.RequestID, a.Key, a.SHA256, stored[a.Key])
			}
		}
		events = append(events, ev)
	}
	return events
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFaults injects S3 and SQS failures and delays through a proxy in front
// of moto: each callback is answered non-2xx and queues nothing, and its
// retry heals the state with no duplicate object.
func TestFaults(t *testing.T) {
	moto := mototest.Get(t)
	tests := []struct {
		name     string
		callback string
		fault    func(r *http.Request) *mototest.Fault
		deadline time.Duration
		wantCode int
	}{
		{"S3 refuses one of several parts", "jobinfo+media", func(r *http.Request) *mototest.Fault {
			if mototest.IsS3Put(r, "media.wav") {
				return &mototest.Fault{Status: http.StatusInternalServerError}
			}
			return nil
		}, 0, 503},
		{"SQS refuses the send", "transcript", func(r *http.Request) *mototest.Fault {
			if mototest.IsSQSSend(r) {
				return &mototest.Fault{Status: http.StatusInternalServerError}
			}
			return nil
		}, 0, 503},
		{"S3 slower than the deadline", "jobinfo+media", func(r *http.Request) *mototest.Fault {
			if mototest.IsS3Put(r, "jobinfo") {
				return &mototest.Fault{Delay: time.Hour}
			}
			return nil
		}, time.Second, 503},
		{"SQS slower than the deadline", "srt", func(r *http.Request) *mototest.Fault {
			if mototest.IsSQSSend(r) {
				return &mototest.Fault{Delay: time.Hour}
			}
			return nil
		}, time.Second, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy := moto.NewFaultProxy(t)
			bucket, queueURL := moto.Bucket(t), moto.Queue(t, false)
			svc := awsService(t, proxy.Env(), bucket, queueURL)
			send := jobCallbacks(t, "r6sr3jlzjj")[tt.callback]

			proxy.Fail(tt.fault)
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			if resp := svc.Handle(ctx, send()); resp.StatusCode != tt.wantCode {
				t.Fatalf("under the fault: got %d %s, want %d", resp.StatusCode, resp.Body, tt.wantCode)
			}
			if proxy.Injected() == 0 {
				t.Fatal("no fault was injected")
			}
			if msgs := moto.Messages(t, queueURL); len(msgs) != 0 {
				t.Fatalf("got %d messages under the fault, want none", len(msgs))
			}

			proxy.Fail(nil)
			if resp := svc.Handle(context.Background(), send()); resp.StatusCode != http.StatusOK {
				t.Fatalf("retry: got %d %s, want 200", resp.StatusCode, resp.Body)
			}
			want := map[string][]byte{}
			for k, v := range wantObjects(t, "r6sr3jlzjj") {
				k = "transcripts/" + k
				if (tt.callback == "transcript" && strings.HasSuffix(k, "/transcript.json")) ||
					(tt.callback == "srt" && strings.HasSuffix(k, "/transcript.srt")) ||
					(tt.callback == "jobinfo+media" && (strings.HasSuffix(k, "/jobinfo.json") || strings.HasSuffix(k, "/media.wav"))) {
					want[k] = v
				}
			}
			if events := checkState(t, moto, bucket, queueURL, want); len(events) != 1 {
				t.Errorf("got %d events after the retry, want 1", len(events))
			}
		})
	}
}

// TestOutOfOrder delivers a job's callbacks in every order, one after another
// or all at once, with the first one failing on its first try and retried
// afterwards, and one callback delivered twice. Afterwards every object is
// intact, and every callback answered 200 has its event; on a FIFO queue a
// callback delivered twice carries one deduplication ID.
func TestOutOfOrder(t *testing.T) {
	moto := mototest.Get(t)
	names := []string{"transcript", "srt", "jobinfo+media"}
	for i, order := range callbacktest.Permutations(names) {
		concurrent, fifo := i%2 == 0, i%3 == 0
		t.Run(fmt.Sprintf("%v concurrent=%v fifo=%v", order, concurrent, fifo), func(t *testing.T) {
			proxy := moto.NewFaultProxy(t)
			bucket, queueURL := moto.Bucket(t), moto.Queue(t, fifo)
			svc := awsService(t, proxy.Env(), bucket, queueURL)
			callbacks := jobCallbacks(t, "r6sr3jlzjj")
			// The first callback's objects fail to store on its first try.
			failing := map[string]string{"transcript": "transcript.json", "srt": "transcript.srt", "jobinfo+media": "media.wav"}[order[0]]
			proxy.Fail(func(r *http.Request) *mototest.Fault {
				if mototest.IsS3Put(r, failing) {
					return &mototest.Fault{Status: http.StatusServiceUnavailable}
				}
				return nil
			})

			codes := map[string]int{}
			var mu sync.Mutex
			deliver := func(name, requestID string) {
				req := callbacks[name]()
				req.RequestID = requestID
				code := svc.Handle(context.Background(), req).StatusCode
				mu.Lock()
				codes[requestID] = code
				mu.Unlock()
			}
			var wg sync.WaitGroup
			for _, name := range order {
				if concurrent {
					wg.Go(func() { deliver(name, name+"#1") })
				} else {
					deliver(name, name+"#1")
				}
			}
			wg.Wait()
			if codes[order[0]+"#1"] != http.StatusServiceUnavailable {
				t.Fatalf("first try of %s: got %d, want 503", order[0], codes[order[0]+"#1"])
			}
			proxy.Fail(nil)
			deliver(order[0], order[0]+"#2") // the sender's retry
			deliver(order[1], order[1]+"#2") // a callback delivered twice

			want := map[string][]byte{}
			for k, v := range wantObjects(t, "r6sr3jlzjj") {
				want["transcripts/"+k] = v
			}
			events := checkState(t, moto, bucket, queueURL, want)
			queued := map[string]bool{}
			for _, ev := range events {
				queued[ev.RequestID] = true
			}
			for id, code := range codes {
				// A FIFO queue may drop the copy of a callback delivered twice.
				if code == http.StatusOK && !queued[id] && !(fifo && id == order[1]+"#2") {
					t.Errorf("%s answered 200 but queued no event", id)
				}
				if code != http.StatusOK && queued[id] {
					t.Errorf("%s answered %d but queued an event", id, code)
				}
			}
			// What was sent, whether or not the queue kept it.
			dedup := map[string]string{}
			for _, m := range proxy.Sends(t) {
				var ev callback.Event
				json.Unmarshal([]byte(m.MessageBody), &ev)
				dedup[ev.RequestID] = m.MessageDeduplicationId
				if fifo && (m.MessageGroupId != "r6sr3jlzjj" || m.MessageDeduplicationId != ev.DeduplicationID()) {
					t.Errorf("%s: got group %q, deduplication id %q, want the job and %s", ev.RequestID, m.MessageGroupId, m.MessageDeduplicationId, ev.DeduplicationID())
				}
			}
			if fifo && (dedup[order[1]+"#1"] == "" || dedup[order[1]+"#1"] != dedup[order[1]+"#2"]) {
				t.Errorf("a callback delivered twice: got deduplication ids %q and %q, want one", dedup[order[1]+"#1"], dedup[order[1]+"#2"])
			}
		})
	}
}
