// Package app wires the callback receiver together from its configuration and
// runs it, under the Lambda runtime or as an HTTP server.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"smcallbacks/internal/apigateway"
	"smcallbacks/internal/auth"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/config"
	"smcallbacks/internal/httpserver"
	"smcallbacks/internal/local"
	"smcallbacks/internal/s3store"
	"smcallbacks/internal/sqsqueue"
)

// NewLogger returns the JSON logger at the configured level.
func NewLogger(w io.Writer, cfg *config.Config) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: cfg.LogLevel}))
}

// NewService builds the callback service and its dependencies, once per
// process.
func NewService(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*callback.Service, error) {
	svc := &callback.Service{KeyPrefix: cfg.KeyPrefix, Logger: logger}
	if cfg.AuthDisabled {
		logger.Warn("AUTH_DISABLED=true: every caller is accepted; never run like this where the internet can reach it")
		svc.Auth = auth.Disabled{}
	} else {
		svc.Auth = auth.NewChecker(cfg.AuthHeaders)
	}
	if cfg.Local() {
		return svc, useLocal(svc, cfg, logger)
	}
	return svc, useAWS(ctx, svc, cfg, logger)
}

func useLocal(svc *callback.Service, cfg *config.Config, logger *slog.Logger) error {
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
func useAWS(ctx context.Context, svc *callback.Service, cfg *config.Config, logger *slog.Logger) error {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	s3Client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		// A custom endpoint (an S3-compatible server, a local test server)
		// rarely resolves virtual-hosted bucket names.
		o.UsePathStyle = o.BaseEndpoint != nil
	})
	svc.Store = s3store.New(s3Client, cfg.BucketName)
	svc.Queue = sqsqueue.New(sqs.NewFromConfig(awsCfg), cfg.QueueURL)
	svc.Bucket = cfg.BucketName
	logger.Info("using S3 and SQS", "bucket", cfg.BucketName, "queue_url", cfg.QueueURL)
	return nil
}

// Run serves callbacks until ctx is done: under the Lambda runtime when
// cfg.Lambda, else as an HTTP server on cfg.ListenAddr.
func Run(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	svc, err := NewService(ctx, cfg, logger)
	if err != nil {
		return err
	}
	if cfg.Lambda {
		lambda.StartWithOptions(&apigateway.Handler{Service: svc}, lambda.WithContext(ctx))
		return nil // not reached: the runtime loop exits the process
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return httpserver.Serve(ctx, ln, &httpserver.Handler{Service: svc}, logger)
}
