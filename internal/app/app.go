// Package app wires the callback receiver together from its configuration and
// runs it, under the Lambda runtime or as an HTTP server.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"smcallbacks/internal/apigateway"
	"smcallbacks/internal/auth"
	"smcallbacks/internal/awssecret"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/config"
	"smcallbacks/internal/httpserver"
	"smcallbacks/internal/local"
	"smcallbacks/internal/metrics"
	"smcallbacks/internal/observe"
	"smcallbacks/internal/s3store"
	"smcallbacks/internal/sqsqueue"
)

// NewService builds the callback service and its dependencies, once per
// process. Each callback's metrics go to rec.
func NewService(ctx context.Context, cfg *config.Config, logger *slog.Logger, rec metrics.Recorder) (*callback.Service, error) {
	svc := callback.Config{Sources: cfg.AllowedSources, KeyPrefix: cfg.KeyPrefix, Logger: logger, Metrics: rec}
	var awsCfg *aws.Config
	if !cfg.Local() || cfg.AuthSecretID != "" {
		c, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("load AWS configuration: %w", err)
		}
		observe.Trace(&c, cfg.Observability)
		awsCfg = &c
	}
	switch {
	case cfg.AuthDisabled:
		logger.Warn("AUTH_DISABLED=true: every caller is accepted; never run like this where the internet can reach it")
		svc.Auth = auth.Disabled{}
	case cfg.AuthSecretID != "":
		svc.Auth = useSecret(ctx, *awsCfg, cfg, logger)
	default:
		svc.Auth = auth.NewChecker(cfg.AuthHeaders)
	}
	if cfg.Local() {
		if err := useLocal(&svc, cfg, logger); err != nil {
			return nil, err
		}
	} else {
		useAWS(*awsCfg, &svc, cfg, logger)
	}
	return callback.New(svc)
}

// secretReadTimeout bounds the first read of the auth secret at start.
const secretReadTimeout = 10 * time.Second

// useSecret reads the auth secret before the first callback is answered,
// then keeps re-reading it in the background for as long as ctx lasts. A
// first read that fails does not stop the program: callbacks are refused
// with 503, so that the sender retries, until a read succeeds.
func useSecret(ctx context.Context, awsCfg aws.Config, cfg *config.Config, logger *slog.Logger) *auth.Checker {
	checker := &auth.Checker{}
	r := &auth.SecretRefresher{
		Checker:  checker,
		Source:   awssecret.New(secretsmanager.NewFromConfig(awsCfg), cfg.AuthSecretID),
		Static:   cfg.AuthHeaders,
		Interval: cfg.AuthSecretRefresh,
		Logger:   logger,
	}
	readCtx, cancel := context.WithTimeout(ctx, secretReadTimeout)
	defer cancel()
	if err := r.Refresh(readCtx); err != nil {
		logger.Error("auth secret not read: every callback is refused with 503 until it is", "error", err.Error())
	}
	go r.Run(ctx)
	return checker
}

func useLocal(svc *callback.Config, cfg *config.Config, logger *slog.Logger) error {
	store, err := local.NewStore(filepath.Join(cfg.LocalDir, "objects"))
	if err != nil {
		return err
	}
	queue, err := local.NewQueue(filepath.Join(cfg.LocalDir, "events.jsonl"))
	if err != nil {
		return err
	}
	svc.Store, svc.Queue = store, queue
	logger.Info("using the embedded local sinks", "dir", cfg.LocalDir)
	return nil
}

// useAWS builds the S3 and SQS clients, once per process, from the SDK's own
// settings: AWS_REGION, credentials, and AWS_ENDPOINT_URL_S3 and
// AWS_ENDPOINT_URL_SQS for other endpoints.
func useAWS(awsCfg aws.Config, svc *callback.Config, cfg *config.Config, logger *slog.Logger) {
	s3Client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		// A custom endpoint (an S3-compatible server, a local test server)
		// rarely resolves virtual-hosted bucket names.
		o.UsePathStyle = o.BaseEndpoint != nil
	})
	svc.Store = s3store.New(s3Client, cfg.BucketName)
	svc.Queue = sqsqueue.New(sqs.NewFromConfig(awsCfg), cfg.QueueURL)
	svc.Bucket = cfg.BucketName
	logger.Info("using S3 and SQS", "bucket", cfg.BucketName, "queue_url", cfg.QueueURL)
}

// Run serves callbacks until ctx is done: under the Lambda runtime when
// cfg.Lambda, with metric records on standard output, else as an HTTP
// server on cfg.ListenAddr, with the metrics at /metrics.
func Run(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	if cfg.Lambda {
		svc, err := NewService(ctx, cfg, logger, observe.Metrics(os.Stdout, cfg.Observability))
		if err != nil {
			return err
		}
		lambda.StartWithOptions(&apigateway.Handler{Service: svc}, lambda.WithContext(ctx))
		return nil // not reached: the runtime loop exits the process
	}
	rec, scrape := serverMetrics()
	svc, err := NewService(ctx, cfg, logger, rec)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("listen on %s: the address is in use (is another receiver running?); set LISTEN_ADDR to another, such as make run LISTEN_ADDR=127.0.0.1:8081", cfg.ListenAddr)
	}
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
	}
	return httpserver.Serve(ctx, ln, &httpserver.Handler{
		Service:         svc,
		MaxBodyBytes:    cfg.MaxBodyBytes,
		BodyIdleTimeout: cfg.BodyIdleTimeout,
		TrustedProxies:  cfg.TrustedProxies,
		Metrics:         scrape,
	}, cfg.KeepAliveTimeout, logger)
}
