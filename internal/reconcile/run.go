package reconcile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Config is what a Reconciler is built from.
type Config struct {
	API   JobsAPI
	Index ObjectIndex
	// Manifests, when set, are the assembler's: a job is settled when its
	// manifest lists every expected content or says it failed, and a stored
	// content it does not list is announced again. When nil, a job is
	// settled when every expected object exists.
	Manifests Manifests
	State     StateStore
	Core      Core
	// KeyPrefix is the core's: objects are at <KeyPrefix><job id>/….
	KeyPrefix string
	// CallbackURL is the receiver's URL, without its query string: a job is
	// ours when a notification entry calls it.
	CallbackURL string
	// Grace is how long a finished, incomplete job is left to its
	// callbacks before it is reconciled (unless its errors say the
	// notification gave up).
	Grace time.Duration
	// Lookback bounds how far back a run lists.
	Lookback time.Duration
	// Margin is how long before the context's deadline a run stops.
	Margin time.Duration
	// PageSize is the limit of each list request; 0 means 100.
	PageSize int
	Now      func() time.Time
	Logger   *slog.Logger
}

// Reconciler runs reconciliation passes. Each reads and writes the one
// state object; of two runs that overlap, only the first to save keeps its
// notes (StateStore).
type Reconciler struct {
	c Config
}

// New returns a Reconciler, or an error naming each missing dependency.
func New(c Config) (*Reconciler, error) {
	var missing []string
	for name, ok := range map[string]bool{"JobsAPI": c.API != nil, "ObjectIndex": c.Index != nil,
		"StateStore": c.State != nil, "Core": c.Core != nil, "CallbackURL": c.CallbackURL != "", "Lookback": c.Lookback > 0} {
		if !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("reconciler: missing %s", strings.Join(missing, ", "))
	}
	if c.PageSize <= 0 || c.PageSize > 100 {
		c.PageSize = 100
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return &Reconciler{c: c}, nil
}

// Summary counts what a run did.
type Summary struct {
	JobsListed            int `json:"jobs_listed"`
	JobsOurs              int `json:"jobs_ours"`
	JobsReconciled        int `json:"jobs_reconciled"`
	ContentsRecovered     int `json:"contents_recovered"`
	ContentsReannounced   int `json:"contents_reannounced"`
	ContentsUnrecoverable int `json:"contents_unrecoverable"`
	JobsWaiting           int `json:"jobs_waiting"`
	// OldestUnsettledSeconds is how long the longest-waiting finished job
	// has been incomplete (since a run first saw it so), 0 when none is.
	OldestUnsettledSeconds float64 `json:"oldest_unsettled_seconds"`
	JobsFailed             int     `json:"jobs_failed"`
	Pages                  int     `json:"pages"`
	StoppedEarly           bool    `json:"stopped_early"`
	// Watermark is where the next run stops listing.
	Watermark time.Time `json:"watermark"`
}

// Attrs are the summary's fields, for its log line.
func (s *Summary) Attrs() []slog.Attr {
	return []slog.Attr{
		slog.Int("jobs_listed", s.JobsListed), slog.Int("jobs_ours", s.JobsOurs),
		slog.Int("jobs_reconciled", s.JobsReconciled), slog.Int("contents_recovered", s.ContentsRecovered),
		slog.Int("contents_reannounced", s.ContentsReannounced),
		slog.Int("contents_unrecoverable", s.ContentsUnrecoverable), slog.Int("jobs_waiting", s.JobsWaiting),
		slog.Float64("oldest_unsettled_seconds", s.OldestUnsettledSeconds),
		slog.Int("jobs_failed", s.JobsFailed), slog.Int("pages", s.Pages), slog.Bool("stopped_early", s.StoppedEarly),
		slog.Time("watermark", s.Watermark),
	}
}

// ErrJobsFailed is returned by a run in which some jobs failed for another
// reason than a busy Jobs API (which stops the run with ErrUnavailable);
// they are tried again by the next run.
var ErrJobsFailed = errors.New("some jobs could not be reconciled")

// pass is one run in progress.
type pass struct {
	r     *Reconciler
	st    *State
	sum   *Summary
	runID string
	now   time.Time
	// force ignores the grace: an operator asked for this job.
	force bool
	// wm is where listing stops; oldest and newest bound what was seen.
	wm               time.Time
	oldestUnsettled  time.Time
	newest           time.Time
	complete, failed bool
}

func (r *Reconciler) newPass(ctx context.Context) (*pass, error) {
	st, err := loadState(ctx, r.c.State)
	if err != nil {
		return nil, err
	}
	p := &pass{r: r, st: st, sum: &Summary{}, runID: newRunID(), now: r.c.Now().UTC()}
	p.wm = st.Watermark
	if floor := p.now.Add(-r.c.Lookback); p.wm.Before(floor) {
		p.wm = floor
	}
	return p, nil
}

func newRunID() string {
	b := make([]byte, 6)
	rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

// Run lists the jobs back to the watermark, reconciles those that are due,
// and saves the state for the next run. It stops Margin before ctx's
// deadline, and at the first answer of a busy Jobs API, leaving the
// watermark where it was. Its error says the run failed: the listing, the
// state, the key, a busy API (ErrUnavailable) or some jobs (ErrJobsFailed);
// the Summary is there in every case.
func (r *Reconciler) Run(ctx context.Context) (*Summary, error) {
	p, err := r.newPass(ctx)
	if err != nil {
		return &Summary{}, err
	}
	work, cancel := r.workContext(ctx)
	defer cancel()
	listErr := p.list(work)
	p.advance()
	return p.end(ctx, listErr)
}

// end saves the pass's state, even when ctx is done, and returns its
// result: stopped, what stopped it; else ErrJobsFailed when some jobs
// failed.
func (p *pass) end(ctx context.Context, stopped error) (*Summary, error) {
	if err := p.r.saveState(context.WithoutCancel(ctx), p.st); err != nil {
		return p.sum, errors.Join(stopped, err)
	}
	if stopped != nil {
		return p.sum, stopped
	}
	if p.failed {
		return p.sum, ErrJobsFailed
	}
	return p.sum, nil
}

// workContext ends Margin before ctx's deadline, so that the run stops
// cleanly and still saves its state.
func (r *Reconciler) workContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if deadline, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, deadline.Add(-r.c.Margin))
	}
	return context.WithCancel(ctx)
}

// list pages through the jobs, newest first, until the watermark.
//
// The cursor of the next page is the millisecond after the last job's
// created_at, not the created_at itself: the API's created_before may be
// exclusive (jobs of that millisecond left off the page would be skipped)
// or inclusive, and either way the jobs already seen come again and are
// skipped. A full page that brings no new job (the cursor's millisecond
// holds a page's worth) steps the cursor back a millisecond: past it within
// two steps whichever the API's semantics. The cursor never moves forward.
// Only more than a page's worth of jobs created in one millisecond could
// still be missed, which a page of 100 makes moot.
func (p *pass) list(ctx context.Context) error {
	var before time.Time
	seen := map[string]bool{}
	stale := 0 // full pages in a row that brought no new job
	for {
		if ctx.Err() != nil {
			p.sum.StoppedEarly = true
			return nil
		}
		jobs, err := p.r.c.API.ListJobs(ctx, before, p.r.c.PageSize)
		if ctx.Err() != nil {
			p.sum.StoppedEarly = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("list jobs: %w", err)
		}
		p.sum.Pages++
		fresh, done, err := p.page(ctx, jobs, before, seen)
		if done || err != nil {
			return err
		}
		next := jobs[len(jobs)-1].CreatedAt.Truncate(time.Millisecond).Add(time.Millisecond)
		switch {
		case fresh > 0:
			stale = 0
			if before.IsZero() || next.Before(before) {
				before = next
			}
		case stale < 2:
			stale++
			before = before.Add(-time.Millisecond)
		default:
			return fmt.Errorf("list jobs: %d pages in a row before %s brought no new job: paging does not advance",
				stale+1, before.Format(time.RFC3339Nano))
		}
	}
}

// page handles one page of jobs, but those in seen, which it adds to, and
// reports how many were new and whether listing is over.
func (p *pass) page(ctx context.Context, jobs []Job, before time.Time, seen map[string]bool) (int, bool, error) {
	fresh := 0
	for i := range jobs {
		j := &jobs[i]
		if seen[j.ID] {
			continue // the cursor overlaps the pages before by a millisecond
		}
		seen[j.ID] = true
		fresh++
		if j.CreatedAt.Before(p.wm) {
			p.complete = true
			return fresh, true, nil
		}
		if !before.IsZero() && j.CreatedAt.After(before) {
			return fresh, true, fmt.Errorf("list jobs: job %s created %s is after the cursor %s: paging does not advance",
				j.ID, j.CreatedAt.Format(time.RFC3339Nano), before.Format(time.RFC3339Nano))
		}
		if ctx.Err() != nil {
			p.sum.StoppedEarly = true
			return fresh, true, nil
		}
		if err := p.consider(ctx, j); err != nil {
			return fresh, true, err
		}
	}
	if len(jobs) < p.r.c.PageSize {
		p.complete = true
		return fresh, true, nil
	}
	return fresh, false, nil
}

// consider handles one listed job and keeps the bounds of what was seen.
func (p *pass) consider(ctx context.Context, j *Job) error {
	p.sum.JobsListed++
	if j.CreatedAt.After(p.newest) {
		p.newest = j.CreatedAt
	}
	// A job whose error stops the run is left unsettled too: counted so.
	settled, err := p.job(ctx, j)
	if !settled {
		p.sum.JobsWaiting++
		if p.oldestUnsettled.IsZero() || j.CreatedAt.Before(p.oldestUnsettled) {
			p.oldestUnsettled = j.CreatedAt
		}
		// A job still running is not late; a finished one is, from when a
		// run first saw it incomplete.
		if n := p.st.Jobs[j.ID]; n != nil && n.FirstIncomplete != nil {
			p.sum.OldestUnsettledSeconds = max(p.sum.OldestUnsettledSeconds, p.now.Sub(*n.FirstIncomplete).Seconds())
		}
	}
	return err
}

// advance moves the watermark: to the oldest job not settled, else to the
// newest job seen (never past the run's start); a run that did not list
// back to the watermark leaves it where it was.
func (p *pass) advance() {
	switch {
	case !p.complete:
		p.st.Watermark = p.wm
	case !p.oldestUnsettled.IsZero():
		p.st.Watermark = p.oldestUnsettled
	case !p.newest.IsZero():
		p.st.Watermark = p.newest
		if p.newest.After(p.now) {
			p.st.Watermark = p.now
		}
	default:
		p.st.Watermark = p.wm
	}
	p.st.Watermark = p.st.Watermark.UTC()
	p.st.prune()
	p.sum.Watermark = p.st.Watermark
}
