package reconcile

import (
	"bytes"
	"context"
	"encoding/hex"
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
// as one callback, then announces the stored but unannounced objects.
func (p *pass) reconcile(ctx context.Context, j *Job, g *gaps) error {
	requestID := fmt.Sprintf("reconcile-%s-%s", p.runID, j.ID)
	if len(g.missing) > 0 {
		parts, err := p.r.fetch(ctx, j, g.missing)
		if err != nil {
			return err
		}
		req, err := request(j.ID, statusOf(j), requestID, parts)
		if err != nil {
			return err
		}
		if resp := p.r.c.Core.Handle(ctx, req); resp.StatusCode/100 != 2 {
			return fmt.Errorf("store %s: the core answered %d %s", j.ID, resp.StatusCode, resp.Body)
		}
	}
	if len(g.unannounced) > 0 {
		a := announcement(j.ID, statusOf(j), callback.OriginReconciler, requestID+"-announce", g.unannounced)
		if err := p.r.c.Core.Announce(ctx, a); err != nil {
			return err
		}
	}
	p.st.note(j).ReconciledAt = &p.now
	p.sum.JobsReconciled++
	p.sum.ContentsRecovered += len(g.missing)
	p.sum.ContentsReannounced += len(g.unannounced)
	p.r.c.Logger.InfoContext(ctx, "reconciled", "job_id", j.ID, "job_status", j.Status, "request_id", requestID,
		"recovered", g.missing, "reannounced", len(g.unannounced))
	return nil
}

// fetch reads each missing content from the Jobs API.
func (r *Reconciler) fetch(ctx context.Context, j *Job, missing []string) ([]part, error) {
	parts := make([]part, 0, len(missing))
	for _, c := range missing {
		if c == callback.ContentJobInfo {
			full, err := r.c.API.GetJob(ctx, j.ID)
			if err != nil {
				return nil, fmt.Errorf("jobinfo of %s: %w", j.ID, err)
			}
			parts = append(parts, part{c, "application/json", full.Details})
			continue
		}
		b, err := r.c.API.Transcript(ctx, j.ID, formatOf(c))
		if err != nil {
			return nil, fmt.Errorf("%s of %s: %w", c, j.ID, err)
		}
		typ := "text/plain"
		if c == callback.ContentTranscript {
			typ = "application/json"
		}
		parts = append(parts, part{c, typ, b})
	}
	return parts, nil
}

// request is the callback the reconciler hands to the core: a POST with the
// job ID and status in the query, and a multipart body whose parts are named
// by their content, typed as Speechmatics types them.
func request(jobID, status, requestID string, parts []part) (*callback.Request, error) {
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
	h := http.Header{}
	h.Set("Content-Type", mw.FormDataContentType())
	h.Set("User-Agent", UserAgent)
	return &callback.Request{
		Method:    http.MethodPost,
		RawQuery:  "id=" + url.QueryEscape(jobID) + "&status=" + url.QueryEscape(status),
		Header:    h,
		Body:      &body,
		SourceIP:  SourceIP,
		RequestID: requestID,
		Origin:    callback.OriginReconciler,
	}, nil
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
