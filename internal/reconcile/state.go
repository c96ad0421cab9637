package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"smcallbacks/internal/callback"
)

// StateVersion is the version of the state object's schema.
const StateVersion = 1

// State is what one run leaves for the next: where to stop listing, and
// what it noted of jobs not yet behind that point.
type State struct {
	Version int `json:"version"`
	// Watermark is the created_at of the oldest job not settled at the end
	// of the last run (the newest job seen, when all were settled): a run
	// lists no job older than it.
	Watermark time.Time `json:"watermark"`
	// Jobs holds notes on jobs newer than the watermark.
	Jobs map[string]*JobNote `json:"jobs"`
	// version is the stored object's, as loaded: saving checks it.
	version string
}

// JobNote is what the reconciler remembers of one job.
type JobNote struct {
	CreatedAt time.Time `json:"created_at"`
	// FirstIncomplete is when a run first saw the job finished with an
	// expected content missing; the grace runs from then.
	FirstIncomplete *time.Time `json:"first_incomplete,omitempty"`
	// ReconciledAt is when a run last reconciled the job, or tried to;
	// another waits for the grace, so that a slow consumer is not sent the
	// same twice, and a content answered 404 is not asked for at once.
	ReconciledAt *time.Time `json:"reconciled_at,omitempty"`
	// UnrecoverableReported is set once its unrecoverable contents were
	// logged and counted.
	UnrecoverableReported bool `json:"unrecoverable_reported,omitempty"`
	// FailureSent is set once a reconciliation sent the rejected job's
	// status alone. Settling by objects, nothing else shows it was sent.
	FailureSent bool `json:"failure_sent,omitempty"`
	// NotFound counts, per content, the 404s its transcript request got
	// while the job was listed as there. At maxNotFound the content is
	// given up: lost, as a content the Jobs API cannot give is.
	NotFound map[string]int `json:"not_found,omitempty"`
}

// maxNotFound is how many 404s give a content up: the first one leaves it
// for the job's next due run, a grace later, in case the API was not
// ready; a second one means the API will not give it.
const maxNotFound = 2

// givenUp moves from want to unfetchable the contents given up after 404s,
// so that they are lost unless a callback brings them. n may be nil.
func (n *JobNote) givenUp(want, unfetchable []string) ([]string, []string) {
	if n == nil || len(n.NotFound) == 0 {
		return want, unfetchable
	}
	var keep []string
	for _, c := range want {
		if n.NotFound[c] >= maxNotFound {
			unfetchable = append(unfetchable, c)
		} else {
			keep = append(keep, c)
		}
	}
	slices.Sort(unfetchable)
	return keep, unfetchable
}

func newState() *State { return &State{Version: StateVersion, Jobs: map[string]*JobNote{}} }

// note returns the job's note, creating it.
func (s *State) note(job *Job) *JobNote {
	n := s.Jobs[job.ID]
	if n == nil {
		n = &JobNote{CreatedAt: job.CreatedAt.UTC()}
		s.Jobs[job.ID] = n
	}
	return n
}

// prune drops the notes of jobs older than the watermark, which no run
// will list again, and notes that say nothing.
func (s *State) prune() {
	for id, n := range s.Jobs {
		if n.CreatedAt.Before(s.Watermark) || (n.FirstIncomplete == nil && n.ReconciledAt == nil && !n.UnrecoverableReported) {
			delete(s.Jobs, id)
		}
	}
}

func loadState(ctx context.Context, store StateStore) (*State, error) {
	b, version, err := store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	s := newState()
	s.version = version
	if b == nil {
		return s, nil
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("decode state: %w", err)
	}
	if s.Version != StateVersion {
		return nil, fmt.Errorf("state version %d: want %d", s.Version, StateVersion)
	}
	if s.Jobs == nil {
		s.Jobs = map[string]*JobNote{}
	}
	return s, nil
}

// saveState saves s unless another run saved the state since s was
// loaded: that run's state then stands, and this one's notes are dropped.
// What this run stored and queued stands too; a later run may announce it
// again, which consumers take as the duplicate it is.
func (r *Reconciler) saveState(ctx context.Context, s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	err = r.c.State.Save(ctx, b, s.version)
	if errors.Is(err, callback.ErrStale) {
		r.c.Logger.WarnContext(ctx, "another run saved the state first: this run's notes are dropped, its work stands")
		return nil
	}
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}
