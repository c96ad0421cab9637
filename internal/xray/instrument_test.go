package xray

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"smcallbacks/internal/mototest"
)

func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }

const (
	testQueueURL = "https://sqs.eu-west-1.amazonaws.com/123456789012/events"
	testBucket   = "media-bucket"
	testKey      = "job-r6sr3jlzjj/transcript.json" // must never reach a subsegment
	testBody     = "body bytes that must never reach a subsegment"
)

// seenRequest is what the fake AWS endpoint saw of one request.
type seenRequest struct {
	target, traceHeader string
	body                []byte
}

// fakeAWS answers S3, SQS (JSON protocol) and Secrets Manager calls with
// the next of its statuses (200 when none are left) and keeps each request.
type fakeAWS struct {
	url string

	mu       sync.Mutex
	statuses []int
	seen     []seenRequest
}

func startFakeAWS(t *testing.T, statuses ...int) *fakeAWS {
	t.Helper()
	f := &fakeAWS{statuses: statuses}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *fakeAWS) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	target := r.Header.Get("X-Amz-Target")
	f.mu.Lock()
	f.seen = append(f.seen, seenRequest{target: target, traceHeader: r.Header.Get(TraceHeaderName), body: body})
	status := http.StatusOK
	if len(f.statuses) > 0 {
		status, f.statuses = f.statuses[0], f.statuses[1:]
	}
	f.mu.Unlock()

	if target == "" { // S3, REST-XML
		w.Header().Set("X-Amz-Request-Id", "req-s3")
		if status != http.StatusOK {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(status)
			fmt.Fprintf(w, `<Error><Code>%s</Code><Message>injected</Message></Error>`, errorCode(status))
			return
		}
		w.Header().Set("ETag", `"etag"`)
		return
	}
	w.Header().Set("X-Amzn-RequestId", "req-json")
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if status != http.StatusOK {
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":"%s","message":"injected"}`, errorCode(status))
		return
	}
	w.Write(jsonAnswer(target, body))
}

func errorCode(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "ThrottlingException"
	case status >= 500:
		return "InternalFailure"
	}
	return "ValidationException"
}

// jsonAnswer is a successful answer to a JSON-protocol call.
func jsonAnswer(target string, body []byte) []byte {
	switch target {
	case "AmazonSQS.SendMessageBatch":
		var in struct{ Entries []struct{ Id string } }
		json.Unmarshal(body, &in)
		var out struct{ Successful []map[string]string }
		for _, e := range in.Entries {
			out.Successful = append(out.Successful, map[string]string{"Id": e.Id, "MessageId": "m-" + e.Id})
		}
		b, _ := json.Marshal(out)
		return b
	case "secretsmanager.GetSecretValue":
		return []byte(`{"Name":"auth","SecretString":"s3cr3t-value"}`)
	}
	return []byte(`{"MessageId":"m-1"}`)
}

func (f *fakeAWS) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

// tracedConfig is an SDK configuration for endpoint, instrumented to emit
// to d, without retries.
func tracedConfig(endpoint string, d *fakeDaemon) aws.Config {
	cfg := aws.Config{
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTESTING", "secret-key-testing", ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
	}
	if d != nil {
		Instrument(&cfg, NewEmitter(d.addr))
	}
	return cfg
}

func sampledContext() context.Context {
	return ContextWithHeader(context.Background(), "Root="+testRoot+";Parent="+testParent+";Sampled=1")
}

func putObject(ctx context.Context, cfg aws.Config) error {
	_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String(testKey), Body: strings.NewReader(testBody),
	})
	return err
}

func sqsClient(cfg aws.Config) *sqs.Client {
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.DisableMessageChecksumValidation = true })
}

func sendMessage(ctx context.Context, cfg aws.Config) error {
	_, err := sqsClient(cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(testQueueURL), MessageBody: aws.String(testBody)})
	return err
}

func getSecret(ctx context.Context, cfg aws.Config) error {
	_, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("auth")})
	return err
}

// wantDoc is what a test expects of a subsegment.
type wantDoc struct {
	name, operation, bucket, queueURL, requestID string
	status                                       int
	error, fault, throttle                       bool
}

// check compares got with w and with the invocation's header, and checks
// that it holds nothing it must not.
func (w wantDoc) check(t *testing.T, got doc) {
	t.Helper()
	if got.Type != "subsegment" || got.TraceID != testRoot || got.ParentID != testParent || got.Namespace != "aws" || !isHex(got.ID, 16) {
		t.Errorf("type, trace_id, parent_id, namespace, id: got %q, %q, %q, %q, %q, want subsegment, %s, %s, aws, 16 hex digits",
			got.Type, got.TraceID, got.ParentID, got.Namespace, got.ID, testRoot, testParent)
	}
	if got.StartTime <= 0 || got.EndTime < got.StartTime {
		t.Errorf("start_time, end_time: got %v, %v, want epoch seconds in order", got.StartTime, got.EndTime)
	}
	gotW := wantDoc{got.Name, got.AWS.Operation, got.AWS.BucketName, got.AWS.QueueURL, got.AWS.RequestID,
		got.HTTP.Response.Status, got.Error, got.Fault, got.Throttle}
	if gotW != w {
		t.Errorf("got %+v, want %+v", gotW, w)
	}
	if got.AWS.Region != "eu-west-1" {
		t.Errorf("region: got %v, want %v", got.AWS.Region, "eu-west-1")
	}
	for _, secret := range []string{testKey, "job-r6sr3jlzjj", testBody, "s3cr3t", "AKID", "secret-key"} {
		if strings.Contains(got.raw, secret) {
			t.Errorf("document %s holds %q", got.raw, secret)
		}
	}
}

func TestInstrumentedCalls(t *testing.T) {
	tests := []struct {
		name   string
		status int
		call   func(context.Context, aws.Config) error
		want   wantDoc
	}{
		{"S3 PutObject", 200, putObject, wantDoc{name: "S3", operation: "PutObject", bucket: testBucket, requestID: "req-s3", status: 200}},
		{"SQS SendMessage", 200, sendMessage, wantDoc{name: "SQS", operation: "SendMessage", queueURL: testQueueURL, requestID: "req-json", status: 200}},
		{"Secrets Manager GetSecretValue", 200, getSecret,
			wantDoc{name: "Secrets Manager", operation: "GetSecretValue", requestID: "req-json", status: 200}},
		{"client error", 400, getSecret,
			wantDoc{name: "Secrets Manager", operation: "GetSecretValue", requestID: "req-json", status: 400, error: true}},
		{"throttled", 429, sendMessage,
			wantDoc{name: "SQS", operation: "SendMessage", queueURL: testQueueURL, requestID: "req-json", status: 429, error: true, throttle: true}},
		{"server error", 500, putObject,
			wantDoc{name: "S3", operation: "PutObject", bucket: testBucket, requestID: "req-s3", status: 500, fault: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, fake := startDaemon(t), startFakeAWS(t, tt.status)
			err := tt.call(sampledContext(), tracedConfig(fake.url, d))
			if (err != nil) != (tt.status != 200) {
				t.Fatalf("call: got %v, want an error %v", err, tt.status != 200)
			}
			got := d.receive(t, 1)[0]
			tt.want.check(t, got)
			d.none(t)
			reqs := fake.requests()
			want := "Root=" + testRoot + ";Parent=" + got.ID + ";Sampled=1"
			if len(reqs) != 1 || reqs[0].traceHeader != want {
				t.Errorf("requests: got %+v, want one with %s: %s", reqs, TraceHeaderName, want)
			}
		})
	}
}

// TestTransportError is a call that gets no response: a fault without a
// status.
func TestTransportError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + ln.Addr().String()
	ln.Close()
	d := startDaemon(t)
	if err := getSecret(sampledContext(), tracedConfig(endpoint, d)); err == nil {
		t.Fatal("call: got nil, want a connection error")
	}
	wantDoc{name: "Secrets Manager", operation: "GetSecretValue", fault: true}.check(t, d.receive(t, 1)[0])
}

// TestRetriedCall is one subsegment for a call and its retries, with the
// outcome of the last attempt; every attempt carries the header.
func TestRetriedCall(t *testing.T) {
	d, fake := startDaemon(t), startFakeAWS(t, 500, 200)
	cfg := tracedConfig(fake.url, d)
	cfg.RetryMaxAttempts = 0 // the retryer's own
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 2
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	if err := getSecret(sampledContext(), cfg); err != nil {
		t.Fatal(err)
	}
	got := d.receive(t, 1)[0]
	wantDoc{name: "Secrets Manager", operation: "GetSecretValue", requestID: "req-json", status: 200}.check(t, got)
	d.none(t)
	want := "Root=" + testRoot + ";Parent=" + got.ID + ";Sampled=1"
	reqs := fake.requests()
	if len(reqs) != 2 || reqs[0].traceHeader != want || reqs[1].traceHeader != want {
		t.Errorf("requests: got %+v, want two with %s: %s", reqs, TraceHeaderName, want)
	}
}

// traceAttribute returns the AWSTraceHeader of each message of a
// SendMessage or SendMessageBatch request body, "" where there is none.
func traceAttribute(t *testing.T, body []byte) []string {
	t.Helper()
	type message struct {
		MessageSystemAttributes map[string]struct{ DataType, StringValue string }
	}
	var in struct {
		message
		Entries []message
	}
	if err := json.Unmarshal(body, &in); err != nil {
		t.Fatalf("request body %s: %v", body, err)
	}
	msgs := in.Entries
	if msgs == nil {
		msgs = []message{in.message}
	}
	var values []string
	for _, m := range msgs {
		a := m.MessageSystemAttributes[TraceAttributeName]
		if a.StringValue != "" && a.DataType != "String" {
			t.Errorf("%s data type: got %v, want %v", TraceAttributeName, a.DataType, "String")
		}
		values = append(values, a.StringValue)
	}
	return values
}

func TestSendMessageCarriesTraceHeader(t *testing.T) {
	d, fake := startDaemon(t), startFakeAWS(t)
	client := sqsClient(tracedConfig(fake.url, d))
	in := &sqs.SendMessageInput{QueueUrl: aws.String(testQueueURL), MessageBody: aws.String("a")}
	if _, err := client.SendMessage(sampledContext(), in); err != nil {
		t.Fatal(err)
	}
	got := d.receive(t, 1)[0]
	want := "Root=" + testRoot + ";Parent=" + got.ID + ";Sampled=1"
	if attrs := traceAttribute(t, fake.requests()[0].body); len(attrs) != 1 || attrs[0] != want {
		t.Errorf("%s: got %q, want [%s]", TraceAttributeName, attrs, want)
	}
	if in.MessageSystemAttributes != nil {
		t.Errorf("the caller's input: got %v, want it unchanged", in.MessageSystemAttributes)
	}
}

func TestSendMessageBatchCarriesTraceHeader(t *testing.T) {
	d, fake := startDaemon(t), startFakeAWS(t)
	client := sqsClient(tracedConfig(fake.url, d))
	own := "Root=1-5759e988-000000000000000000000001;Parent=0000000000000001;Sampled=1"
	in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(testQueueURL), Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("a")},
		{Id: aws.String("b"), MessageBody: aws.String("b"), MessageSystemAttributes: map[string]types.MessageSystemAttributeValue{
			TraceAttributeName: {DataType: aws.String("String"), StringValue: aws.String(own)}}},
		{Id: aws.String("c"), MessageBody: aws.String("c")},
	}}
	if _, err := client.SendMessageBatch(sampledContext(), in); err != nil {
		t.Fatal(err)
	}
	got := d.receive(t, 1)[0]
	wantDoc{name: "SQS", operation: "SendMessageBatch", queueURL: testQueueURL, requestID: "req-json", status: 200}.check(t, got)
	ours := "Root=" + testRoot + ";Parent=" + got.ID + ";Sampled=1"
	attrs := traceAttribute(t, fake.requests()[0].body)
	if want := []string{ours, own, ours}; fmt.Sprint(attrs) != fmt.Sprint(want) {
		t.Errorf("%s: got %q, want %q", TraceAttributeName, attrs, want)
	}
	if in.Entries[0].MessageSystemAttributes != nil || in.Entries[2].MessageSystemAttributes != nil || len(in.Entries[1].MessageSystemAttributes) != 1 {
		t.Errorf("the caller's entries: got %+v, want them unchanged", in.Entries)
	}
}

// TestUntracedCalls: without a sampled header that names a parent, a call
// is left alone.
func TestUntracedCalls(t *testing.T) {
	bg := context.Background()
	tests := []struct {
		name string
		ctx  context.Context
	}{
		{"no header", bg},
		{"unsampled", ContextWithHeader(bg, "Root="+testRoot+";Parent="+testParent+";Sampled=0")},
		{"undecided", ContextWithHeader(bg, "Root="+testRoot+";Parent="+testParent+";Sampled=?")},
		{"no parent", ContextWithHeader(bg, "Root="+testRoot+";Sampled=1")},
		{"malformed", ContextWithHeader(bg, "Root=1-nonsense;Parent="+testParent+";Sampled=1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, fake := startDaemon(t), startFakeAWS(t)
			if err := sendMessage(tt.ctx, tracedConfig(fake.url, d)); err != nil {
				t.Fatal(err)
			}
			d.none(t)
			req := fake.requests()[0]
			if req.traceHeader != "" {
				t.Errorf("%s: got %q, want none", TraceHeaderName, req.traceHeader)
			}
			if attrs := traceAttribute(t, req.body); attrs[0] != "" {
				t.Errorf("%s: got %q, want none", TraceAttributeName, attrs[0])
			}
		})
	}
}

// TestNoDaemon: without a daemon address Instrument adds nothing.
func TestNoDaemon(t *testing.T) {
	e := NewEmitter("")
	var cfg aws.Config
	Instrument(&cfg, e)
	if len(cfg.APIOptions) != 0 {
		t.Errorf("API options: got %d, want %d", len(cfg.APIOptions), 0)
	}
}

// TestOverridesLambdaHeader: under Lambda the SDK itself sends the
// invocation's header from _X_AMZN_TRACE_ID; the subsegment replaces it as
// parent.
func TestOverridesLambdaHeader(t *testing.T) {
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "callback")
	t.Setenv("_X_AMZN_TRACE_ID", "Root="+testRoot+";Parent="+testParent+";Sampled=1")
	d, fake := startDaemon(t), startFakeAWS(t)
	if err := getSecret(sampledContext(), tracedConfig(fake.url, d)); err != nil {
		t.Fatal(err)
	}
	got := d.receive(t, 1)[0]
	if want := "Root=" + testRoot + ";Parent=" + got.ID + ";Sampled=1"; fake.requests()[0].traceHeader != want {
		t.Errorf("%s: got %v, want %v", TraceHeaderName, fake.requests()[0].traceHeader, want)
	}
}

func TestInstrumentTwice(t *testing.T) {
	d, fake := startDaemon(t), startFakeAWS(t)
	cfg := tracedConfig(fake.url, d)
	Instrument(&cfg, NewEmitter(d.addr))
	if err := getSecret(sampledContext(), cfg); err != nil {
		t.Fatal(err)
	}
	d.receive(t, 1)
	d.none(t)
}

func TestConcurrentCalls(t *testing.T) {
	const n = 32
	d, fake := startDaemon(t), startFakeAWS(t)
	cfg := tracedConfig(fake.url, d)
	client := secretsmanager.NewFromConfig(cfg)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := client.GetSecretValue(sampledContext(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("auth")})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]bool{}
	for _, got := range d.receive(t, n) {
		ids[got.ID] = true
	}
	headers := map[string]bool{}
	for _, r := range fake.requests() {
		headers[r.traceHeader] = true
	}
	if len(ids) != n || len(headers) != n {
		t.Errorf("distinct subsegment ids, request headers: got %d, %d, want %d", len(ids), len(headers), n)
	}
}

// TestAgainstMoto runs the calls against moto: the message that comes back
// from the queue carries the trace, with the SendMessage subsegment as
// parent.
func TestAgainstMoto(t *testing.T) {
	moto := mototest.Get(t)
	bucket, queue := moto.Bucket(t), moto.Queue(t, false)
	d := startDaemon(t)
	cfg := moto.Config()
	Instrument(&cfg, NewEmitter(d.addr))
	ctx := sampledContext()
	_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).PutObject(ctx, &s3.PutObjectInput{
		Bucket: &bucket, Key: aws.String(testKey), Body: strings.NewReader(testBody)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqs.NewFromConfig(cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queue, MessageBody: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	docs := d.receive(t, 2)
	if docs[0].Name != "S3" || docs[0].AWS.Operation != "PutObject" || docs[0].AWS.BucketName != bucket || docs[0].HTTP.Response.Status != 200 {
		t.Errorf("first subsegment: got %s, want S3 PutObject to %s, 200", docs[0].raw, bucket)
	}
	if docs[1].Name != "SQS" || docs[1].AWS.Operation != "SendMessage" || docs[1].AWS.QueueURL != queue || docs[1].TraceID != testRoot || docs[1].ParentID != testParent {
		t.Errorf("second subsegment: got %s, want SQS SendMessage to %s under %s", docs[1].raw, queue, testParent)
	}
	msgs := moto.Messages(t, queue)
	want := "Root=" + testRoot + ";Parent=" + docs[1].ID + ";Sampled=1"
	if len(msgs) != 1 || msgs[0].Attributes[TraceAttributeName] != want {
		t.Errorf("received: got %+v, want one message with %s %s", msgs, TraceAttributeName, want)
	}
}

// TestErrorsAreTheCallers: a failed call returns the SDK's error as it
// would without tracing.
func TestErrorsAreTheCallers(t *testing.T) {
	fake := startFakeAWS(t, 400)
	err := getSecret(sampledContext(), tracedConfig(fake.url, startDaemon(t)))
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
		t.Errorf("got %v, want the service's 400", err)
	}
}
