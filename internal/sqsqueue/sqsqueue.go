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
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	in := &sqs.SendMessageInput{
		QueueUrl:    &q.url,
		MessageBody: ptr(string(body)),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"job_id": {DataType: ptr("String"), StringValue: &ev.JobID},
			"status": {DataType: ptr("String"), StringValue: &ev.Status},
		},
	}
	if q.fifo {
		in.MessageGroupId = &ev.JobID
		in.MessageDeduplicationId = ptr(ev.DeduplicationID())
	}
	if _, err := q.client.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("queue %s: %w", q.url, err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
