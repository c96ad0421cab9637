// Package sqsbatch is the assembler's front door: the batches of callback
// events that Lambda's SQS event source hands to a function.
package sqsbatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"smcallbacks/internal/assembler"
	"smcallbacks/internal/callback"
)

// Handler applies each event of a batch and reports the ones that failed,
// so that only those come back (and, after the queue's maxReceiveCount, go to
// its dead-letter queue) without holding up the rest of the batch.
type Handler struct {
	Assembler *assembler.Assembler
	Logger    *slog.Logger
}

// ErrPoison marks a message that is no callback event this code knows.
var ErrPoison = errors.New("not a version 1 callback event")

// Handle processes a batch. On a FIFO queue a failure also fails the rest of
// its message group in the batch, unprocessed, so that the group's order
// holds; other groups go on.
func (h *Handler) Handle(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	failedGroups := map[string]bool{}
	for _, rec := range batch.Records {
		group := rec.Attributes["MessageGroupId"]
		if group != "" && failedGroups[group] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			continue
		}
		ev, err := decode(rec.Body)
		if err == nil {
			err = h.Assembler.Handle(ctx, ev)
		}
		if err != nil {
			h.Logger.Error("event failed", "message_id", rec.MessageId, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			if group != "" {
				failedGroups[group] = true
			}
		}
	}
	return resp, nil
}

func decode(body string) (*callback.Event, error) {
	var ev callback.Event
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPoison, err)
	}
	if ev.Version != callback.EventVersion || ev.JobID == "" || ev.Status == "" {
		return nil, fmt.Errorf("%w: version %d, job %q, status %q", ErrPoison, ev.Version, ev.JobID, ev.Status)
	}
	return &ev, nil
}
