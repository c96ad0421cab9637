// Package callback receives Speechmatics batch-job callbacks.
//
// Speechmatics calls the user's URL when a job ends, with the job ID and status
// in the query string and, depending on the job's notification_config, the
// transcript, the job info and the media in the body, as one item or as
// multipart/form-data. A Service authenticates the caller, classifies and stores
// every attachment under a key built from the job ID, and queues one Event per
// callback, so that consumers cope with callbacks that arrive in any order,
// twice, or only partly.
//
// The package knows nothing of AWS or Lambda: front doors translate what they
// receive into a Request, and sinks implement ObjectStore and EventQueue.
package callback

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// Request is one callback as a front door received it.
type Request struct {
	// Method is the HTTP method, POST or PUT for a callback.
	Method string
	// RawQuery is the query string without the '?', still percent-encoded.
	RawQuery string
	// Header holds the request headers with canonical names; a header that
	// arrived more than once has more than one value.
	Header http.Header
	// Body is the decoded request body; nil or empty for a status-only callback.
	Body io.Reader
	// SourceIP is the address of the caller.
	SourceIP string
	// RequestID identifies this request in logs, events and the response.
	RequestID string
	// Origin is what the Event says produced it: "" for a callback, or
	// OriginReconciler for a door that fetched the contents itself.
	Origin string
}

// WholeBody is a Request.Body that its front door holds, or can decode,
// whole in memory, as the Lambda door's events carry it. The service then
// finds each attachment where it lies in those bytes and hashes and keeps it
// there, without copying it; what it answers is what it would answer for the
// same bytes read as a stream.
type WholeBody interface {
	io.Reader
	// Whole returns all the body's bytes, which the service reads until
	// Handle returns and never changes; ok is false when they cannot be had
	// at once (say a body that fails partway), and the service then reads
	// the body as a stream. It is called, if at all, before any Read.
	Whole() (b []byte, ok bool)
}

// TextBody is a WholeBody that its front door knows to be UTF-8 text without
// NUL, having decoded it so (from a JSON string, say): the service does
// not check its bytes again to tell text from binary.
type TextBody interface {
	WholeBody
	// UTF8Text reports whether the bytes are UTF-8 without NUL; false
	// says nothing.
	UTF8Text() bool
}

// Origins of an Event besides a callback, which leaves Origin empty.
const (
	// OriginCallback may be set by a callback's door; events of callbacks
	// may also leave Origin empty.
	OriginCallback = "callback"
	// OriginReconciler marks contents fetched from the Jobs API, or an
	// event re-sent for stored contents that were never announced.
	OriginReconciler = "reconciler"
	// OriginReplay marks an event re-sent on an operator's request for
	// contents already stored and announced.
	OriginReplay = "replay"
)

// Response is the answer a front door sends back.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Event is the message queued once per stored callback. Its JSON form is the
// same for every queue.
type Event struct {
	Version    int       `json:"version"`
	JobID      string    `json:"job_id"`
	Status     string    `json:"status"`
	ReceivedAt time.Time `json:"received_at"`
	RequestID  string    `json:"request_id"`
	SourceIP   string    `json:"source_ip"`
	UserAgent  string    `json:"user_agent"`
	// Origin says what produced the event: empty or OriginCallback for a
	// callback, OriginReconciler, or OriginReplay.
	Origin      string       `json:"origin,omitempty"`
	Attachments []Attachment `json:"attachments"`
}

// EventVersion is the version of the Event schema that this package writes.
const EventVersion = 1

// Attachment describes one stored object of a callback.
type Attachment struct {
	// Content is the Speechmatics content name, such as "transcript.json-v2",
	// "jobinfo" or "data", or "other" for an attachment that is none of them.
	Content     string `json:"content"`
	Bucket      string `json:"bucket"`
	Key         string `json:"key"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	// SHA256 is the hex SHA-256 of the stored bytes.
	SHA256 string `json:"sha256"`
}

// Object is one attachment handed to an ObjectStore.
type Object struct {
	Key         string
	ContentType string
	Size        int64
	// SHA256 is the SHA-256 of Body, computed while the bytes were received.
	SHA256 [32]byte
	// JobID, Status and Content describe the callback the object came with.
	JobID   string
	Status  string
	Content string
	// Body yields exactly Size bytes; a store may seek back to the start to
	// retry.
	Body io.ReadSeeker
}

// ObjectStore stores attachments. Putting the same key again replaces the
// object, so a retried callback rewrites the same keys with the same bytes.
type ObjectStore interface {
	Put(ctx context.Context, obj *Object) error
}

// Upload is an object written as its bytes arrive, for attachments too
// large to hold in memory. Nothing of it is visible until Complete.
type Upload interface {
	io.Writer
	// Complete makes the object visible. sum and size are those of every
	// byte written.
	Complete(ctx context.Context, sum [32]byte, size int64) error
	// Abort drops what was written.
	Abort(ctx context.Context) error
}

// StreamingStore is an ObjectStore that also takes objects whose size and
// hash are known only at the end. obj has no Body, Size or SHA256 yet.
type StreamingStore interface {
	ObjectStore
	Begin(ctx context.Context, obj *Object) (Upload, error)
}

// EventQueue queues one Event per callback, after all of its attachments are
// stored.
type EventQueue interface {
	Send(ctx context.Context, ev *Event) error
}

// Authenticator decides whether a request comes from the configured sender.
// It returns nil, ErrUnauthorized, or an error wrapping ErrAuthUnavailable when
// it cannot decide yet.
type Authenticator interface {
	Authenticate(h http.Header) error
}

// SourcePolicy decides which addresses may send callbacks.
type SourcePolicy interface {
	Allows(ip string) bool
}

// ErrUnauthorized is returned by an Authenticator for a request without the
// configured credentials.
var ErrUnauthorized = errors.New("unauthorized")

// ErrAuthUnavailable is wrapped by an Authenticator that has no credentials to
// compare with yet, such as a secret that could not be read.
var ErrAuthUnavailable = errors.New("authentication unavailable")

// DeduplicationID identifies the callback by what it delivered, not by when:
// the hex SHA-256 of "<job id>\n<status>\n" followed by "<content>:<sha256>\n"
// for each attachment, sorted by content, then sha256. A retried callback
// has the same one.
func (ev *Event) DeduplicationID() string {
	sorted := slices.Clone(ev.Attachments)
	slices.SortFunc(sorted, func(a, b Attachment) int {
		return cmp.Or(cmp.Compare(a.Content, b.Content), cmp.Compare(a.SHA256, b.SHA256))
	})
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", ev.JobID, ev.Status)
	for _, a := range sorted {
		fmt.Fprintf(h, "%s:%s\n", a.Content, a.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// StoredObject describes an object as a store holds it, for a door that
// reads back what callbacks stored (the reconciler).
type StoredObject struct {
	Key         string
	Size        int64
	SHA256      [32]byte
	ContentType string
	// Content and Status are the object's metadata, "" when the store keeps
	// none.
	Content string
	Status  string
}

// ErrNoObject is wrapped by a store's lookup of a key that holds nothing.
var ErrNoObject = errors.New("no such object")

// ErrStale is wrapped by a store's conditional write of an object that
// another writer changed, or created, since the version it was given was
// read.
var ErrStale = errors.New("the object changed since it was read")
