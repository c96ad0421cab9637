package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/jobsapi/jobsapitest"
	"smcallbacks/internal/mototest"
)

// scheduledEvent is what EventBridge sends on each ReconcileSchedule tick.
const scheduledEvent = `{"version":"0","id":"89d1a02d-5ec7-412e-82f5-13505f849b41","detail-type":"Scheduled Event",
"source":"aws.events","account":"123456789012","time":"2026-11-27T10:00:00Z","region":"us-east-1",
"resources":["arn:aws:events:us-east-1:123456789012:rule/reconcile"],"detail":{}}`

// TestLambdaReconciler runs the real reconciler bootstrap under the
// emulator, as deployed (S3, SQS, the API key in Secrets Manager, all in
// moto), and triggers it with a scheduled event: the first invocation,
// with the secret still a placeholder, does nothing and succeeds; once the
// key is in, one invocation recovers a job whose callbacks all failed.
func TestLambdaReconciler(t *testing.T) {
	moto := mototest.Get(t)
	const key, cbURL = "sm-api-key-0123456789-SECRET", "https://abc.execute-api.us-east-1.amazonaws.com/callback"
	api := jobsapitest.New(t, key)
	api.Add(jobsapitest.Job{ID: "lost1", CreatedAt: time.Now().Add(-time.Hour), Status: "done",
		Errors:        []string{"Sending notification failed"},
		Notifications: []jobsapitest.Notification{{URL: cbURL, Contents: []string{"transcript"}, AuthHeaders: []string{"Authorization: Bearer cb-SECRET"}}},
		Transcripts:   map[string][]byte{"json-v2": callbacktest.Fixture(t, "transcript-json-v2-example.json")}})
	secret := moto.Secret(t, `{"api_key":""}`)
	bucket, queueURL := moto.Bucket(t), moto.Queue(t, false)
	boot := buildBootstrap(t, "reconciler", filepath.Join(t.TempDir(), "reconciler"))
	url, out := startRIE(t, boot, append(moto.Env(), "BUCKET_NAME="+bucket, "QUEUE_URL="+queueURL,
		"SPEECHMATICS_API_KEY_SECRET_ID="+secret, "AWS_LAMBDA_FUNCTION_TIMEOUT=60", "SPEECHMATICS_API_URL="+api.URL, "RECONCILE_CALLBACK_URL="+cbURL)...)

	if got := invokeRaw(t, url); got != "null" || !waitOutput(out, "not configured") || len(api.Requests()) != 0 {
		t.Fatalf("placeholder secret: got %s, want null and \"not configured\" logged", got)
	}
	if _, err := moto.SecretsManager().PutSecretValue(t.Context(), secretValue(secret, `{"api_key":"`+key+`"}`)); err != nil {
		t.Fatal(err)
	}
	var sum struct {
		JobsReconciled    int `json:"jobs_reconciled"`
		ContentsRecovered int `json:"contents_recovered"`
	}
	if got := invokeRaw(t, url); json.Unmarshal([]byte(got), &sum) != nil || sum.JobsReconciled != 1 || sum.ContentsRecovered != 1 {
		t.Fatalf("got %s, want lost1's transcript recovered", got)
	}
	// The run's metrics: one EMF record, after the placeholder's run, which
	// asked nothing and records nothing.
	rec := waitMetric(t, out, "JobsReconciled")
	for name, want := range map[string]float64{"JobsReconciled": 1, "ContentsRecovered": 1, "ContentsUnrecoverable": 0, "JobsWaiting": 0, "OldestUnsettledAge": 0} {
		if got, _ := rec.Metric(name); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	msgs := moto.Messages(t, queueURL)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	var ev callback.Event
	json.Unmarshal([]byte(*msgs[0].Body), &ev)
	if ev.JobID != "lost1" || ev.Origin != callback.OriginReconciler || len(ev.Attachments) != 1 || ev.Attachments[0].Key != "lost1/transcript.json" {
		t.Errorf("got event %s, want lost1's transcript from the reconciler", *msgs[0].Body)
	}
	if strings.Contains(out.String(), key) || strings.Contains(out.String(), "cb-SECRET") {
		t.Error("the function's output carries a secret")
	}
}

// invokeRaw sends the scheduled event and returns the function's result.
func invokeRaw(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader([]byte(scheduledEvent)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || bytes.Contains(b, []byte("errorMessage")) {
		t.Fatalf("invoke: HTTP %d %s", resp.StatusCode, b)
	}
	return string(bytes.TrimSpace(b))
}

func secretValue(id, value string) *secretsmanager.PutSecretValueInput {
	return &secretsmanager.PutSecretValueInput{SecretId: &id, SecretString: &value}
}
