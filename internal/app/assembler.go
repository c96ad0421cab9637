package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"smcallbacks/internal/assembler"
	"smcallbacks/internal/config"
	"smcallbacks/internal/s3store"
	"smcallbacks/internal/sqsbatch"
	"smcallbacks/internal/sqsqueue"
)

// NewAssembler builds the assembler's batch handler and its clients, once
// per process.
func NewAssembler(ctx context.Context, cfg *config.Assembler, logger *slog.Logger) (*sqsbatch.Handler, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	s3Client := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = o.BaseEndpoint != nil })
	return &sqsbatch.Handler{
		Assembler: &assembler.Assembler{
			Store:     s3store.NewManifests(s3Client, cfg.BucketName, cfg.KeyPrefix),
			Announcer: sqsqueue.NewAnnouncer(sqs.NewFromConfig(awsCfg), cfg.OutputQueueURL),
			Expected:  cfg.ExpectedContents,
			Logger:    logger,
		},
		Logger: logger,
	}, nil
}

// RunAssembler serves SQS batches under the Lambda runtime.
func RunAssembler(ctx context.Context, cfg *config.Assembler, logger *slog.Logger) error {
	h, err := NewAssembler(ctx, cfg, logger)
	if err != nil {
		return err
	}
	lambda.StartWithOptions(h.Handle, lambda.WithContext(ctx))
	return nil
}
