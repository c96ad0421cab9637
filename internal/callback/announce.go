package callback

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Announcement asks for one Event about objects that are already stored,
// such as those of a callback whose event could never be queued. Nothing
// is read or written but the queue.
type Announcement struct {
	JobID     string
	Status    string
	Origin    string
	RequestID string
	SourceIP  string
	UserAgent string
	// Attachments describe the stored objects; their Bucket is set to the
	// Service's, and a ContentType left empty (or generic) to the one the
	// core stores such content with. Each key must lie below the job's
	// prefix.
	Attachments []Attachment
}

// Announce queues the Event of a, dated now, exactly as a callback that
// stored those objects would have queued it, and logs one line
// ("msg":"announce").
func (s *Service) Announce(ctx context.Context, a *Announcement) error {
	if err := s.checkAnnouncement(a); err != nil {
		return err
	}
	ev := &Event{
		Version: EventVersion, JobID: a.JobID, Status: a.Status, ReceivedAt: s.c.Now().UTC(),
		RequestID: a.RequestID, SourceIP: a.SourceIP, UserAgent: a.UserAgent, Origin: a.Origin,
		Attachments: slices.Clone(a.Attachments),
	}
	if ev.Attachments == nil {
		ev.Attachments = []Attachment{}
	}
	keys := make([]string, len(ev.Attachments))
	for i := range ev.Attachments {
		ev.Attachments[i].Bucket = s.c.Bucket
		ev.Attachments[i].ContentType = contentTypeOf(ev.Attachments[i].Content, ev.Attachments[i].ContentType)
		keys[i] = ev.Attachments[i].Key
	}
	err := s.c.Queue.Send(ctx, ev)
	attrs := []any{"job_id", ev.JobID, "status", ev.Status, "origin", ev.Origin, "request_id", ev.RequestID, "keys", keys}
	if err != nil {
		s.c.Logger.ErrorContext(ctx, "announce", append(attrs, "error", err.Error())...)
		return fmt.Errorf("send event of %s: %w", a.JobID, err)
	}
	s.c.Logger.InfoContext(ctx, "announce", attrs...)
	return nil
}

// checkAnnouncement holds an announcement to the rules of a callback: a
// valid job ID and status, known contents, keys below the job's prefix.
func (s *Service) checkAnnouncement(a *Announcement) error {
	var problems []string
	if !IsJobID(a.JobID) {
		problems = append(problems, fmt.Sprintf("invalid job id %q", a.JobID))
	}
	if !isStatus(a.Status) {
		problems = append(problems, fmt.Sprintf("invalid status %q", a.Status))
	}
	prefix := s.c.KeyPrefix + a.JobID + "/"
	for _, at := range a.Attachments {
		if !IsContent(at.Content) {
			problems = append(problems, fmt.Sprintf("unknown content %q", at.Content))
		}
		if !strings.HasPrefix(at.Key, prefix) || len(at.Key) == len(prefix) {
			problems = append(problems, fmt.Sprintf("key %q is not below %q", at.Key, prefix))
		}
	}
	if len(problems) > 0 {
		return errors.New("announce: " + strings.Join(problems, "; "))
	}
	return nil
}
