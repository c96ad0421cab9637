package reconcile

import (
	"context"
	"errors"
	"fmt"

	"smcallbacks/internal/assembler"
	"smcallbacks/internal/callback"
)

// job decides one job and reconciles it when it is due. It reports whether
// the job is settled; its error, ErrUnauthorized or ErrUnavailable, stops
// the run.
func (p *pass) job(ctx context.Context, j *Job) (bool, error) {
	log := p.r.c.Logger.With("job_id", j.ID)
	if !j.ConfigKnown {
		full, err := p.r.c.API.GetJob(ctx, j.ID)
		if err != nil {
			return p.failure(ctx, j, "read job", err)
		}
		j = full
	}
	mine := ours(j, p.r.c.CallbackURL)
	if len(mine) == 0 {
		return true, nil
	}
	p.sum.JobsOurs++
	switch j.Status {
	case JobDeleted, JobExpired:
		return true, nil
	case JobDone, JobRejected:
	default:
		return false, nil // not finished: the next run looks again
	}
	want, unrecoverable := p.st.Jobs[j.ID].givenUp(expected(j, mine))
	g, err := p.r.gaps(ctx, j, want, unrecoverable, p.st.Jobs[j.ID])
	if err != nil {
		return p.failure(ctx, j, "read the store", err)
	}
	// A manifest still pending holds the job, unless contents are lost: the
	// assembler then waits for what only a callback could bring, and the
	// loss is reported (ContentsUnrecoverable) rather than waited on.
	waitsForManifest := g.pending && len(g.lost) == 0
	if g.empty() && !waitsForManifest && (len(g.lost) == 0 || p.reported(j)) {
		if n := p.st.Jobs[j.ID]; n != nil {
			n.FirstIncomplete = nil
		}
		return true, nil
	}
	// A content the Jobs API cannot give may still come by callback
	// within the grace: lost only once the job is due.
	if !p.due(j) {
		log.DebugContext(ctx, "reconcile later", "missing", g.missing, "unannounced", len(g.unannounced), "lost", g.lost,
			"send_status", g.sendStatus, "manifest_pending", g.pending)
		return false, nil
	}
	p.reportUnrecoverable(ctx, j, g.lost)
	if g.empty() {
		if waitsForManifest {
			// Nothing this job's callbacks carry is missing, yet the
			// assembler waits: its EXPECTED_CONTENTS ask for more than the
			// job's notification entries send. Only that setting, or a
			// callback from another door, can end the job.
			log.WarnContext(ctx, "manifest still pending with every content the job asks for: the assembler expects contents this job's callbacks never send",
				"job_status", j.Status, "contents", want)
			return false, nil
		}
		return true, nil
	}
	settled, err := p.reconcile(ctx, j, g)
	if err != nil {
		return p.failure(ctx, j, "reconcile", err)
	}
	return settled, nil
}

// failure logs why a job could not be handled and reports it: settled when
// the job is gone, a stop of the run when the key was refused or the API is
// busy, waiting otherwise (counted as failed unless time ran out).
func (p *pass) failure(ctx context.Context, j *Job, what string, err error) (bool, error) {
	log := p.r.c.Logger.With("job_id", j.ID)
	switch {
	case errors.Is(err, ErrGone):
		log.InfoContext(ctx, "job gone: settled", "step", what, "error", err.Error())
		return true, nil
	case errors.Is(err, ErrUnauthorized):
		return false, err
	case ctx.Err() != nil:
		log.WarnContext(ctx, "job left for the next run", "step", what, "error", err.Error())
		return false, nil
	case errors.Is(err, ErrUnavailable):
		// The client has already backed off, or was asked to wait longer
		// than it may: asking again for the next job would only add to
		// the load. The run stops and fails, and the next one starts from
		// the same watermark.
		log.WarnContext(ctx, "Jobs API unavailable: the run stops, this and the remaining jobs are left for the next run",
			"step", what, "error", err.Error())
		return false, fmt.Errorf("job %s: %s: %w", j.ID, what, err)
	}
	log.ErrorContext(ctx, "job failed", "step", what, "error", err.Error())
	p.sum.JobsFailed++
	p.failed = true
	return false, nil
}

// reported reports whether the job's lost contents were reported.
func (p *pass) reported(j *Job) bool {
	n := p.st.Jobs[j.ID]
	return n != nil && n.UnrecoverableReported
}

// reportUnrecoverable logs and counts, once per job, the contents that
// never arrived and that the Jobs API cannot give back.
func (p *pass) reportUnrecoverable(ctx context.Context, j *Job, contents []string) {
	if len(contents) == 0 {
		return
	}
	n := p.st.note(j)
	if n.UnrecoverableReported {
		return
	}
	n.UnrecoverableReported = true
	p.sum.ContentsUnrecoverable += len(contents)
	p.r.c.Logger.WarnContext(ctx, "contents cannot be fetched back: only a callback delivers them",
		"job_id", j.ID, "contents", contents)
}

// due reports whether an incomplete job is reconciled now: when its
// errors say the notification gave up, or its grace since first seen
// incomplete is over; never twice within the grace.
func (p *pass) due(j *Job) bool {
	n := p.st.note(j)
	if n.FirstIncomplete == nil {
		at := p.now
		n.FirstIncomplete = &at
	}
	if p.force {
		return true
	}
	if n.ReconciledAt != nil && p.now.Sub(*n.ReconciledAt) < p.r.c.Grace {
		return false
	}
	return gaveUp(j) || p.now.Sub(*n.FirstIncomplete) >= p.r.c.Grace
}

// gaps are what a job lacks.
type gaps struct {
	// missing contents have no object: they are fetched.
	missing []string
	// unannounced objects are stored but not in the manifest: announced.
	unannounced []*StoredObject
	// lost contents have no object, and the Jobs API cannot give them.
	lost []string
	// sendStatus: the rejected job's failing status never reached the
	// assembler, and neither missing nor unannounced contents will carry
	// it: a callback with the status alone is sent.
	sendStatus bool
	// pending: settling by manifest, the manifest has not ended (completed
	// or failed); the assembler's verdict, by its own expected contents.
	pending bool
}

func (g *gaps) empty() bool { return len(g.missing) == 0 && len(g.unannounced) == 0 && !g.sendStatus }

func (r *Reconciler) key(jobID, content string) string {
	rel, _ := callback.FixedKey(content) // every fetchable content has one
	return r.c.KeyPrefix + jobID + "/" + rel
}

// gaps finds the expected contents that are missing or unannounced, those
// of unfetchable that never arrived, and whether a rejected job's status
// must be sent. note is the job's, nil when there is none.
func (r *Reconciler) gaps(ctx context.Context, j *Job, want, unfetchable []string, note *JobNote) (*gaps, error) {
	m, err := r.manifest(ctx, j.ID)
	if err != nil {
		return nil, err
	}
	if m != nil && m.State == assembler.StateFailed {
		return &gaps{}, nil
	}
	g := &gaps{}
	for _, c := range want {
		if m != nil {
			if _, listed := m.Contents[c]; listed {
				continue
			}
		}
		if r.c.Manifests == nil {
			ok, err := r.c.Index.Exists(ctx, r.key(j.ID, c))
			if err != nil {
				return nil, err
			}
			if !ok {
				g.missing = append(g.missing, c)
			}
			continue
		}
		obj, err := r.c.Index.Stat(ctx, r.key(j.ID, c))
		switch {
		case errors.Is(err, ErrNoObject):
			g.missing = append(g.missing, c)
		case err != nil:
			return nil, err
		default:
			if obj.Content == "" {
				obj.Content = c
			}
			g.unannounced = append(g.unannounced, obj)
		}
	}
	for _, c := range unfetchable {
		ok, err := r.arrived(ctx, j.ID, m, c)
		if err != nil {
			return nil, err
		}
		if !ok {
			g.lost = append(g.lost, c)
		}
	}
	rejected := j.Status == JobRejected && len(g.missing) == 0 && len(g.unannounced) == 0
	if r.c.Manifests != nil {
		// A pending manifest never saw the failing status.
		g.pending = m == nil || m.State == assembler.StatePending
		g.sendStatus = rejected && g.pending
	} else {
		// The store keeps no status. A callback that could carry nothing
		// the Jobs API gives back left no object to tell it came, so its
		// status is sent once, when the job is due: the assembler takes a
		// second copy of a status that did come as a no-op.
		g.sendStatus = rejected && len(want) == 0 && (note == nil || !note.FailureSent)
	}
	return g, nil
}

// arrived reports whether a callback stored the job's content c: the
// manifest lists it, or an object is at its key (below data/ for the
// media, whose name comes from the sender).
func (r *Reconciler) arrived(ctx context.Context, jobID string, m *assembler.Manifest, c string) (bool, error) {
	if m != nil {
		if _, listed := m.Contents[c]; listed {
			return true, nil
		}
	}
	dir := r.c.KeyPrefix + jobID + "/"
	if rel, ok := callback.FixedKey(c); ok {
		return r.c.Index.Exists(ctx, dir+rel)
	}
	keys, err := r.c.Index.List(ctx, dir+c+"/")
	return len(keys) > 0, err
}

// manifest returns the job's manifest; nil when there is none, or when
// settling by objects.
func (r *Reconciler) manifest(ctx context.Context, jobID string) (*assembler.Manifest, error) {
	if r.c.Manifests == nil {
		return nil, nil
	}
	m, _, err := r.c.Manifests.Get(ctx, jobID)
	if errors.Is(err, assembler.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("manifest of %s: %w", jobID, err)
	}
	return m, nil
}
