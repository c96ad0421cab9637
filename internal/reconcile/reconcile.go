// Package reconcile finds the finished Speechmatics jobs of this receiver
// whose expected contents were never stored or never announced, and closes
// the gap: it fetches the missing contents from the Jobs API and hands them
// to the callback core as one more callback, or queues the event that a
// callback stored objects for but never sent.
//
// It is one more door of the core: what it stores and queues is exactly
// what a callback would have stored and queued, with the event's origin
// "reconciler". The package knows nothing of AWS or HTTP clients: the Jobs
// API, the object index, the manifests and the state object are
// interfaces, implemented by adapters (jobsapi, s3store, local, s3manifest).
package reconcile

import (
	"context"
	"errors"
	"time"

	"smcallbacks/internal/assembler"
	"smcallbacks/internal/callback"
)

// Job statuses of the Jobs API. Any other status counts as not finished.
const (
	JobRunning  = "running"
	JobDone     = "done"
	JobRejected = "rejected"
	JobDeleted  = "deleted"
	JobExpired  = "expired"
)

// Job is what the reconciler needs of a job's details. It never holds the
// auth_headers of the job's notification config.
type Job struct {
	ID        string
	CreatedAt time.Time
	Status    string
	// ConfigKnown is false when the answer carried no config (an
	// on-premises list): read the job itself to learn its notifications.
	ConfigKnown   bool
	Notifications []Notification
	Errors        []JobError
	// JobInfo is the jobinfo content a callback would have sent, taken from
	// the job's details (GET /jobs/{id}). Empty in a list.
	JobInfo []byte
}

// Notification is one entry of the job's notification_config.
type Notification struct {
	URL string
	// Contents as submitted; HasContents is false when the entry had no
	// "contents" at all (the legacy single transcript).
	Contents    []string
	HasContents bool
}

// JobError is one entry of the job's errors.
type JobError struct {
	Timestamp time.Time
	Message   string
}

// Transcript formats of GET /jobs/{id}/transcript.
const (
	FormatJSON = "json-v2"
	FormatTxt  = "txt"
	FormatSRT  = "srt"
)

// JobsAPI is the Speechmatics Jobs API, as the reconciler uses it. Its
// errors wrap ErrUnauthorized, ErrGone or ErrUnavailable when they mean so.
type JobsAPI interface {
	// ListJobs returns up to limit jobs created before createdBefore (the
	// newest jobs when it is zero), newest first. createdBefore has the
	// API's millisecond precision, and whether a job created in its very
	// millisecond comes too is not documented: callers handle both.
	ListJobs(ctx context.Context, createdBefore time.Time, limit int) ([]Job, error)
	// GetJob returns one job with its JobInfo.
	GetJob(ctx context.Context, id string) (*Job, error)
	// Transcript returns the job's transcript in format.
	Transcript(ctx context.Context, id, format string) ([]byte, error)
}

// Errors of a JobsAPI.
var (
	// ErrUnauthorized: the API refused the key. The run stops.
	ErrUnauthorized = errors.New("the Jobs API refused the API key")
	// ErrGone: not found or expired (404, 410). From GET /jobs/{id} the job
	// is gone and settled; from a transcript only that content is missing
	// for now, and it is tried again.
	ErrGone = errors.New("job not found or expired")
	// ErrUnavailable: rate limited or failing (429, 5xx, network) after
	// backing off. The run stops and fails: its remaining jobs are left for
	// the next run.
	ErrUnavailable = errors.New("the Jobs API is unavailable")
)

// StoredObject describes an object in the store. It is defined beside the
// sinks' other types, so that the sinks implement ObjectIndex without
// linking this package into the receiver.
type StoredObject = callback.StoredObject

// ObjectIndex reads what the store holds.
type ObjectIndex interface {
	// Exists reports whether an object is stored at key.
	Exists(ctx context.Context, key string) (bool, error)
	// Stat describes the object at key, with the SHA-256 of its bytes, or
	// returns an error wrapping ErrNoObject.
	Stat(ctx context.Context, key string) (*StoredObject, error)
	// List returns the keys of every object below prefix.
	List(ctx context.Context, prefix string) ([]string, error)
}

// ErrNoObject is wrapped by an ObjectIndex for a key that holds nothing.
var ErrNoObject = callback.ErrNoObject

// Manifests reads the assembler's job manifests.
type Manifests interface {
	// Get returns the job's manifest or an error wrapping
	// assembler.ErrNotFound.
	Get(ctx context.Context, jobID string) (*assembler.Manifest, string, error)
}

// StateStore keeps the reconciler's state object between runs. Its writes
// are conditional, so that of two runs that overlap (a schedule's event
// delivered twice, say) only the first to save does.
type StateStore interface {
	// Load returns the stored bytes and their version, or nil and "" when
	// there are none yet.
	Load(ctx context.Context) (b []byte, version string, err error)
	// Save replaces the stored bytes if they are still at version ("" for
	// none yet), else returns an error wrapping callback.ErrStale: another
	// run saved the state since this one loaded it.
	Save(ctx context.Context, b []byte, version string) error
}

// Core is the callback core: a callback.Service.
type Core interface {
	Handle(ctx context.Context, req *callback.Request) *callback.Response
	Announce(ctx context.Context, a *callback.Announcement) error
}

var _ Core = (*callback.Service)(nil)
