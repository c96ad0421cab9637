package main

import (
	"bufio"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/emf/emftest"
	"smcallbacks/internal/mototest"
)

// TestLambdaMetricsAndLogs sends each sample event, in turn, to one
// emulated function and reads its output: each callback writes one EMF
// record with its outcome, valid against the specification, and the
// attachments it stored by content; its log line carries the Lambda request
// ID, and cold_start is true for the first invocation only.
func TestLambdaMetricsAndLogs(t *testing.T) {
	moto := mototest.Get(t)
	bucket, queueURL := moto.Bucket(t), moto.Queue(t, false)
	e := startEmulator(t, append(moto.Env(), "BUCKET_NAME="+bucket, "QUEUE_URL="+queueURL,
		"AUTH_HEADERS=Authorization: Bearer test-token-0123456789", "METRICS_NAMESPACE=Test/Callbacks")...)
	for i, ev := range callbacktest.SampleEvents(t) {
		t.Run(ev.Name, func(t *testing.T) {
			if code, body := e.invoke(t, ev.Payload); code != ev.StatusCode {
				t.Fatalf("got %d %s, want %d", code, body, ev.StatusCode)
			}
			rec := waitRecords(t, e, i+1)[i]
			want := map[string]float64{}
			var size float64
			for _, m := range moto.Messages(t, queueURL) {
				var queued callback.Event
				json.Unmarshal([]byte(*m.Body), &queued)
				for _, a := range queued.Attachments {
					want[a.Content]++
					size += float64(a.Size)
				}
			}
			checkCallbackRecord(t, rec, ev, want, size)

			line := callbackLine(t, e, i)
			if id, _ := line["aws_request_id"].(string); id == "" || id != rec.main["aws_request_id"] {
				t.Errorf("log line's aws_request_id: got %v, want the record's %v", line["aws_request_id"], rec.main["aws_request_id"])
			}
			if got, want := line["cold_start"], i == 0; got != want {
				t.Errorf("cold_start: got %v, want %v", got, want)
			}
			if _, ok := line["function_version"]; !ok {
				t.Errorf("log line %v has no function_version", line)
			}
		})
	}
}

// checkCallbackRecord compares one callback's record with its answer and
// with what was queued: contents counts each content's attachments, size
// their bytes.
func checkCallbackRecord(t *testing.T, recs callbackRecords, ev callbacktest.SampleEvent, contents map[string]float64, size float64) {
	t.Helper()
	rec := recs.main
	outcome := "stored"
	if ev.StatusCode == http.StatusUnauthorized {
		outcome = "unauthorized"
	}
	if v, _ := rec.Metric("Callbacks"); v != 1.0 || rec["Outcome"] != outcome {
		t.Errorf("got Callbacks %v with Outcome %v, want 1 with %s", v, rec["Outcome"], outcome)
	}
	// A refused callback's job ID is in its record too, when it names one.
	if (ev.JobID != "" && rec["job_id"] != ev.JobID) || rec["FunctionName"] == "" {
		t.Errorf("got job_id %v and FunctionName %v, want %q and the function's name", rec["job_id"], rec["FunctionName"], ev.JobID)
	}
	if ns := rec["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Namespace"]; ns != "Test/Callbacks" {
		t.Errorf("got namespace %v, want METRICS_NAMESPACE's Test/Callbacks", ns)
	}
	if v, _ := rec.Metric("AttachmentBytes"); v != size {
		t.Errorf("AttachmentBytes: got %v, want %v", v, size)
	}
	// The first content is in the callback's record; the others each in a
	// record of their own, written with it.
	got := map[string]float64{}
	for _, r := range append([]emftest.Record{rec}, recs.more...) {
		if _, ok := r.Metric("Attachments"); !ok {
			continue
		}
		v, _ := r.Metric("Attachments")
		got[r["Content"].(string)] += v.(float64)
	}
	if !maps.Equal(got, contents) {
		t.Errorf("Attachments by content: got %v, want %v", got, contents)
	}
}

// callbackRecords are the EMF records of one callback: the one with its
// Callbacks metric, and those written with it for more contents.
type callbackRecords struct {
	main emftest.Record
	more []emftest.Record
}

// waitRecords waits, up to five seconds, until the function's output holds
// the records of n callbacks, and returns them: the emulator passes the
// function's output on after the answer.
func waitRecords(t *testing.T, e *emulator, n int) []callbackRecords {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var callbacks []callbackRecords
		for _, r := range emftest.Records(t, []byte(e.out.String())) {
			if _, ok := r.Metric("Callbacks"); ok {
				callbacks = append(callbacks, callbackRecords{main: r})
			} else if len(callbacks) > 0 && r["aws_request_id"] == callbacks[len(callbacks)-1].main["aws_request_id"] {
				callbacks[len(callbacks)-1].more = append(callbacks[len(callbacks)-1].more, r)
			}
		}
		if len(callbacks) >= n || time.Now().After(deadline) {
			if len(callbacks) != n {
				t.Fatalf("got the records of %d callbacks, want %d", len(callbacks), n)
			}
			return callbacks
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// callbackLine waits, up to five seconds, for the i-th log line of a
// callback ("msg":"callback") and returns it: the function's log and its
// metric records reach the emulator's output through pipes of their own,
// in either order.
func callbackLine(t *testing.T, e *emulator, i int) map[string]any {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		sc := bufio.NewScanner(strings.NewReader(e.out.String()))
		sc.Buffer(nil, 1<<20)
		for n := 0; sc.Scan(); {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) != nil || line["msg"] != "callback" {
				continue
			}
			if n == i {
				return line
			}
			n++
		}
	}
	t.Fatalf("no log line for callback %d", i)
	return nil
}

// waitOutput waits, up to five seconds, for out to hold s, and reports
// whether it does: the emulator passes a function's output on after its
// answer.
func waitOutput(out *callbacktest.SyncBuffer, s string) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(out.String(), s) {
			return true
		}
	}
	return false
}

// waitMetric waits, up to five seconds, for the first EMF record in out
// that has the named metric.
func waitMetric(t *testing.T, out *callbacktest.SyncBuffer, name string) emftest.Record {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, r := range emftest.Records(t, []byte(out.String())) {
			if _, ok := r.Metric(name); ok {
				return r
			}
		}
	}
	t.Fatalf("no EMF record with %s in the output", name)
	return nil
}

// TestLambdaTracing runs the receiver's bootstrap for one sampled
// invocation, against S3 and SQS in moto and a stand-in for the X-Ray
// daemon: each S3 and SQS call is a subsegment of the invocation, the
// queued event carries the trace on to its consumer, and the log line and
// metric record name the trace.
func TestLambdaTracing(t *testing.T) {
	moto := mototest.Get(t)
	bucket, queueURL := moto.Bucket(t), moto.Queue(t, false)
	daemon := listenDaemon(t)
	env := append(os.Environ(), moto.Env()...)
	env = append(env, "BUCKET_NAME="+bucket, "QUEUE_URL="+queueURL, "AUTH_HEADERS=Authorization: Bearer test-token-0123456789",
		"AWS_XRAY_DAEMON_ADDRESS="+daemon.addr, "AWS_LAMBDA_FUNCTION_NAME=callback-test")
	payload, err := os.ReadFile(filepath.Join(callbacktest.Root(), "events", "http-api-multipart.json"))
	if err != nil {
		t.Fatal(err)
	}
	const root, parent = "1-67891233-abcdef012345678912345678", "53995c3f42cd8ad8"
	out := invokeTraced(t, bootstrap(t), env, payload, "Root="+root+";Parent="+parent+";Sampled=1")

	// Three objects stored, one event queued: four calls.
	type subsegment struct {
		Type, Name, ID string
		TraceID        string `json:"trace_id"`
		ParentID       string `json:"parent_id"`
		AWS            struct{ Operation string }
	}
	var subs []subsegment
	for deadline := time.Now().Add(2 * time.Second); len(subs) < 4 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		subs = subs[:0]
		for _, doc := range daemon.wait(root, true) {
			var sub subsegment
			if err := json.Unmarshal(doc, &sub); err != nil {
				t.Fatalf("subsegment %s: %v", doc, err)
			}
			subs = append(subs, sub)
		}
	}
	calls := map[string]int{}
	var sendID string
	for _, sub := range subs {
		if sub.Type != "subsegment" || sub.TraceID != root || sub.ParentID != parent || len(sub.ID) != 16 {
			t.Errorf("got %+v, want an independent subsegment of %s under %s", sub, root, parent)
		}
		calls[sub.Name+" "+sub.AWS.Operation]++
		if sub.AWS.Operation == "SendMessage" {
			sendID = sub.ID
		}
	}
	if want := map[string]int{"S3 PutObject": 3, "SQS SendMessage": 1}; !maps.Equal(calls, want) {
		t.Errorf("got subsegments %v, want %v", calls, want)
	}
	msgs := moto.Messages(t, queueURL)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	if got, want := msgs[0].Attributes["AWSTraceHeader"], "Root="+root+";Parent="+sendID+";Sampled=1"; got != want {
		t.Errorf("AWSTraceHeader: got %q, want %q", got, want)
	}
	for _, what := range []string{`"msg":"callback"`, `"_aws"`} {
		if !strings.Contains(lineWith(out, what), `"xray_trace_id":"`+root+`"`) {
			t.Errorf("the line with %s does not name the trace:\n%s", what, out)
		}
	}
}

// lineWith returns the first line of out that contains s.
func lineWith(out, s string) string {
	for line := range strings.Lines(out) {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}
