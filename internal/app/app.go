// Package app wires the callback receiver together from its configuration and
// runs it, under the Lambda runtime or as an HTTP server.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"

	"github.com/aws/aws-lambda-go/lambda"

	"smcallbacks/internal/apigateway"
	"smcallbacks/internal/auth"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/config"
	"smcallbacks/internal/httpserver"
	"smcallbacks/internal/local"
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
	if !cfg.Local() {
		return nil, errors.New("BUCKET_NAME and QUEUE_URL: the S3 and SQS sinks are not built yet")
	}
	store, err := local.NewStore(filepath.Join(cfg.LocalDir, "objects"))
	if err != nil {
		return nil, err
	}
	queue, err := local.NewQueue(filepath.Join(cfg.LocalDir, "events.jsonl"))
	if err != nil {
		return nil, err
	}
	svc.Store, svc.Queue = store, queue
	logger.Info("using the embedded local sinks", "dir", cfg.LocalDir)
	return svc, nil
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
