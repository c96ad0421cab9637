package jobsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"smcallbacks/internal/reconcile"
)

// jobDetails is the part of JobDetails the reconciler reads. auth_headers
// is deliberately absent.
type jobDetails struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	Status    string    `json:"status"`
	Config    *struct {
		NotificationConfig []struct {
			URL      string    `json:"url"`
			Contents *[]string `json:"contents"`
		} `json:"notification_config"`
	} `json:"config"`
	Errors []struct {
		Timestamp time.Time `json:"timestamp"`
		Message   string    `json:"message"`
	} `json:"errors"`
}

func (d *jobDetails) job() reconcile.Job {
	j := reconcile.Job{ID: d.ID, CreatedAt: d.CreatedAt.UTC(), Status: d.Status, ConfigKnown: d.Config != nil}
	if d.Config != nil {
		for _, n := range d.Config.NotificationConfig {
			note := reconcile.Notification{URL: n.URL, HasContents: n.Contents != nil}
			if n.Contents != nil {
				note.Contents = *n.Contents
			}
			j.Notifications = append(j.Notifications, note)
		}
	}
	for _, e := range d.Errors {
		j.Errors = append(j.Errors, reconcile.JobError{Timestamp: e.Timestamp, Message: e.Message})
	}
	return j
}

// ListJobs calls GET /jobs?limit=…&created_before=….
func (c *Client) ListJobs(ctx context.Context, createdBefore time.Time, limit int) ([]reconcile.Job, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if !createdBefore.IsZero() {
		q.Set("created_before", createdBefore.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	body, _, err := c.get(ctx, "/jobs", q)
	if err != nil {
		return nil, err
	}
	var answer struct {
		Jobs []jobDetails `json:"jobs"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return nil, fmt.Errorf("GET /jobs: decode the answer: %w", err)
	}
	jobs := make([]reconcile.Job, len(answer.Jobs))
	for i := range answer.Jobs {
		jobs[i] = answer.Jobs[i].job()
	}
	return jobs, nil
}

// GetJob calls GET /jobs/{id}?wait=0, and keeps the job's details, every
// auth_headers removed, as its Details.
func (c *Client) GetJob(ctx context.Context, id string) (*reconcile.Job, error) {
	path := "/jobs/" + url.PathEscape(id)
	body, _, err := c.get(ctx, path, url.Values{"wait": {"0"}})
	if err != nil {
		return nil, err
	}
	var answer struct {
		Job json.RawMessage `json:"job"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || len(answer.Job) == 0 {
		return nil, fmt.Errorf("GET %s: decode the answer: want {\"job\":{…}} (%v)", path, err)
	}
	var d jobDetails
	if err := json.Unmarshal(answer.Job, &d); err != nil {
		return nil, fmt.Errorf("GET %s: decode the job: %w", path, err)
	}
	details, err := StripAuthHeaders(answer.Job)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	j := d.job()
	j.Details = details
	return &j, nil
}

// Transcript calls GET /jobs/{id}/transcript?format=…&wait=0.
func (c *Client) Transcript(ctx context.Context, id, format string) ([]byte, error) {
	body, _, err := c.get(ctx, "/jobs/"+url.PathEscape(id)+"/transcript", url.Values{"format": {format}, "wait": {"0"}})
	return body, err
}

// StripAuthHeaders returns the JSON value raw with every member named
// auth_headers (in any case) removed, at any depth. Numbers keep their digits; object
// members come out sorted by name.
func StripAuthHeaders(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("strip auth_headers: %w", err)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(strip(v)); err != nil {
		return nil, fmt.Errorf("strip auth_headers: %w", err)
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

func strip(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if strings.EqualFold(k, "auth_headers") {
				delete(t, k)
				continue
			}
			t[k] = strip(x)
		}
	case []any:
		for i, x := range t {
			t[i] = strip(x)
		}
	}
	return v
}
