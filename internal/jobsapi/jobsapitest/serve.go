package jobsapitest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// timeFormat is the API's: RFC 3339 UTC with milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z"

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	authorized := r.Header.Get("Authorization") == "Bearer "+s.Key
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Authorized: authorized, At: time.Now()})
	s.mu.Unlock()
	if f := s.fault(r); f != nil {
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		problem(w, f.Status, http.StatusText(f.Status))
		return
	}
	switch {
	case !authorized:
		problem(w, http.StatusUnauthorized, "Permission Denied")
	case r.Method != http.MethodGet:
		problem(w, http.StatusMethodNotAllowed, "Method Not Allowed")
	case r.URL.Path == "/v2/jobs":
		s.list(w, r)
	case strings.HasPrefix(r.URL.Path, "/v2/jobs/"):
		rest := strings.TrimPrefix(r.URL.Path, "/v2/jobs/")
		id, sub, _ := strings.Cut(rest, "/")
		switch sub {
		case "":
			s.one(w, r, id)
		case "transcript":
			s.transcript(w, r, id)
		default:
			problem(w, http.StatusNotFound, "Not Found")
		}
	default:
		problem(w, http.StatusNotFound, "Not Found")
	}
}

func problem(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"code": code, "error": msg})
}

func reply(w http.ResponseWriter, typ string, body []byte) {
	w.Header().Set("Content-Type", typ)
	w.Write(body)
}

// list answers GET /jobs: newest first, created_before exclusive (unless
// InclusiveCursor), limit 1–100, deleted jobs only with include_deleted=true.
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := -1
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			problem(w, http.StatusUnprocessableEntity, "limit: want 1 to 100")
			return
		}
		limit = n
	}
	var before time.Time
	if v := q.Get("created_before"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			problem(w, http.StatusUnprocessableEntity, "created_before: want RFC 3339")
			return
		}
		before = t
	}
	includeDeleted := q.Get("include_deleted") == "true"
	s.mu.Lock()
	var jobs []*Job
	for _, j := range s.jobs {
		inWindow := before.IsZero() || j.CreatedAt.Before(before) || (s.InclusiveCursor && j.CreatedAt.Equal(before))
		if inWindow && (includeDeleted || j.Status != "deleted") {
			jobs = append(jobs, j)
		}
	}
	// Jobs created at the same time keep one order from page to page.
	slices.SortFunc(jobs, func(a, b *Job) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	if limit >= 0 && len(jobs) > limit {
		jobs = jobs[:limit]
	}
	details := make([]map[string]any, len(jobs))
	for i, j := range jobs {
		details[i] = j.details(!s.OmitConfigInList)
	}
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"jobs": details})
	reply(w, "application/json", b)
}

// lookup finds a job as /jobs/{id} sees it: 404 unknown or deleted, 410
// expired. A running job is waited for unless wait=0 (or always when
// IgnoreWait).
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, id string) (*Job, bool) {
	s.mu.Lock()
	j, ok := s.jobs[id]
	var copied Job
	if ok {
		copied = *j
	}
	wait := s.WaitDelay
	if r.URL.Query().Get("wait") == "0" && !s.IgnoreWait {
		wait = 0
	}
	s.mu.Unlock()
	switch {
	case !ok || copied.Status == "deleted":
		problem(w, http.StatusNotFound, "Job not found")
		return nil, false
	case copied.Status == "expired":
		problem(w, http.StatusGone, "Job Expired")
		return nil, false
	}
	if copied.Status == "running" && wait > 0 {
		time.Sleep(wait)
	}
	return &copied, true
}

func (s *Server) one(w http.ResponseWriter, r *http.Request, id string) {
	j, ok := s.lookup(w, r, id)
	if !ok {
		return
	}
	b, _ := json.Marshal(map[string]any{"job": j.details(true)})
	reply(w, "application/json", b)
}

func (s *Server) transcript(w http.ResponseWriter, r *http.Request, id string) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json-v2"
	}
	if format != "json-v2" && format != "txt" && format != "srt" {
		problem(w, http.StatusUnprocessableEntity, "format: want json-v2, txt or srt")
		return
	}
	j, ok := s.lookup(w, r, id)
	if !ok {
		return
	}
	body, ok := j.Transcripts[format]
	if j.Status != "done" || !ok {
		problem(w, http.StatusNotFound, "Job not ready")
		return
	}
	typ := "text/plain; charset=utf-8"
	if format == "json-v2" {
		typ = "application/json"
		if s.VendorJSON {
			typ = "application/vnd.speechmatics.v2+json"
		}
	}
	reply(w, typ, body)
}

// details renders the job as JobDetails, its config with every
// notification's auth_headers in clear, as the real API does.
func (j *Job) details(withConfig bool) map[string]any {
	d := map[string]any{
		"id": j.ID, "created_at": j.CreatedAt.UTC().Format(timeFormat), "data_name": j.DataName,
		"duration": 15, "status": j.Status,
	}
	if withConfig {
		var notes []map[string]any
		for _, n := range j.Notifications {
			e := map[string]any{"url": n.URL}
			if n.Contents != nil {
				e["contents"] = n.Contents
			}
			if n.AuthHeaders != nil {
				e["auth_headers"] = n.AuthHeaders
			}
			notes = append(notes, e)
		}
		config := map[string]any{"type": "transcription", "transcription_config": map[string]any{"language": "en"}}
		if notes != nil {
			config["notification_config"] = notes
		}
		d["config"] = config
	}
	if len(j.Errors) > 0 {
		var errs []map[string]any
		for i, m := range j.Errors {
			at := j.CreatedAt.Add(time.Duration(i+1) * 15 * time.Second)
			errs = append(errs, map[string]any{"timestamp": at.UTC().Format(timeFormat), "message": m})
		}
		d["errors"] = errs
	}
	return d
}
