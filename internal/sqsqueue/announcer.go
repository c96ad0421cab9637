package sqsqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"smcallbacks/internal/assembler"
)

// Announcer sends job messages to the output queue.
type Announcer struct {
	client SendMessageAPI
	url    string
	fifo   bool
}

var _ assembler.Announcer = (*Announcer)(nil)

// NewAnnouncer returns an Announcer that sends to the queue at url.
func NewAnnouncer(client SendMessageAPI, url string) *Announcer {
	return &Announcer{client: client, url: url, fifo: strings.HasSuffix(url, ".fifo")}
}

// Announce sends msg as JSON with the String attributes type, job_id and
// deduplication_id. On a FIFO queue the deduplication ID is also the
// message's, so the queue delivers it once; consumers of a standard queue
// drop copies by the attribute.
func (a *Announcer) Announce(ctx context.Context, msg *assembler.Message) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	dedup := msg.DeduplicationID()
	in := &sqs.SendMessageInput{
		QueueUrl:    &a.url,
		MessageBody: ptr(string(body)),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"type":             {DataType: ptr("String"), StringValue: &msg.Type},
			"job_id":           {DataType: ptr("String"), StringValue: &msg.JobID},
			"deduplication_id": {DataType: ptr("String"), StringValue: &dedup},
		},
	}
	if a.fifo {
		in.MessageGroupId, in.MessageDeduplicationId = &msg.JobID, &dedup
	}
	if _, err := a.client.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("queue %s: %w", a.url, err)
	}
	return nil
}
