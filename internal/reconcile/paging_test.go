package reconcile_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"smcallbacks/internal/jobsapi/jobsapitest"
	"smcallbacks/internal/reconcile"
)

// TestPagingSameMillisecond: jobs created in the same millisecond across a
// page boundary are each listed once and reconciled, whether the API's
// created_before is exclusive or inclusive.
func TestPagingSameMillisecond(t *testing.T) {
	cases := []struct {
		name      string
		pageSize  int
		inclusive bool
		// ago is how long before t0 each job was created, in milliseconds.
		ago []int
	}{
		{"exclusive, two of a millisecond across the boundary", 2, false, []int{-1000, 0, 0}},
		{"inclusive, two of a millisecond across the boundary", 2, true, []int{-1000, 0, 0, 1000}},
		{"exclusive, a page's worth of one millisecond", 3, false, []int{-2000, -1000, 0, 0, 0, 1000}},
		{"inclusive, a page's worth of one millisecond", 3, true, []int{-2000, -1000, 0, 0, 0, 1000}},
		{"exclusive, pairs one millisecond apart", 2, false, []int{0, 1, 1, 2, 2}},
		{"inclusive, pairs one millisecond apart", 2, true, []int{0, 1, 1, 2, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.cfg.PageSize = c.pageSize
			f.api.InclusiveCursor = c.inclusive
			tr := transcripts(t)
			t0 := f.now.Add(-time.Hour)
			var ids []string
			for i, ms := range c.ago {
				id := "job" + itoa(i)
				ids = append(ids, id)
				f.api.Add(jobsapitest.Job{ID: id, CreatedAt: t0.Add(time.Duration(-ms) * time.Millisecond), Status: "done",
					Transcripts: tr, Errors: gaveUp, Notifications: []jobsapitest.Notification{ours("transcript.txt")}})
			}
			sum, err := f.reconciler().Run(context.Background())
			if err != nil {
				t.Fatalf("run: got %v, want no error", err)
			}
			if sum.JobsListed != len(ids) || sum.JobsReconciled != len(ids) {
				t.Errorf("got %d listed, %d reconciled, want %d each", sum.JobsListed, sum.JobsReconciled, len(ids))
			}
			for _, id := range ids {
				if f.object("tx/"+id+"/transcript.txt") == nil {
					t.Errorf("%s: got nothing stored, want its transcript", id)
				}
			}
		})
	}
}

// sameEveryTime is a Jobs API whose list ignores the cursor.
type sameEveryTime struct {
	reconcile.JobsAPI
	jobs  []reconcile.Job
	calls int
}

func (s *sameEveryTime) ListJobs(context.Context, time.Time, int) ([]reconcile.Job, error) {
	s.calls++
	return s.jobs, nil
}

// TestPagingDoesNotLoop: a list that ignores the cursor fails the run after
// a few pages instead of looping.
func TestPagingDoesNotLoop(t *testing.T) {
	f := newFixture(t)
	api := &sameEveryTime{jobs: []reconcile.Job{
		{ID: "a1", CreatedAt: f.now.Add(-time.Minute), Status: "running", ConfigKnown: true},
		{ID: "a2", CreatedAt: f.now.Add(-2 * time.Minute), Status: "running", ConfigKnown: true},
	}}
	f.cfg.API, f.cfg.PageSize = api, 2
	_, err := f.reconciler().Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "paging does not advance") || api.calls > 4 {
		t.Errorf("got %v after %d pages, want paging does not advance within 4", err, api.calls)
	}
}

// TestBusyAPIStopsTheRun: once the Jobs API answers busy for one job, after
// the client's back-off, the run asks nothing more, fails with
// ErrUnavailable and keeps the watermark; the next run reconciles every job.
func TestBusyAPIStopsTheRun(t *testing.T) {
	transcript := func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/transcript") }
	cases := []struct {
		name     string
		fault    *jobsapitest.Fault
		requests int // Jobs API requests of the first run, the list's included
	}{
		{"429 asking for an hour", &jobsapitest.Fault{Match: transcript, Status: 429, RetryAfter: "3600", Times: 1}, 2},
		{"503 on every try", &jobsapitest.Fault{Match: transcript, Status: 503, Times: 4}, 5},
		{"503 on the list", &jobsapitest.Fault{Status: 503, Times: 4}, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			tr := transcripts(t)
			const jobs = 20
			for i := range jobs {
				f.api.Add(jobsapitest.Job{ID: "j" + itoa(i), CreatedAt: f.now.Add(-time.Hour - time.Duration(i)*time.Second), Status: "done",
					Transcripts: tr, Errors: gaveUp, Notifications: []jobsapitest.Notification{ours("transcript")}})
			}
			f.api.Fail(c.fault)
			sum, err := f.reconciler().Run(context.Background())
			if !errors.Is(err, reconcile.ErrUnavailable) {
				t.Errorf("first run: got error %v, want %v", err, reconcile.ErrUnavailable)
			}
			if got := len(f.api.Requests()); got != c.requests {
				t.Errorf("first run: got %d requests, want %d", got, c.requests)
			}
			if want := f.now.Add(-144 * time.Hour); !sum.Watermark.Equal(want) || sum.JobsReconciled != 0 {
				t.Errorf("first run: got watermark %v, %d reconciled, want %v, 0", sum.Watermark, sum.JobsReconciled, want)
			}
			f.now = f.now.Add(time.Minute)
			if sum := f.run(); sum.JobsReconciled != jobs {
				t.Errorf("next run: got %d reconciled, want %d", sum.JobsReconciled, jobs)
			}
		})
	}
}
