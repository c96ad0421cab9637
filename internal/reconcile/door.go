package reconcile

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"

	"smcallbacks/internal/callback"
)

// What the events of the reconciler say of their sender.
const (
	// SourceIP is the event's source_ip: no address sent it.
	SourceIP = "reconciler"
	// UserAgent is the event's user_agent.
	UserAgent = "smcallbacks-reconciler/1"
)

// part is one fetched content on its way to the core.
type part struct {
	content, contentType string
	body                 []byte
}

// reconcile fetches the missing contents and stores them through the core
// as one callback, then announces the stored but unannounced objects. It
// reports whether the job is settled: not while a content answered 404 is
// still to be tried again.
func (p *pass) reconcile(ctx context.Context, j *Job, g *gaps) (bool, error) {
	requestID := fmt.Sprintf("reconcile-%s-%s", p.runID, j.ID)
	var parts []part
	var notFound []string
	if len(g.missing) > 0 {
		var err error
		if parts, notFound, err = p.r.fetch(ctx, j, g.missing); err != nil {
			return false, err
		}
	}
	// A rejected job's status goes even with nothing to attach, as its
	// callback would have: it is what makes the assembler say job.failed.
	if len(parts) > 0 || g.sendStatus {
		req, err := request(j.ID, statusOf(j), requestID, parts)
		if err != nil {
			return false, err
		}
		if resp := p.r.c.Core.Handle(ctx, req); resp.StatusCode/100 != 2 {
			return false, fmt.Errorf("store %s: the core answered %d %s", j.ID, resp.StatusCode, resp.Body)
		}
	}
	if len(g.unannounced) > 0 {
		a := announcement(j.ID, statusOf(j), callback.OriginReconciler, requestID+"-announce", g.unannounced)
		if err := p.r.c.Core.Announce(ctx, a); err != nil {
			return false, err
		}
	}
	n := p.st.note(j)
	n.ReconciledAt = &p.now
	n.FailureSent = n.FailureSent || g.sendStatus
	if len(parts) > 0 || g.sendStatus || len(g.unannounced) > 0 {
		p.sum.JobsReconciled++
		p.sum.ContentsRecovered += len(parts)
		p.sum.ContentsReannounced += len(g.unannounced)
		recovered := make([]string, len(parts))
		for i, pt := range parts {
			recovered[i] = pt.content
		}
		p.r.c.Logger.InfoContext(ctx, "reconciled", "job_id", j.ID, "job_status", j.Status, "request_id", requestID,
			"recovered", recovered, "reannounced", len(g.unannounced), "status_only", len(parts) == 0 && g.sendStatus)
	}
	return p.notFound(ctx, j, notFound), nil
}

// notFound notes the contents whose transcript request got a 404 and
// reports whether none is left to try again. A first 404 leaves the content
// for the job's next due run; a second one gives it up, counted and logged
// as unrecoverable, as data is.
func (p *pass) notFound(ctx context.Context, j *Job, contents []string) bool {
	if len(contents) == 0 {
		return true
	}
	n := p.st.note(j)
	if n.NotFound == nil {
		n.NotFound = map[string]int{}
	}
	var again, lost []string
	for _, c := range contents {
		n.NotFound[c]++
		if n.NotFound[c] >= maxNotFound {
			lost = append(lost, c)
		} else {
			again = append(again, c)
		}
	}
	log := p.r.c.Logger.With("job_id", j.ID)
	if len(lost) > 0 {
		// Counted here, whether or not the job's other lost contents
		// were reported before: these were not.
		n.UnrecoverableReported = true
		p.sum.ContentsUnrecoverable += len(lost)
		log.WarnContext(ctx, "contents still not found by the Jobs API: given up, only a callback can bring them", "contents", lost)
	}
	if len(again) > 0 {
		log.InfoContext(ctx, "contents not found by the Jobs API: asked again at the job's next due run", "contents", again)
	}
	return len(again) == 0
}

// fetch reads each missing content from the Jobs API. A transcript answered
// 404 or 410 is left out and named in notFound, the others still fetched:
// the listing said the job is there, and the next one says whether it
// expired. A 404 or 410 on the job itself (jobinfo) means it is gone.
func (r *Reconciler) fetch(ctx context.Context, j *Job, missing []string) (parts []part, notFound []string, err error) {
	for _, c := range missing {
		if c == callback.ContentJobInfo {
			full, err := r.c.API.GetJob(ctx, j.ID)
			if err != nil {
				return nil, nil, fmt.Errorf("jobinfo of %s: %w", j.ID, err)
			}
			parts = append(parts, part{c, "application/json", full.JobInfo})
			continue
		}
		b, err := r.c.API.Transcript(ctx, j.ID, formatOf(c))
		if errors.Is(err, ErrGone) {
			notFound = append(notFound, c)
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s of %s: %w", c, j.ID, err)
		}
		typ := "text/plain"
		if c == callback.ContentTranscript {
			typ = "application/json"
		}
		parts = append(parts, part{c, typ, b})
	}
	return parts, notFound, nil
}

// request is the callback the reconciler hands to the core: a POST with the
// job ID and status in the query, and a multipart body whose parts are named
// by their content, typed as Speechmatics types them; without parts, no body,
// as a callback with "contents": [] has none.
func request(jobID, status, requestID string, parts []part) (*callback.Request, error) {
	h := http.Header{}
	h.Set("User-Agent", UserAgent)
	req := &callback.Request{
		Method:    http.MethodPost,
		RawQuery:  "id=" + url.QueryEscape(jobID) + "&status=" + url.QueryEscape(status),
		Header:    h,
		SourceIP:  SourceIP,
		RequestID: requestID,
		Origin:    callback.OriginReconciler,
	}
	if len(parts) == 0 {
		return req, nil
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.content))
		h.Set("Content-Type", p.contentType)
		w, err := mw.CreatePart(h)
		if err != nil {
			return nil, fmt.Errorf("build the body: %w", err)
		}
		w.Write(p.body) // a bytes.Buffer does not fail
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("build the body: %w", err)
	}
	h.Set("Content-Type", mw.FormDataContentType())
	req.Body = &body
	return req, nil
}

// announcement is the event of stored objects. Its status is the one the
// objects were stored with, when they agree; else fallback.
func announcement(jobID, fallback, origin, requestID string, objs []*StoredObject) *callback.Announcement {
	a := &callback.Announcement{JobID: jobID, Status: commonStatus(objs, fallback), Origin: origin,
		RequestID: requestID, SourceIP: SourceIP, UserAgent: UserAgent}
	for _, o := range objs {
		a.Attachments = append(a.Attachments, callback.Attachment{Content: o.Content, Key: o.Key,
			ContentType: o.ContentType, Size: o.Size, SHA256: hex.EncodeToString(o.SHA256[:])})
	}
	return a
}

func commonStatus(objs []*StoredObject, fallback string) string {
	status := ""
	for _, o := range objs {
		if o.Status == "" || (status != "" && o.Status != status) {
			return fallback
		}
		status = o.Status
	}
	if status == "" {
		return fallback
	}
	return status
}
