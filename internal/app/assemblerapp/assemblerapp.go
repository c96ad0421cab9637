// Package assemblerapp wires the assembler function together from its
// configuration and runs it under the Lambda runtime. It is apart from the
// receiver's wiring (package app), so that neither binary links the other's
// packages.
package assemblerapp

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"smcallbacks/internal/assembler"
	"smcallbacks/internal/config"
	"smcallbacks/internal/observe"
	"smcallbacks/internal/s3manifest"
	"smcallbacks/internal/sqsannounce"
	"smcallbacks/internal/sqsbatch"
)

// New builds the assembler's batch handler and its clients, once
// per process.
func New(ctx context.Context, cfg *config.Assembler, logger *slog.Logger) (*sqsbatch.Handler, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	observe.Trace(&awsCfg, cfg.Observability)
	s3Client := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = o.BaseEndpoint != nil })
	return &sqsbatch.Handler{
		Assembler: &assembler.Assembler{
			Store:     s3manifest.New(s3Client, cfg.BucketName, cfg.KeyPrefix),
			Announcer: sqsannounce.New(sqs.NewFromConfig(awsCfg), cfg.OutputQueueURL),
			Expected:  cfg.ExpectedContents,
			Logger:    logger,
		},
		Logger:  logger,
		Metrics: observe.Metrics(os.Stdout, cfg.Observability),
	}, nil
}

// Run serves SQS batches under the Lambda runtime.
func Run(ctx context.Context, cfg *config.Assembler, logger *slog.Logger) error {
	h, err := New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	lambda.StartWithOptions(h.Handle, lambda.WithContext(ctx))
	return nil
}
