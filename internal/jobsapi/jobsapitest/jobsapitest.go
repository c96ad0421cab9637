// Package jobsapitest is a fake Speechmatics Jobs API for tests: an
// httptest server that answers GET /v2/jobs, /v2/jobs/{id} and
// /v2/jobs/{id}/transcript as the facts file describes (newest first,
// limit 1–100, created_before paging, exclusive or inclusive,
// include_deleted, 404 and 410, wait), fails requests on command (429 with
// or without Retry-After, 5xx), and records every request so that tests
// count them.
package jobsapitest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Job is one job the fake knows.
type Job struct {
	ID        string
	CreatedAt time.Time
	// Status is running, done, rejected, deleted, expired, or anything
	// else.
	Status        string
	Notifications []Notification
	// Errors are the messages of the job's errors, in order.
	Errors []string
	// Transcripts by format (json-v2, txt, srt), for a done job.
	Transcripts map[string][]byte
	DataName    string
}

// Notification is one notification_config entry. Contents nil leaves
// "contents" out (the legacy transcript).
type Notification struct {
	URL         string
	Contents    []string
	AuthHeaders []string
}

// Request is one request the fake received. The Authorization header is
// recorded only as whether it matched.
type Request struct {
	Method, Path string
	Query        url.Values
	Authorized   bool
	At           time.Time
}

// Fault answers a matching request with Status (and Retry-After when not
// ""), Times times; 0 means every time.
type Fault struct {
	Match      func(r *http.Request) bool
	Status     int
	RetryAfter string
	Times      int
	used       int
}

// Server is a running fake.
type Server struct {
	// URL is the API's base URL, ending in /v2.
	URL string
	// Key is the API key it accepts.
	Key string
	srv *httptest.Server

	mu       sync.Mutex
	jobs     map[string]*Job
	requests []Request
	faults   []*Fault
	// WaitDelay is how long a request for a running job waits when it does
	// not say wait=0, or always when IgnoreWait.
	WaitDelay  time.Duration
	IgnoreWait bool
	// OmitConfigInList leaves config out of the list, as an on-premises
	// appliance does.
	OmitConfigInList bool
	// InclusiveCursor lists the jobs created at created_before too: the
	// facts leave open whether the API does.
	InclusiveCursor bool
	// VendorJSON types json-v2 transcripts application/vnd.speechmatics.v2+json.
	VendorJSON bool
}

// New starts a fake that accepts key and stops when the test ends.
func New(t testing.TB, key string) *Server {
	s := &Server{Key: key, jobs: map[string]*Job{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/v2"
	t.Cleanup(s.srv.Close)
	return s
}

// Add adds or replaces jobs.
func (s *Server) Add(jobs ...Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range jobs {
		j := j
		s.jobs[j.ID] = &j
	}
}

// Update changes a job in place.
func (s *Server) Update(id string, f func(j *Job)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.jobs[id])
}

// Fail adds a fault; faults are tried in the order added.
func (s *Server) Fail(f *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// Requests returns every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Count returns how many requests were received for paths that start with
// prefix, below /v2, such as "/jobs/abc/transcript".
func (s *Server) Count(prefix string) int {
	n := 0
	for _, r := range s.Requests() {
		if strings.HasPrefix(r.Path, "/v2"+prefix) {
			n++
		}
	}
	return n
}

// Reset forgets the requests received.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// fault returns the first fault that matches r, using it up.
func (s *Server) fault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if (f.Times == 0 || f.used < f.Times) && (f.Match == nil || f.Match(r)) {
			f.used++
			return f
		}
	}
	return nil
}
