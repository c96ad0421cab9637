package jobsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
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

// GetJob calls GET /jobs/{id}?wait=0, and keeps of the job's details what a
// callback's jobinfo holds, as its JobInfo.
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
	info, err := JobInfo(answer.Job)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	j := d.job()
	j.JobInfo = info
	return &j, nil
}

// Transcript calls GET /jobs/{id}/transcript?format=…&wait=0.
func (c *Client) Transcript(ctx context.Context, id, format string) ([]byte, error) {
	body, _, err := c.get(ctx, "/jobs/"+url.PathEscape(id)+"/transcript", url.Values{"format": {format}, "wait": {"0"}})
	return body, err
}

// jobInfoFields are the members of a callback's jobinfo: the job object,
// as the transcript's "job" holds it too.
var jobInfoFields = []string{"created_at", "data_name", "duration", "id", "tracking"}

// JobInfo returns, from a job's details as GET /jobs/{id} answers them in
// "job", the jobinfo a callback would have sent: created_at, data_name,
// duration, id and, when the job has it, tracking, their values as given,
// members sorted by name. The rest a callback never sends, and it holds what
// must not be stored: the config, with the notifications' URLs (tokens in
// their query strings, say) and auth_headers, and the media's fetch URL.
func JobInfo(details []byte) ([]byte, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(details, &all); err != nil {
		return nil, fmt.Errorf("jobinfo of the details: %w", err)
	}
	info := map[string]json.RawMessage{}
	for _, k := range jobInfoFields {
		if v, ok := all[k]; ok {
			info[k] = v
		}
	}
	if _, ok := info["id"]; !ok {
		return nil, fmt.Errorf("jobinfo of the details: no id")
	}
	// As given: encoding/json would write a data_name's & < > as \u0026...
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(info); err != nil {
		return nil, fmt.Errorf("jobinfo of the details: %w", err)
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}
