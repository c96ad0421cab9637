package jobsapi_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"smcallbacks/internal/jobsapi"
	"smcallbacks/internal/jobsapi/jobsapitest"
	"smcallbacks/internal/reconcile"
)

const key = "sm-key-0123456789-SECRET"

func client(t *testing.T, api *jobsapitest.Server, k string) *jobsapi.Client {
	t.Helper()
	c, err := jobsapi.New(jobsapi.Config{BaseURL: api.URL, APIKey: k, BaseDelay: time.Millisecond, MaxDelay: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestListPaging pages through 250 jobs with created_before, newest first.
func TestListPaging(t *testing.T) {
	api := jobsapitest.New(t, key)
	base := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for i := range 250 {
		n := jobsapitest.Notification{URL: "https://cb.example.com/callback", AuthHeaders: []string{"Authorization: Bearer tok"}}
		if i%2 == 0 {
			n.Contents = []string{"transcript", "jobinfo"}
		}
		api.Add(jobsapitest.Job{ID: fmt.Sprintf("job%03d", i), CreatedAt: base.Add(time.Duration(i) * 1501 * time.Millisecond),
			Status: "done", Notifications: []jobsapitest.Notification{n}})
	}
	c := client(t, api, key)
	var before time.Time
	var all []reconcile.Job
	for page := 0; ; page++ {
		jobs, err := c.ListJobs(context.Background(), before, 100)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, jobs...)
		if len(jobs) < 100 {
			break
		}
		before = jobs[len(jobs)-1].CreatedAt
	}
	if len(all) != 250 || all[0].ID != "job249" || all[249].ID != "job000" {
		t.Fatalf("got %d jobs from %s to %s, want 250 from job249 to job000", len(all), all[0].ID, all[len(all)-1].ID)
	}
	for _, j := range all[:2] {
		n := j.Notifications[0]
		even := j.ID[len(j.ID)-1]%2 == 0
		if !j.ConfigKnown || n.URL != "https://cb.example.com/callback" || n.HasContents != even {
			t.Errorf("%s: got %+v, want its notification", j.ID, j)
		}
	}
	reqs := api.Requests()
	if len(reqs) != 3 || reqs[1].Query.Get("created_before") != "2026-11-27T10:03:45.150Z" || reqs[0].Query.Get("limit") != "100" || !reqs[2].Authorized {
		t.Errorf("got requests %+v, want 3 authorized pages with millisecond cursors", reqs)
	}
}

// TestGetJobInfo: the jobinfo kept of a job is what a callback's holds, the
// job object, and nothing of its config: not the token of its auth_headers,
// nor its notification URL (which may carry a token of its own).
func TestGetJobInfo(t *testing.T) {
	api := jobsapitest.New(t, key)
	created := time.Date(2026, 11, 27, 10, 3, 45, 150e6, time.UTC)
	api.Add(jobsapitest.Job{ID: "j1", CreatedAt: created, DataName: "call.wav", Status: "done", Errors: []string{"Sending notification failed"},
		Notifications: []jobsapitest.Notification{{URL: "https://cb.example.com/callback?token=url-SECRET", Contents: []string{"jobinfo"},
			AuthHeaders: []string{"Authorization: Bearer tok-SECRET"}}}})
	j, err := client(t, api, key).GetJob(context.Background(), "j1")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"created_at":"2026-11-27T10:03:45.150Z","data_name":"call.wav","duration":15,"id":"j1"}`
	if got := string(j.JobInfo); got != want || len(j.Errors) != 1 || j.Status != "done" {
		t.Errorf("got %+v with jobinfo %s, want jobinfo %s", j, got, want)
	}
	if q := api.Requests()[0].Query.Get("wait"); q != "0" {
		t.Errorf("got wait=%q, want 0", q)
	}
}

func TestErrors(t *testing.T) {
	api := jobsapitest.New(t, key)
	api.Add(jobsapitest.Job{ID: "gone1", CreatedAt: time.Now(), Status: "expired"},
		jobsapitest.Job{ID: "del1", CreatedAt: time.Now(), Status: "deleted"},
		jobsapitest.Job{ID: "run1", CreatedAt: time.Now(), Status: "running"})
	cases := []struct {
		name string
		key  string
		call func(c *jobsapi.Client) error
		want error
	}{
		{"unknown job", key, func(c *jobsapi.Client) error { _, err := c.GetJob(context.Background(), "nope"); return err }, reconcile.ErrGone},
		{"expired job", key, func(c *jobsapi.Client) error { _, err := c.GetJob(context.Background(), "gone1"); return err }, reconcile.ErrGone},
		{"deleted job", key, func(c *jobsapi.Client) error { _, err := c.GetJob(context.Background(), "del1"); return err }, reconcile.ErrGone},
		{"running job's transcript", key, func(c *jobsapi.Client) error { _, err := c.Transcript(context.Background(), "run1", "txt"); return err }, reconcile.ErrGone},
		{"wrong key", "wrong-key-SECRET", func(c *jobsapi.Client) error { _, err := c.ListJobs(context.Background(), time.Time{}, 10); return err }, reconcile.ErrUnauthorized},
		{"bad limit", key, func(c *jobsapi.Client) error { _, err := c.ListJobs(context.Background(), time.Time{}, 0); return err }, nil},
	}
	for _, c := range cases {
		err := c.call(client(t, api, c.key))
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: got %v, want an error wrapping %v that quotes no key", c.name, err, c.want)
		}
	}
}

// TestWait: wait=0 answers at once for a running job, unless the server
// ignores it.
func TestWait(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		api := jobsapitest.New(t, key)
		api.WaitDelay, api.IgnoreWait = 300*time.Millisecond, ignore
		api.Add(jobsapitest.Job{ID: "run1", CreatedAt: time.Now(), Status: "running"})
		start := time.Now()
		j, err := client(t, api, key).GetJob(context.Background(), "run1")
		if err != nil || j.Status != "running" {
			t.Fatalf("got %+v, %v", j, err)
		}
		if waited := time.Since(start) >= 300*time.Millisecond; waited != ignore {
			t.Errorf("ignore wait %v: got waited %v, want %v", ignore, waited, ignore)
		}
	}
}

func TestTranscriptTypes(t *testing.T) {
	api := jobsapitest.New(t, key)
	api.VendorJSON = true
	api.Add(jobsapitest.Job{ID: "j1", CreatedAt: time.Now(), Status: "done",
		Transcripts: map[string][]byte{"json-v2": []byte(`{"format":"2.9","results":[]}`), "srt": []byte("1\n")}})
	c := client(t, api, key)
	for format, want := range map[string]string{"json-v2": `{"format":"2.9","results":[]}`, "srt": "1\n"} {
		b, err := c.Transcript(context.Background(), "j1", format)
		if err != nil || string(b) != want {
			t.Errorf("%s: got %q, %v, want %q", format, b, err, want)
		}
	}
}

func TestJobInfo(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"id":"a","created_at":"t","data_name":"","duration":1.50,"status":"done","config":{"notification_config":[{"url":"u","auth_headers":["x"]}]},"errors":[]}`,
			`{"created_at":"t","data_name":"","duration":1.50,"id":"a"}`},
		{`{"id":"a","tracking":{"title":"t","tags":["x"]},"fetch_data":{"url":"https://s3/signed?X-Amz-Signature=s"}}`,
			`{"id":"a","tracking":{"title":"t","tags":["x"]}}`},
		{`{"id":"a","data_name":"a&b<c>.wav","duration":12345678901234567890}`, `{"data_name":"a&b<c>.wav","duration":12345678901234567890,"id":"a"}`},
	}
	for _, c := range cases {
		got, err := jobsapi.JobInfo([]byte(c.in))
		if err != nil || string(got) != c.want {
			t.Errorf("%s: got %s, %v, want %s", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{`{"id":`, `{"created_at":"t"}`, `[]`} {
		if _, err := jobsapi.JobInfo([]byte(bad)); err == nil {
			t.Errorf("%s: got nil, want an error", bad)
		}
	}
}

func TestNewRefusesBadURL(t *testing.T) {
	for _, u := range []string{"", "asr.api.speechmatics.com/v2", "ftp://x/v2", "https:///v2"} {
		if _, err := jobsapi.New(jobsapi.Config{BaseURL: u}); err == nil {
			t.Errorf("%q: got nil, want an error", u)
		}
	}
}
