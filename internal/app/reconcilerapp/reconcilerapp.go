// Package reconcilerapp wires the reconciler together from its
// configuration and runs it: one pass per scheduled event under the Lambda
// runtime, or one pass and exit elsewhere.
package reconcilerapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"smcallbacks/internal/auth"
	"smcallbacks/internal/awssecret"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/config"
	"smcallbacks/internal/local"
	"smcallbacks/internal/metrics"
	"smcallbacks/internal/observe"
	"smcallbacks/internal/reconcile"
	"smcallbacks/internal/s3manifest"
	"smcallbacks/internal/s3store"
	"smcallbacks/internal/sqsqueue"
)

// StateKey is where the state object lies below the key prefix. No job's
// prefix can start with '.'.
const StateKey = ".reconciler/state.json"

// The sinks' readers, defined beside their writers, serve the reconciler.
var (
	_ reconcile.ObjectIndex = (*s3store.Index)(nil)
	_ reconcile.ObjectIndex = (*local.Index)(nil)
	_ reconcile.StateStore  = (*s3store.Blob)(nil)
	_ reconcile.StateStore  = (*local.Blob)(nil)
)

// App is the reconciler's dependencies, built once per process.
type App struct {
	cfg    *config.Reconciler
	logger *slog.Logger
	rc     reconcile.Config
	secret *awssecret.Source
	// metrics gets each run's metrics (metrics.Reconciler).
	metrics metrics.Recorder
}

// New builds the sinks, the index, the state store and the callback core
// that the reconciler hands its callbacks to.
func New(ctx context.Context, cfg *config.Reconciler, logger *slog.Logger) (*App, error) {
	a := &App{cfg: cfg, logger: logger, metrics: metrics.Discard{}, rc: reconcile.Config{
		KeyPrefix: cfg.KeyPrefix, CallbackURL: cfg.CallbackURL, Grace: cfg.Grace, Lookback: cfg.Lookback, Logger: logger,
	}}
	svc := callback.Config{Auth: auth.Disabled{}, KeyPrefix: cfg.KeyPrefix, Logger: logger}
	var awsCfg aws.Config
	if !cfg.Local() || cfg.APIKeySecretID != "" {
		var err error
		if awsCfg, err = awsconfig.LoadDefaultConfig(ctx); err != nil {
			return nil, fmt.Errorf("load AWS configuration: %w", err)
		}
		observe.Trace(&awsCfg, cfg.Observability)
	}
	if cfg.APIKeySecretID != "" {
		a.secret = awssecret.New(secretsmanager.NewFromConfig(awsCfg), cfg.APIKeySecretID)
	}
	if cfg.Local() {
		if err := a.useLocal(&svc); err != nil {
			return nil, err
		}
	} else {
		a.useAWS(awsCfg, &svc)
	}
	core, err := callback.New(svc)
	if err != nil {
		return nil, err
	}
	a.rc.Core = core
	return a, nil
}

func (a *App) useLocal(svc *callback.Config) error {
	objects := filepath.Join(a.cfg.LocalDir, "objects")
	store, err := local.NewStore(objects)
	if err != nil {
		return err
	}
	queue, err := local.NewQueue(filepath.Join(a.cfg.LocalDir, "events.jsonl"))
	if err != nil {
		return err
	}
	svc.Store, svc.Queue = store, queue
	a.rc.Index = local.NewIndex(objects)
	a.rc.State = local.NewBlob(filepath.Join(a.cfg.LocalDir, "reconciler-state.json"))
	return nil
}

func (a *App) useAWS(awsCfg aws.Config, svc *callback.Config) {
	s3Client := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = o.BaseEndpoint != nil })
	bucket := a.cfg.BucketName
	svc.Store, svc.Bucket = s3store.New(s3Client, bucket), bucket
	svc.Queue = sqsqueue.New(sqs.NewFromConfig(awsCfg), a.cfg.QueueURL)
	a.rc.Index = s3store.NewIndex(s3Client, bucket)
	a.rc.State = s3store.NewBlob(s3Client, bucket, a.cfg.KeyPrefix+StateKey)
	if a.cfg.SettledBy == config.SettledByManifest {
		a.rc.Manifests = s3manifest.New(s3Client, bucket, a.cfg.KeyPrefix)
	}
}

// errNotConfigured says that the secret holds no API key yet.
var errNotConfigured = errors.New("not configured")

// apiKey is the configured key, or the one the secret holds now: a plain
// string, or {"api_key":"…"}.
func (a *App) apiKey(ctx context.Context) (string, error) {
	if a.secret == nil {
		return a.cfg.APIKey, nil
	}
	v, err := a.secret.SecretValue(ctx)
	if err != nil {
		return "", fmt.Errorf("read the API key: %w", err)
	}
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "{") {
		var s struct {
			APIKey string `json:"api_key"`
		}
		if err := json.Unmarshal([]byte(v), &s); err != nil {
			return "", fmt.Errorf("read the API key: secret %s: not the JSON {\"api_key\":\"…\"}", a.cfg.APIKeySecretID)
		}
		v = strings.TrimSpace(s.APIKey)
	}
	if v == "" {
		return "", errNotConfigured
	}
	return v, nil
}

// keySetting names where the key comes from, for the error of a 401.
func (a *App) keySetting() string {
	if a.secret != nil {
		return "the API key in the secret SPEECHMATICS_API_KEY_SECRET_ID=" + a.cfg.APIKeySecretID
	}
	return "SPEECHMATICS_API_KEY"
}

// lambdaMargin is how long before the invocation's deadline a pass stops,
// at most: a fifth of the time left when that is less.
const lambdaMargin = 15 * time.Second

// Handle runs one pass per scheduled event, under the Lambda runtime.
func (a *App) Handle(ctx context.Context, _ json.RawMessage) (*reconcile.Summary, error) {
	return a.Pass(ctx)
}

// Run runs the reconciler: under the Lambda runtime when cfg.Lambda, else
// one pass. Everything it has to say is logged, the summary line last.
func Run(ctx context.Context, cfg *config.Reconciler, logger *slog.Logger) error {
	a, err := New(ctx, cfg, logger)
	if err != nil {
		logger.Error("reconciler could not start", "error", err.Error())
		return err
	}
	if cfg.Lambda {
		a.metrics = observe.Metrics(os.Stdout, cfg.Observability)
		lambda.StartWithOptions(a.Handle, lambda.WithContext(ctx))
		return nil // not reached: the runtime loop exits the process
	}
	_, err = a.Pass(ctx)
	return err
}
