// Package assembler keeps one manifest per Speechmatics job from the callback
// events, which arrive in any order, twice, or only partly, and announces
// once when a job is complete or has failed.
//
// The manifest is a pure function of the set of events applied to it, not
// of their order: each content keeps its earliest arrival, each status its
// earliest time, and a state change is dated by the events that caused it.
package assembler

import (
	"maps"
	"slices"
	"time"

	"smcallbacks/internal/callback"
)

// Job states.
const (
	StatePending   = "pending"
	StateCompleted = "completed"
	StateFailed    = "failed"
)

// Manifest is what is known of one job.
type Manifest struct {
	Version  int                `json:"version"`
	JobID    string             `json:"job_id"`
	State    string             `json:"state"`
	Contents map[string]Content `json:"contents"`
	Statuses []StatusSeen       `json:"statuses"`
	// EndedAt is when the job completed or failed: the arrival of the last
	// expected content, or of the failing status.
	EndedAt *time.Time `json:"ended_at,omitempty"`
	// Announced is set once the job.completed or job.failed message is sent.
	Announced bool `json:"announced"`
}

// Content is one stored attachment of the job.
type Content struct {
	Bucket         string    `json:"bucket"`
	Key            string    `json:"key"`
	SHA256         string    `json:"sha256"`
	FirstArrivedAt time.Time `json:"first_arrived_at"`
}

// StatusSeen is a callback status and when it was first received.
type StatusSeen struct {
	Status     string    `json:"status"`
	ReceivedAt time.Time `json:"received_at"`
}

// ManifestVersion is the version of the Manifest schema.
const ManifestVersion = 1

// NewManifest returns the manifest of a job of which nothing is known yet.
func NewManifest(jobID string) *Manifest {
	return &Manifest{Version: ManifestVersion, JobID: jobID, State: StatePending,
		Contents: map[string]Content{}, Statuses: []StatusSeen{}}
}

// Apply adds what ev says to a copy of m and returns it, with whether
// anything changed. expected are the contents that complete the job.
// Applying the same event twice changes nothing the second time, and the
// result does not depend on the order events are applied in, except that
// the state, once completed or failed, never changes again.
func Apply(m *Manifest, ev *callback.Event, expected []string) (*Manifest, bool) {
	next := m.clone()
	for _, a := range ev.Attachments {
		c, ok := next.Contents[a.Content]
		// The earliest arrival wins, whatever the order events come in;
		// a tie goes to the smaller key, for the same reason.
		if !ok || ev.ReceivedAt.Before(c.FirstArrivedAt) || (ev.ReceivedAt.Equal(c.FirstArrivedAt) && a.Key < c.Key) {
			next.Contents[a.Content] = Content{Bucket: a.Bucket, Key: a.Key, SHA256: a.SHA256, FirstArrivedAt: ev.ReceivedAt.UTC()}
		}
	}
	next.addStatus(ev.Status, ev.ReceivedAt.UTC())
	if next.State == StatePending {
		next.decide(expected)
	}
	// The end is dated by the events, and an event received earlier may be
	// applied later: date it again each time.
	if at := next.endedAt(expected); at != nil {
		next.EndedAt = at
	}
	return next, !next.equal(m)
}

// endedAt dates the end of a job that has ended: the earliest failing
// status, or the arrival of the last expected content.
func (m *Manifest) endedAt(expected []string) *time.Time {
	switch m.State {
	case StateFailed:
		for _, s := range m.Statuses { // sorted by time
			if callback.IsFailure(s.Status) {
				at := s.ReceivedAt
				return &at
			}
		}
	case StateCompleted:
		var last time.Time
		for _, name := range expected {
			if c := m.Contents[name]; c.FirstArrivedAt.After(last) {
				last = c.FirstArrivedAt
			}
		}
		return &last
	}
	return nil
}

// took is the time from the job's earliest event to its end. Every event
// has a status: the earliest status is the earliest event.
func (m *Manifest) took() time.Duration {
	if m.EndedAt == nil || len(m.Statuses) == 0 {
		return 0
	}
	return m.EndedAt.Sub(m.Statuses[0].ReceivedAt)
}

func (m *Manifest) addStatus(status string, at time.Time) {
	for i, s := range m.Statuses {
		if s.Status == status {
			if at.Before(s.ReceivedAt) {
				m.Statuses[i].ReceivedAt = at
			}
			m.sortStatuses()
			return
		}
	}
	m.Statuses = append(m.Statuses, StatusSeen{Status: status, ReceivedAt: at})
	m.sortStatuses()
}

func (m *Manifest) sortStatuses() {
	slices.SortFunc(m.Statuses, func(a, b StatusSeen) int {
		if c := a.ReceivedAt.Compare(b.ReceivedAt); c != 0 {
			return c
		}
		return compareStrings(a.Status, b.Status)
	})
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// decide moves a pending job to failed when a failing status was seen, else
// to completed when every expected content is there. Unknown statuses change
// nothing.
func (m *Manifest) decide(expected []string) {
	for _, s := range m.Statuses {
		if callback.IsFailure(s.Status) {
			m.State = StateFailed
			return
		}
	}
	if len(expected) == 0 {
		return
	}
	for _, name := range expected {
		if _, ok := m.Contents[name]; !ok {
			return
		}
	}
	m.State = StateCompleted
}

// Message is what the output queue gets when a job completes or fails.
type Message struct {
	Version int    `json:"version"`
	Type    string `json:"type"` // job.completed or job.failed
	JobID   string `json:"job_id"`
	// Contents maps each content that arrived to its key.
	Contents    map[string]string `json:"contents"`
	CompletedAt time.Time         `json:"completed_at"`
}

// DeduplicationID is the same for every copy of the message: a FIFO queue
// delivers it once, and consumers of a standard queue can drop the copies.
func (msg *Message) DeduplicationID() string { return msg.JobID + ":" + msg.Type }

// Message returns the announcement of a job that has ended, or nil for a
// pending job.
func (m *Manifest) Message() *Message {
	if m.State == StatePending || m.EndedAt == nil {
		return nil
	}
	typ := "job.completed"
	if m.State == StateFailed {
		typ = "job.failed"
	}
	// What had arrived by the end: the same in every copy of the message,
	// whatever arrives after.
	contents := make(map[string]string, len(m.Contents))
	for name, c := range m.Contents {
		if !c.FirstArrivedAt.After(*m.EndedAt) {
			contents[name] = c.Key
		}
	}
	return &Message{Version: 1, Type: typ, JobID: m.JobID, Contents: contents, CompletedAt: *m.EndedAt}
}

func (m *Manifest) clone() *Manifest {
	c := *m
	c.Contents = maps.Clone(m.Contents)
	if c.Contents == nil {
		c.Contents = map[string]Content{}
	}
	c.Statuses = slices.Clone(m.Statuses)
	if c.Statuses == nil {
		c.Statuses = []StatusSeen{}
	}
	if m.EndedAt != nil {
		at := *m.EndedAt
		c.EndedAt = &at
	}
	return &c
}

func (m *Manifest) equal(o *Manifest) bool {
	if m.State != o.State || m.Announced != o.Announced || (m.EndedAt == nil) != (o.EndedAt == nil) ||
		(m.EndedAt != nil && !m.EndedAt.Equal(*o.EndedAt)) || len(m.Statuses) != len(o.Statuses) {
		return false
	}
	for i := range m.Statuses {
		if m.Statuses[i].Status != o.Statuses[i].Status || !m.Statuses[i].ReceivedAt.Equal(o.Statuses[i].ReceivedAt) {
			return false
		}
	}
	return maps.EqualFunc(m.Contents, o.Contents, func(a, b Content) bool {
		return a.Bucket == b.Bucket && a.Key == b.Key && a.SHA256 == b.SHA256 && a.FirstArrivedAt.Equal(b.FirstArrivedAt)
	})
}
