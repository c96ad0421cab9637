// Package sqsannounce sends the assembler's job messages to an SQS queue.
package sqsannounce

import (
	"context"
	"strings"

	"smcallbacks/internal/assembler"
	"smcallbacks/internal/sqsqueue"
)

// Announcer sends job messages to the output queue.
type Announcer struct {
	client sqsqueue.SendMessageAPI
	url    string
	fifo   bool
}

var _ assembler.Announcer = (*Announcer)(nil)

// New returns an Announcer that sends to the queue at url.
func New(client sqsqueue.SendMessageAPI, url string) *Announcer {
	return &Announcer{client: client, url: url, fifo: strings.HasSuffix(url, ".fifo")}
}

// Announce sends msg as JSON with the String attributes type, job_id and
// deduplication_id. On a FIFO queue the deduplication ID is also the
// message's, so the queue delivers it once; consumers of a standard queue
// drop copies by the attribute.
func (a *Announcer) Announce(ctx context.Context, msg *assembler.Message) error {
	dedup := msg.DeduplicationID()
	return sqsqueue.SendJSON(ctx, a.client, a.url, a.fifo, msg, msg.JobID, dedup,
		map[string]string{"type": msg.Type, "job_id": msg.JobID, "deduplication_id": dedup})
}
