// Command consume is a minimal reader of the callback queue: it receives the
// events, fetches each attachment from S3, and deletes an event only once it
// is handled, so that a failure leaves it for a retry (and, after five, for
// the dead-letter queue).
//
//	QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/speechmatics-callbacks-Queue-abc go run ./examples/consume
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Event is the message body; schema/callback-event.schema.json describes it.
type Event struct {
	Version     int    `json:"version"`
	JobID       string `json:"job_id"`
	Status      string `json:"status"`
	Attachments []struct {
		Content string `json:"content"`
		Bucket  string `json:"bucket"`
		Key     string `json:"key"`
		Size    int64  `json:"size"`
		SHA256  string `json:"sha256"`
	} `json:"attachments"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	c := &consumer{
		sqs: sqs.NewFromConfig(cfg),
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = o.BaseEndpoint != nil }),
		url: os.Getenv("QUEUE_URL"),
		out: os.Stdout,
	}
	for ctx.Err() == nil {
		if _, err := c.poll(ctx); err != nil && ctx.Err() == nil {
			log.Print(err)
		}
	}
}

type consumer struct {
	sqs *sqs.Client
	s3  *s3.Client
	url string
	out io.Writer
}

// poll receives up to 10 events, waiting up to 20 s, and handles them. It
// returns how many it handled.
func (c *consumer) poll(ctx context.Context) (int, error) {
	out, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: &c.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 20,
	})
	if err != nil {
		return 0, err
	}
	handled := 0
	for _, m := range out.Messages {
		if err := c.handle(ctx, *m.Body); err != nil {
			log.Printf("message %s: %v (left for a retry)", *m.MessageId, err)
			continue
		}
		if _, err := c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &c.url, ReceiptHandle: m.ReceiptHandle}); err != nil {
			return handled, err
		}
		handled++
	}
	return handled, nil
}

// handle processes one event. Events of a job come in any order and may
// repeat: key what you keep on the job ID and each attachment's content, and
// treat a sha256 you have seen as a duplicate.
func (c *consumer) handle(ctx context.Context, body string) error {
	var ev Event
	if err := json.Unmarshal([]byte(body), &ev); err != nil || ev.Version != 1 {
		return fmt.Errorf("not a version 1 callback event: %v", err)
	}
	fmt.Fprintf(c.out, "job %s: %s, %d attachments\n", ev.JobID, ev.Status, len(ev.Attachments))
	for _, a := range ev.Attachments {
		obj, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(a.Bucket), Key: aws.String(a.Key)})
		if err != nil {
			return err
		}
		n, err := io.Copy(io.Discard, obj.Body) // your processing goes here
		obj.Body.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "  %s: s3://%s/%s, %d bytes\n", a.Content, a.Bucket, a.Key, n)
	}
	return nil
}
