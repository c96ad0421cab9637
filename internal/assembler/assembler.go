package assembler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"smcallbacks/internal/callback"
)

// ErrNotFound is returned by a Store for a job without a manifest.
var ErrNotFound = errors.New("manifest not found")

// ErrConflict is returned by a Store when the manifest changed since it was
// read: read it again and retry.
var ErrConflict = errors.New("manifest changed since it was read")

// Store keeps one manifest per job, with conditional writes, so that two
// events of a job handled at once never lose an update.
type Store interface {
	// Get returns the job's manifest and its version, or ErrNotFound.
	Get(ctx context.Context, jobID string) (m *Manifest, version string, err error)
	// Put writes the manifest if the stored one is still at version (""
	// when there was none) and returns the new version; else ErrConflict.
	Put(ctx context.Context, jobID string, m *Manifest, version string) (string, error)
}

// Announcer sends the job.completed and job.failed messages.
type Announcer interface {
	Announce(ctx context.Context, msg *Message) error
}

// maxAttempts bounds the retries of one event on conflicting writes.
const maxAttempts = 20

// Assembler applies callback events to their job's manifest.
type Assembler struct {
	Store     Store
	Announcer Announcer
	// Expected are the contents that complete a job, as events name them.
	Expected []string
	Logger   *slog.Logger
}

// Ending is a job's end, announced while handling an event.
type Ending struct {
	// State is StateCompleted or StateFailed.
	State string
	// Took is the time from the job's earliest event to its end.
	Took time.Duration
}

// Handle applies one event. It returns once the manifest holds the event
// and, for a job that has ended, the message is sent, with the job's
// Ending when this event's handling sent it; an error means the event should
// be tried again.
func (a *Assembler) Handle(ctx context.Context, ev *callback.Event) (*Ending, error) {
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		end, err := a.apply(ctx, ev)
		if !errors.Is(err, ErrConflict) {
			return end, err
		}
	}
	return nil, fmt.Errorf("job %s: %d conflicting writes in a row: %w", ev.JobID, maxAttempts, ErrConflict)
}

func (a *Assembler) apply(ctx context.Context, ev *callback.Event) (*Ending, error) {
	m, version, err := a.Store.Get(ctx, ev.JobID)
	if errors.Is(err, ErrNotFound) {
		m, version = NewManifest(ev.JobID), ""
	} else if err != nil {
		return nil, fmt.Errorf("get manifest of %s: %w", ev.JobID, err)
	}
	next, changed := Apply(m, ev, a.Expected)
	if changed {
		if version, err = a.Store.Put(ctx, ev.JobID, next, version); err != nil {
			return nil, fmt.Errorf("put manifest of %s: %w", ev.JobID, err)
		}
		if next.State != m.State {
			a.Logger.InfoContext(ctx, "job ended", "job_id", ev.JobID, "state", next.State, "request_id", ev.RequestID)
		}
		m = next
	}
	if m.State == StatePending || m.Announced {
		return nil, nil
	}
	// Sent before it is marked as sent: a crash in between sends it again,
	// never not at all.
	if err := a.Announcer.Announce(ctx, m.Message()); err != nil {
		return nil, fmt.Errorf("announce %s: %w", ev.JobID, err)
	}
	announced := m.clone()
	announced.Announced = true
	if _, err := a.Store.Put(ctx, ev.JobID, announced, version); err != nil {
		return nil, fmt.Errorf("put manifest of %s: %w", ev.JobID, err)
	}
	return &Ending{State: m.State, Took: m.took()}, nil
}
