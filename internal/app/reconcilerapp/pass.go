package reconcilerapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"smcallbacks/internal/jobsapi"
	"smcallbacks/internal/metrics"
	"smcallbacks/internal/reconcile"
)

// Pass runs what the configuration asks for once: a replay, one job, or a
// run. It logs one summary line last ("msg":"reconcile run", or "reconcile
// replay"), with the error of a failed pass. A secret without a key yet is
// not a failure: the pass logs "not configured" and does nothing.
func (a *App) Pass(ctx context.Context) (*reconcile.Summary, error) {
	rc := a.rc
	rc.Margin = margin(ctx)
	if a.cfg.Replay != "" {
		return nil, a.replay(ctx, rc)
	}
	key, err := a.apiKey(ctx)
	if errors.Is(err, errNotConfigured) {
		a.logger.WarnContext(ctx, "not configured: the secret holds no Speechmatics API key yet; put it there to start reconciling",
			"secret_id", a.cfg.APIKeySecretID)
		return nil, nil
	}
	if err != nil {
		return a.summarize(ctx, &reconcile.Summary{}, err)
	}
	if rc.API, err = jobsapi.New(jobsapi.Config{BaseURL: a.cfg.APIURL, APIKey: key}); err != nil {
		return a.summarize(ctx, &reconcile.Summary{}, err)
	}
	r, err := reconcile.New(rc)
	if err != nil {
		return a.summarize(ctx, &reconcile.Summary{}, err)
	}
	var sum *reconcile.Summary
	if a.cfg.Job != "" {
		sum, err = r.RunJob(ctx, a.cfg.Job)
	} else {
		sum, err = r.Run(ctx)
	}
	if errors.Is(err, reconcile.ErrUnauthorized) {
		err = fmt.Errorf("%w: check %s", err, a.keySetting())
	}
	return a.summarize(ctx, sum, err)
}

func (a *App) replay(ctx context.Context, rc reconcile.Config) error {
	rc.API = noAPI{}
	r, err := reconcile.New(rc)
	if err == nil {
		err = r.Replay(ctx, a.cfg.Replay)
	}
	attrs := []slog.Attr{slog.String("job_id", a.cfg.Replay)}
	if err != nil {
		a.logger.LogAttrs(ctx, slog.LevelError, "reconcile replay", append(attrs, slog.String("error", err.Error()))...)
		return err
	}
	a.logger.LogAttrs(ctx, slog.LevelInfo, "reconcile replay", attrs...)
	return nil
}

// summarize logs the summary line, records the run's metrics and passes
// the result on.
func (a *App) summarize(ctx context.Context, sum *reconcile.Summary, err error) (*reconcile.Summary, error) {
	a.metrics.Record(context.WithoutCancel(ctx), []metrics.Sample{
		{Metric: metrics.JobsReconciled, Value: float64(sum.JobsReconciled)},
		{Metric: metrics.ContentsRecovered, Value: float64(sum.ContentsRecovered)},
		{Metric: metrics.ContentsUnrecoverable, Value: float64(sum.ContentsUnrecoverable)},
		{Metric: metrics.JobsWaiting, Value: float64(sum.JobsWaiting)},
		{Metric: metrics.OldestUnsettledAge, Value: sum.OldestUnsettledSeconds},
	})
	attrs := sum.Attrs()
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	a.logger.LogAttrs(context.WithoutCancel(ctx), level, "reconcile run", attrs...)
	return sum, err
}

// margin is how long before ctx's deadline a pass stops: lambdaMargin, or
// a fifth of the time left when that is less.
func margin(ctx context.Context) time.Duration {
	deadline, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	return min(lambdaMargin, time.Until(deadline)/5)
}

// noAPI stands for the Jobs API in a replay, which never calls it.
type noAPI struct{}

var errNoAPI = errors.New("a replay does not call the Jobs API")

func (noAPI) ListJobs(context.Context, time.Time, int) ([]reconcile.Job, error) { return nil, errNoAPI }
func (noAPI) GetJob(context.Context, string) (*reconcile.Job, error)            { return nil, errNoAPI }
func (noAPI) Transcript(context.Context, string, string) ([]byte, error)        { return nil, errNoAPI }
