package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/mototest"
)

// These tests run the real bootstrap, built with the deployment's flags for
// this machine's architecture, under the AWS Lambda Runtime Interface
// Emulator, against S3 and SQS served by moto.

// errNoRIE says that AWS_LAMBDA_RIE names no emulator.
var errNoRIE = errors.New("the Lambda Runtime Interface Emulator was not found: run `make test`, which installs it into .tools and sets AWS_LAMBDA_RIE")

// bootstrap builds the Lambda binary once per test run, with `make
// bootstrap`, so that the flags are those of the deployment build.
func bootstrap(t *testing.T) string {
	t.Helper()
	if bootstrapPath != "" {
		return bootstrapPath
	}
	bootstrapPath = buildBootstrap(t, "callback", filepath.Join(filepath.Dir(binary), "lambda"))
	return bootstrapPath
}

var bootstrapPath string

// emulator is a running Runtime Interface Emulator with our bootstrap.
type emulator struct {
	url string
	out *callbacktest.SyncBuffer
}

// startEmulator runs the bootstrap under the emulator with env added to the
// test environment. It stops when the test ends.
func startEmulator(t *testing.T, env ...string) *emulator {
	t.Helper()
	url, out := startRIE(t, bootstrap(t), env...)
	return &emulator{url: url, out: out}
}

// startRIE runs boot under the emulator with env added to the defaults (a
// 25 s timeout); it stops with the test. It returns the invoke URL and the
// process's output.
func startRIE(t *testing.T, boot string, env ...string) (string, *callbacktest.SyncBuffer) {
	t.Helper()
	rie := rieBinary(t)
	// Both addresses need real ports: the emulator's defaults listen on
	// every interface, and port 0 is passed on to the runtime as it is.
	addrs := freeAddrs(t, 2)
	invokeAddr, runtimeAddr := addrs[0], addrs[1]
	out := &callbacktest.SyncBuffer{}
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", invokeAddr, "--runtime-api-address", runtimeAddr, boot)
	cmd.Dir = filepath.Dir(boot)
	cmd.Env = append(append(os.Environ(), "AWS_LAMBDA_FUNCTION_TIMEOUT=25", "LOG_LEVEL=info"), env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the test
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if t.Failed() {
			t.Logf("emulator output:\n%s", out.String())
		}
	})
	if err := waitListening(invokeAddr); err != nil {
		t.Fatal(err)
	}
	return "http://" + invokeAddr + "/2015-03-31/functions/function/invocations", out
}

// waitListening waits, six seconds at the most, until something listens on
// addr.
func waitListening(addr string) error {
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		if i == 300 {
			return fmt.Errorf("nothing listens on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rieBinary is the emulator that `make test` installs. Without it the test
// is skipped, or fails under CI.
func rieBinary(tb testing.TB) string {
	tb.Helper()
	rie := os.Getenv("AWS_LAMBDA_RIE")
	if _, err := os.Stat(rie); rie == "" || err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatal(errNoRIE)
		}
		tb.Skip(errNoRIE)
	}
	return rie
}

// freeAddrs returns n different free addresses of 127.0.0.1: each is held
// until all are chosen, so that the system cannot hand out one twice.
func freeAddrs(tb testing.TB, n int) []string {
	tb.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		defer ln.Close()
		addrs[i] = "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}
	return addrs
}

// invoke sends one event and decodes the function's response event. The
// emulator takes one invoke at a time.
func (e *emulator) invoke(t *testing.T, payload []byte) (code int, body string) {
	t.Helper()
	resp, err := http.Post(e.url, "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	var r struct {
		StatusCode   int    `json:"statusCode"`
		Body         string `json:"body"`
		ErrorMessage string `json:"errorMessage"`
	}
	if err := json.Unmarshal(out, &r); err != nil || r.ErrorMessage != "" || r.StatusCode == 0 {
		t.Fatalf("invoke: HTTP %d %s (%v)", resp.StatusCode, out, err)
	}
	return r.StatusCode, r.Body
}

func TestLambdaEndToEnd(t *testing.T) {
	moto := mototest.Get(t)
	secretARN := moto.Secret(t, `{"header":"Authorization","scheme":"Bearer","token":"test-token-0123456789"}`)
	// Two set-ups: a standard queue with the token in AUTH_HEADERS, and a
	// FIFO queue with the token in Secrets Manager, as deployed.
	setups := []struct {
		name string
		fifo bool
		auth string
	}{
		{"standard queue, AUTH_HEADERS", false, "AUTH_HEADERS=Authorization: Bearer test-token-0123456789"},
		{"fifo queue, AUTH_SECRET_ID", true, "AUTH_SECRET_ID=" + secretARN},
	}
	for _, setup := range setups {
		fifo := setup.fifo
		for _, ev := range callbacktest.SampleEvents(t) {
			t.Run(setup.name+"/"+ev.Name, func(t *testing.T) {
				// A bucket and a queue of its own, so that what one event
				// stores or queues is not mistaken for another's.
				bucket, queueURL := moto.Bucket(t), moto.Queue(t, fifo)
				e := startEmulator(t, append(moto.Env(), "BUCKET_NAME="+bucket, "QUEUE_URL="+queueURL, setup.auth)...)
				code, body := e.invoke(t, ev.Payload)
				if code != ev.StatusCode {
					t.Fatalf("got %d %s, want %d", code, body, ev.StatusCode)
				}
				if fifo {
					// The sender's retry: the same callback again. The FIFO
					// queue drops the copy by its deduplication ID.
					if code, body := e.invoke(t, ev.Payload); code != ev.StatusCode {
						t.Fatalf("again: got %d %s, want %d", code, body, ev.StatusCode)
					}
				}
				checkObjects(t, moto, bucket, ev)
				msgs := moto.Messages(t, queueURL)
				if ev.StatusCode != http.StatusOK {
					if len(msgs) != 0 {
						t.Errorf("got %d messages, want none", len(msgs))
					}
					return
				}
				if len(msgs) != 1 {
					t.Fatalf("got %d messages, want 1", len(msgs))
				}
				callbacktest.CheckEventSchema(t, []byte(*msgs[0].Body))
				var got callback.Event
				if err := json.Unmarshal([]byte(*msgs[0].Body), &got); err != nil {
					t.Fatal(err)
				}
				if got.JobID != ev.JobID || got.Status != ev.Status || got.RequestID != ev.RequestID || len(got.Attachments) != len(ev.Objects) {
					t.Errorf("got event %+v, want job %s, status %s, request %s, %d attachments", got, ev.JobID, ev.Status, ev.RequestID, len(ev.Objects))
				}
				for _, a := range got.Attachments {
					if a.Bucket != bucket || ev.Objects[a.Key] == "" {
						t.Errorf("got attachment %+v, want one of %v in %s", a, ev.Objects, bucket)
					}
				}
				for name, want := range map[string]string{"job_id": ev.JobID, "status": ev.Status} {
					if attr := msgs[0].MessageAttributes[name]; attr.StringValue == nil || *attr.StringValue != want {
						t.Errorf("%s attribute: got %+v, want %s", name, attr, want)
					}
				}
				if fifo && msgs[0].Attributes["MessageDeduplicationId"] != got.DeduplicationID() {
					t.Errorf("deduplication id: got %q, want %q", msgs[0].Attributes["MessageDeduplicationId"], got.DeduplicationID())
				}
			})
		}
	}
}

// checkObjects compares the bucket's objects with the event's expectations,
// byte for byte.
func checkObjects(t *testing.T, moto *mototest.Server, bucket string, ev callbacktest.SampleEvent) {
	t.Helper()
	client := moto.S3()
	list, err := client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, *o.Key)
	}
	if len(keys) != len(ev.Objects) {
		t.Errorf("got objects %v, want %v", keys, ev.Objects)
	}
	for key, fixture := range ev.Objects {
		out, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		if err != nil {
			t.Errorf("%s: %v", key, err)
			continue
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		want := callbacktest.Fixture(t, fixture)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: stored bytes differ from %s", key, fixture)
		}
		head, err := client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(want)
		if head.ChecksumSHA256 == nil || *head.ChecksumSHA256 != base64.StdEncoding.EncodeToString(sum[:]) {
			t.Errorf("%s: got checksum %v, want the SHA-256 of %s", key, head.ChecksumSHA256, fixture)
		}
		if head.Metadata["job-id"] != ev.JobID || head.Metadata["status"] != ev.Status || head.Metadata["content"] == "" {
			t.Errorf("%s: got metadata %v, want job-id %s, status %s and the content", key, head.Metadata, ev.JobID, ev.Status)
		}
	}
}

// TestLambdaFaults covers what the emulator adds to the handler tests: a
// sink that fails answers 503 through the real runtime, and the process goes
// on serving.
func TestLambdaFaults(t *testing.T) {
	moto := mototest.Get(t)
	queueURL := moto.Queue(t, false)
	e := startEmulator(t, append(moto.Env(),
		"BUCKET_NAME=no-such-bucket", "QUEUE_URL="+queueURL,
		"AUTH_HEADERS=Authorization: Bearer test-token-0123456789")...)
	var multipart callbacktest.SampleEvent
	for _, ev := range callbacktest.SampleEvents(t) {
		if ev.Name == "http-api-multipart.json" {
			multipart = ev
		}
	}
	for range 2 {
		code, body := e.invoke(t, multipart.Payload)
		if want := `{"error":"could not store the callback, retry later"}`; code != http.StatusServiceUnavailable || body != want {
			t.Errorf("got %d %s, want 503 %s", code, body, want)
		}
	}
	if msgs := moto.Messages(t, queueURL); len(msgs) != 0 {
		t.Errorf("got %d messages, want none", len(msgs))
	}
	if strings.Contains(e.out.String(), "test-token-0123456789") {
		t.Error("the function's output carries the token")
	}
}

// TestLambdaDeadline slows S3 past the function's timeout: the function
// answers 503 before Lambda ends it, so the sender retries.
func TestLambdaDeadline(t *testing.T) {
	moto := mototest.Get(t)
	proxy := moto.NewFaultProxy(t)
	proxy.Fail(func(r *http.Request) *mototest.Fault {
		if r.Method == http.MethodPut {
			return &mototest.Fault{Delay: time.Hour}
		}
		return nil
	})
	bucket, queueURL := moto.Bucket(t), moto.Queue(t, false)
	e := startEmulator(t, append(proxy.Env(), "AWS_LAMBDA_FUNCTION_TIMEOUT=3",
		"BUCKET_NAME="+bucket, "QUEUE_URL="+queueURL, "AUTH_HEADERS=Authorization: Bearer test-token-0123456789")...)
	for _, ev := range callbacktest.SampleEvents(t) {
		if ev.Name != "http-api-transcript-json.json" {
			continue
		}
		code, body := e.invoke(t, ev.Payload)
		if want := `{"error":"timed out, retry later"}`; code != http.StatusServiceUnavailable || body != want {
			t.Errorf("got %d %s, want 503 %s", code, body, want)
		}
	}
	if msgs := moto.Messages(t, queueURL); len(msgs) != 0 {
		t.Errorf("got %d messages, want none", len(msgs))
	}
}
