package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"smcallbacks/internal/mototest"
)

func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }

// queueOne stores an object and queues an event for it, plus a message that
// is no event, as the receiver and a stray sender would.
func queueOne(t *testing.T, moto *mototest.Server) (queueURL string) {
	t.Helper()
	bucket, queueURL := moto.Bucket(t), moto.Queue(t, false)
	key := "r6sr3jlzjj/transcript.txt"
	_, err := moto.S3().PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader("SPEAKER S1: hello")})
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{
		`{"version":1,"job_id":"r6sr3jlzjj","status":"success","received_at":"2026-11-27T10:00:00Z","request_id":"r","source_ip":"","user_agent":"",` +
			`"attachments":[{"content":"transcript.txt","bucket":"` + bucket + `","key":"` + key + `","content_type":"text/plain","size":17,"sha256":"x"}]}`,
		`not an event`,
	} {
		if _, err := moto.SQS().SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &queueURL, MessageBody: &body}); err != nil {
			t.Fatal(err)
		}
	}
	return queueURL
}

const wantOutput = "job r6sr3jlzjj: success, 1 attachments\n  transcript.txt: s3://"

func TestGoConsumer(t *testing.T) {
	moto := mototest.Get(t)
	queueURL := queueOne(t, moto)
	var out bytes.Buffer
	c := &consumer{sqs: moto.SQS(), s3: moto.S3(), url: queueURL, out: &out}
	n, err := c.poll(context.Background())
	if err != nil || n != 1 || !strings.HasPrefix(out.String(), wantOutput) || !strings.HasSuffix(out.String(), "/r6sr3jlzjj/transcript.txt, 17 bytes\n") {
		t.Errorf("got %d handled, %v, output %q, want the one event", n, err, out.String())
	}
}

func TestPythonConsumer(t *testing.T) {
	moto := mototest.Get(t)
	queueURL := queueOne(t, moto)
	python := filepath.Join(filepath.Dir(os.Getenv("MOTO_SERVER")), "python")
	cmd := exec.Command(python, "consume.py", "--once")
	cmd.Env = append(os.Environ(), moto.Env()...)
	cmd.Env = append(cmd.Env, "QUEUE_URL="+queueURL)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(out), wantOutput) || !strings.Contains(stderr.String(), "Expecting value") {
		t.Errorf("got %v, output %q, errors %q, want the one event handled and the stray message left", err, out, stderr.String())
	}
}
