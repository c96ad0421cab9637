package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"smcallbacks/internal/callback"
)

// RunJob reconciles one job now, whatever its grace: an operator's "fetch
// it now". It lists nothing and leaves the watermark where it is; a job
// that is not ours is left alone.
func (r *Reconciler) RunJob(ctx context.Context, id string) (*Summary, error) {
	p, err := r.newPass(ctx)
	if err != nil {
		return &Summary{}, err
	}
	p.force = true
	work, cancel := r.workContext(ctx)
	defer cancel()
	j, err := r.c.API.GetJob(work, id)
	var jobErr error // the key refused or the API busy: saved notes first
	switch {
	case errors.Is(err, ErrGone):
		r.c.Logger.InfoContext(ctx, "job gone: nothing to reconcile", "job_id", id, "error", err.Error())
	case err != nil:
		return p.sum, fmt.Errorf("read job %s: %w", id, err)
	default:
		p.sum.JobsListed = 1
		jobErr = p.consider(work, j)
		if jobErr == nil && p.sum.JobsOurs == 0 {
			r.c.Logger.WarnContext(ctx, "not a job of this receiver: left alone", "job_id", id, "callback_url", r.c.CallbackURL)
		}
	}
	p.st.Watermark = p.st.Watermark.UTC()
	p.sum.Watermark = p.st.Watermark
	return p.end(ctx, jobErr)
}

// Replay queues one event, origin "replay", for every object stored under
// the job's prefix (but its manifest), for a downstream that must process
// the job again. It fetches and stores nothing.
func (r *Reconciler) Replay(ctx context.Context, id string) error {
	prefix := r.c.KeyPrefix + id + "/"
	keys, err := r.c.Index.List(ctx, prefix)
	if err != nil {
		return fmt.Errorf("list %s: %w", prefix, err)
	}
	slices.Sort(keys)
	var objs []*StoredObject
	for _, key := range keys {
		rel := strings.TrimPrefix(key, prefix)
		if rel == "manifest.json" {
			continue
		}
		obj, err := r.c.Index.Stat(ctx, key)
		if err != nil {
			return fmt.Errorf("replay %s: %w", id, err)
		}
		if obj.Content == "" {
			obj.Content = contentOfKey(rel)
		}
		objs = append(objs, obj)
	}
	if len(objs) == 0 {
		return fmt.Errorf("replay %s: nothing is stored under %s", id, prefix)
	}
	a := announcement(id, callback.StatusSuccess, callback.OriginReplay, "replay-"+newRunID()+"-"+id, objs)
	if err := r.c.Core.Announce(ctx, a); err != nil {
		return fmt.Errorf("replay %s: %w", id, err)
	}
	return nil
}
