// Package sqsbatch is the assembler's front door: the batches of callback
// events that Lambda's SQS event source hands to a function.
package sqsbatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"smcallbacks/internal/assembler"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/metrics"
)

// Handler applies each event of a batch and reports the ones that failed,
// so that only those come back (and, after the queue's maxReceiveCount, go to
// its dead-letter queue) without holding up the rest of the batch.
type Handler struct {
	Assembler *assembler.Assembler
	Logger    *slog.Logger
	// Metrics gets each batch's metrics (metrics.Assembler); nil keeps
	// none.
	Metrics metrics.Recorder
}

// ErrPoison marks a message that is no callback event this code knows.
var ErrPoison = errors.New("not a version 1 callback event")

// Handle processes a batch. On a FIFO queue a failure also fails the rest of
// its message group in the batch, unprocessed, so that the group's order
// holds; other groups go on.
func (h *Handler) Handle(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	var tally tally
	defer func() { h.record(ctx, &tally, len(batch.Records)) }()
	failedGroups := map[string]bool{}
	for _, rec := range batch.Records {
		group := rec.Attributes["MessageGroupId"]
		if group != "" && failedGroups[group] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			continue
		}
		ev, err := decode(rec.Body)
		if err == nil {
			var end *assembler.Ending
			end, err = h.Assembler.Handle(ctx, ev)
			tally.add(end)
		} else {
			tally.poison++
		}
		if err != nil {
			h.Logger.ErrorContext(ctx, "event failed", "message_id", rec.MessageId, "error", err.Error())
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

// tally counts what a batch did.
type tally struct {
	completed, failed, poison int
	took                      []time.Duration
}

func (t *tally) add(end *assembler.Ending) {
	if end == nil {
		return
	}
	if end.State == assembler.StateFailed {
		t.failed++
	} else {
		t.completed++
	}
	t.took = append(t.took, end.Took)
}

// record gives a batch's metrics to the recorder: zeros too, so that the
// dashboard shows a batch that ended nothing.
func (h *Handler) record(ctx context.Context, t *tally, size int) {
	if h.Metrics == nil {
		return
	}
	samples := []metrics.Sample{
		{Metric: metrics.JobsCompleted, Value: float64(t.completed)},
		{Metric: metrics.JobsFailed, Value: float64(t.failed)},
		{Metric: metrics.PoisonEvents, Value: float64(t.poison)},
	}
	for _, d := range t.took {
		samples = append(samples, metrics.Sample{Metric: metrics.JobCompletionTime, Value: d.Seconds()})
	}
	h.Metrics.Record(context.WithoutCancel(ctx), samples, metrics.Property{Name: "batch_size", Value: strconv.Itoa(size)})
}
