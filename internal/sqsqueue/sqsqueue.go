// Package sqsqueue queues callback events in Amazon SQS.
package sqsqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"smcallbacks/internal/callback"
)

// SendMessageAPI is the part of the SQS client that a Queue uses.
type SendMessageAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var _ SendMessageAPI = (*sqs.Client)(nil)

// Queue sends each event as one message to one queue.
type Queue struct {
	client SendMessageAPI
	url    string
	fifo   bool
}

var _ callback.EventQueue = (*Queue)(nil)

// New returns a Queue that sends to the queue at url through client. A URL
// ending in ".fifo" names a FIFO queue.
func New(client SendMessageAPI, url string) *Queue {
	return &Queue{client: client, url: url, fifo: strings.HasSuffix(url, ".fifo")}
}

// Send sends ev as the message body, with the String attributes job_id and
// status. On a FIFO queue the job ID is the message group, so one job's
// events stay in order, and ev.DeduplicationID() is the deduplication ID, so
// a retried callback is not queued twice within SQS's five minutes.
func (q *Queue) Send(ctx context.Context, ev *callback.Event) error {
	return SendJSON(ctx, q.client, q.url, q.fifo, ev, ev.JobID, ev.DeduplicationID(),
		map[string]string{"job_id": ev.JobID, "status": ev.Status})
}

// SendJSON sends v as JSON with String attributes; on a FIFO queue, in
// group with the deduplication ID dedup.
func SendJSON(ctx context.Context, client SendMessageAPI, url string, fifo bool, v any, group, dedup string, attrs map[string]string) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	in := &sqs.SendMessageInput{
		QueueUrl:          &url,
		MessageBody:       ptr(string(body)),
		MessageAttributes: make(map[string]types.MessageAttributeValue, len(attrs)),
	}
	for k, v := range attrs {
		in.MessageAttributes[k] = types.MessageAttributeValue{DataType: ptr("String"), StringValue: ptr(v)}
	}
	if fifo {
		in.MessageGroupId, in.MessageDeduplicationId = &group, &dedup
	}
	if _, err := client.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("queue %s: %w", url, err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
