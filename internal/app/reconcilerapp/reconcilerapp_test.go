package reconcilerapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"smcallbacks/internal/app/reconcilerapp"
	"smcallbacks/internal/assembler"
	"smcallbacks/internal/auth"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/config"
	"smcallbacks/internal/jobsapi/jobsapitest"
	"smcallbacks/internal/mototest"
	"smcallbacks/internal/s3manifest"
	"smcallbacks/internal/s3store"
	"smcallbacks/internal/sqsannounce"
	"smcallbacks/internal/sqsqueue"
)

func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }

const (
	apiKey      = "sm-api-key-0123456789-SECRET"
	token       = "cb-token-9876543210-SECRET"
	callbackURL = "https://abc123.execute-api.eu-west-1.amazonaws.com/callback"
)

// stack is the deployed pieces in moto: bucket, callback queue, output
// queue, the API key's secret, and the fake Jobs API.
type stack struct {
	moto                  *mototest.Server
	bucket, queue, output string
	secret                string
	api                   *jobsapitest.Server
	logs                  bytes.Buffer
}

func newStack(t *testing.T, secretValue string) *stack {
	moto := mototest.Get(t)
	s := &stack{moto: moto, bucket: moto.Bucket(t), queue: moto.Queue(t, false), output: moto.Queue(t, false),
		secret: moto.Secret(t, secretValue), api: jobsapitest.New(t, apiKey)}
	for _, kv := range moto.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Cleanup(func() {
		if strings.Contains(s.logs.String(), apiKey) || strings.Contains(s.logs.String(), token) {
			t.Errorf("a secret is in the log:\n%s", s.logs.String())
		}
	})
	return s
}

// reconciler builds the app as the template configures it.
func (s *stack) reconciler(t *testing.T) *reconcilerapp.App {
	t.Helper()
	env := map[string]string{"AWS_LAMBDA_RUNTIME_API": "", "BUCKET_NAME": s.bucket, "QUEUE_URL": s.queue, "KEY_PREFIX": "tx/",
		"SPEECHMATICS_API_URL": s.api.URL, "SPEECHMATICS_API_KEY_SECRET_ID": s.secret, "RECONCILE_CALLBACK_URL": callbackURL,
		"RECONCILE_SETTLED_BY": "manifest"}
	cfg, err := config.LoadReconciler(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := reconcilerapp.New(context.Background(), cfg, slog.New(slog.NewJSONHandler(&s.logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// receiver is the callback receiver with its SQS sends through proxy.
func (s *stack) receiver(t *testing.T, proxy *mototest.FaultProxy) *callback.Service {
	creds, err := auth.ParseLines("Authorization: Bearer " + token)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.moto.Config()
	cfg.BaseEndpoint = aws.String(proxy.URL)
	return callbacktest.NewService(t, callback.Config{Auth: auth.NewChecker(creds), Bucket: s.bucket, KeyPrefix: "tx/",
		Store: s3store.New(s.moto.S3(), s.bucket), Queue: sqsqueue.New(sqs.NewFromConfig(cfg), s.queue),
		Logger: slog.New(slog.NewJSONHandler(&s.logs, nil))})
}

// multipartCallback is Speechmatics' callback of transcript and jobinfo.
func multipartCallback(t *testing.T, jobID string) *callback.Request {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for name, fixture := range map[string]string{"transcript": "transcript-json-v2-example.json", "jobinfo": "jobinfo.json"} {
		w, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Disposition": {`form-data; name="` + name + `"; filename="` + name + `"`},
			"Content-Type": {"application/json"}})
		w.Write(callbacktest.Fixture(t, fixture))
	}
	mw.Close()
	return &callback.Request{Method: "POST", RawQuery: "id=" + jobID + "&status=success", Body: &body, SourceIP: "40.74.41.91",
		RequestID: "cb", Header: http.Header{"Content-Type": {mw.FormDataContentType()}, "Authorization": {"Bearer " + token}}}
}

// TestAnnouncedNotStored is issue 16's case 1 end to end: a callback's
// objects are stored, SQS refuses every send of its event, the sender gives
// up; one reconciler run queues one event for the stored objects, fetching
// nothing, and the assembler completes the job. A job with no callback at
// all is fetched and completes too. A second run changes nothing.
func TestAnnouncedNotStored(t *testing.T) {
	s := newStack(t, `{"api_key":"`+apiKey+`"}`)
	proxy := s.moto.NewFaultProxy(t)
	proxy.Fail(func(r *http.Request) *mototest.Fault {
		if mototest.IsSQSSend(r) {
			return &mototest.Fault{Status: http.StatusInternalServerError}
		}
		return nil
	})
	recv := s.receiver(t, proxy)
	for range 4 { // Speechmatics' attempts, then it gives up
		if resp := recv.Handle(context.Background(), multipartCallback(t, "silent1")); resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("got %d %s, want 503", resp.StatusCode, resp.Body)
		}
	}
	notes := []jobsapitest.Notification{{URL: callbackURL, Contents: []string{"transcript", "jobinfo"}, AuthHeaders: []string{"Authorization: Bearer " + token}}}
	gaveUp := []string{"Sending notification failed"}
	s.api.Add(jobsapitest.Job{ID: "silent1", CreatedAt: time.Now().Add(-time.Hour), Status: "done", Errors: gaveUp, Notifications: notes},
		jobsapitest.Job{ID: "nocallback1", CreatedAt: time.Now().Add(-time.Hour), Status: "done", Errors: gaveUp, Notifications: notes,
			Transcripts: map[string][]byte{"json-v2": callbacktest.Fixture(t, "transcript-json-v2-example.json")}})

	sum, err := s.reconciler(t).Pass(context.Background())
	if err != nil || sum.JobsReconciled != 2 || sum.ContentsReannounced != 2 || sum.ContentsRecovered != 2 {
		t.Fatalf("got %+v, %v, want silent1's two contents announced again and nocallback1's two fetched", sum, err)
	}
	if n := s.api.Count("/jobs/silent1"); n != 0 {
		t.Errorf("got %d requests for silent1, want none: its objects are stored", n)
	}
	msgs := s.moto.Messages(t, s.queue)
	if len(msgs) != 2 {
		t.Fatalf("got %d messages, want 2", len(msgs))
	}
	a := &assembler.Assembler{Store: s3manifest.New(s.moto.S3(), s.bucket, "tx/"), Expected: []string{"transcript.json-v2", "jobinfo"},
		Announcer: sqsannounce.New(s.moto.SQS(), s.output), Logger: slog.New(slog.DiscardHandler)}
	for _, m := range msgs {
		callbacktest.CheckEventSchema(t, []byte(*m.Body))
		var ev callback.Event
		json.Unmarshal([]byte(*m.Body), &ev)
		if ev.Origin != callback.OriginReconciler || ev.Status != "success" || len(ev.Attachments) != 2 || ev.Attachments[0].Bucket != s.bucket {
			t.Errorf("got event %s, want the reconciler's of two stored objects", *m.Body)
		}
		if _, err := a.Handle(context.Background(), &ev); err != nil {
			t.Fatal(err)
		}
	}
	checkCompleted(t, s, "silent1", "nocallback1")

	s.api.Reset()
	if sum, err := s.reconciler(t).Pass(context.Background()); err != nil || sum.JobsReconciled != 0 || sum.JobsWaiting != 0 {
		t.Errorf("second run: got %+v, %v, want nothing to do", sum, err)
	}
	if n := len(s.moto.Messages(t, s.queue)); n != 0 || s.api.Count("/jobs/") != 0 {
		t.Errorf("second run: got %d messages, %d job requests, want none", n, s.api.Count("/jobs/"))
	}
}

// checkCompleted: each job's manifest is completed and announced, and the
// output queue holds one job.completed per job.
func checkCompleted(t *testing.T, s *stack, ids ...string) {
	t.Helper()
	for _, id := range ids {
		m, _, err := s3manifest.New(s.moto.S3(), s.bucket, "tx/").Get(context.Background(), id)
		if err != nil || m.State != assembler.StateCompleted || !m.Announced {
			t.Errorf("%s: got manifest %+v, %v, want completed and announced", id, m, err)
		}
	}
	var got []string
	for _, m := range s.moto.Messages(t, s.output) {
		var msg assembler.Message
		json.Unmarshal([]byte(*m.Body), &msg)
		got = append(got, msg.JobID+":"+msg.Type)
	}
	if len(got) != len(ids) {
		t.Errorf("got announcements %v, want one job.completed for each of %v", got, ids)
	}
}

// TestNotConfigured: until the secret holds a key, a pass logs "not
// configured" and succeeds, calling nothing.
func TestNotConfigured(t *testing.T) {
	for _, value := range []string{`{"api_key":""}`, "  "} {
		s := newStack(t, value)
		sum, err := s.reconciler(t).Pass(context.Background())
		if sum != nil || err != nil || !strings.Contains(s.logs.String(), "not configured") || len(s.api.Requests()) != 0 {
			t.Errorf("%q: got %+v, %v, log %s, want a quiet success", value, sum, err, s.logs.String())
		}
	}
}

// TestUnauthorizedNamesTheSetting: a key the API refuses fails the pass
// with an error naming where the key comes from, never the key.
func TestUnauthorizedNamesTheSetting(t *testing.T) {
	s := newStack(t, "wrong-key-SECRET")
	_, err := s.reconciler(t).Pass(context.Background())
	if err == nil || !strings.Contains(err.Error(), "SPEECHMATICS_API_KEY_SECRET_ID") || strings.Contains(err.Error()+s.logs.String(), "wrong-key-SECRET") {
		t.Errorf("got %v, log %s, want the setting named and the key nowhere", err, s.logs.String())
	}
	var last map[string]any
	lines := strings.Split(strings.TrimSpace(s.logs.String()), "\n")
	if json.Unmarshal([]byte(lines[len(lines)-1]), &last); last["msg"] != "reconcile run" || last["error"] == nil {
		t.Errorf("got last line %s, want the summary with the error", lines[len(lines)-1])
	}
	if want := []string{"/v2/jobs"}; !reflect.DeepEqual(paths(s.api.Requests()), want) {
		t.Errorf("got requests %v, want %v", paths(s.api.Requests()), want)
	}
}

func paths(reqs []jobsapitest.Request) []string {
	var p []string
	for _, r := range reqs {
		p = append(p, r.Path)
	}
	return p
}
