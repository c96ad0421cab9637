// Command callback receives Speechmatics batch-job callbacks: under the Lambda
// runtime when AWS_LAMBDA_RUNTIME_API is set, else as an HTTP server.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"smcallbacks/internal/app"
	"smcallbacks/internal/config"
	"smcallbacks/internal/observe"
)

func main() {
	cfg, err := config.LoadCommand(os.Args[1:], os.Getenv, os.Stdout)
	if errors.Is(err, config.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	logger := observe.Logger(os.Stderr, cfg.Observability, cfg.Lambda)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := app.Run(ctx, cfg, logger); err != nil {
		logger.Error("callback receiver stopped", "error", err.Error())
		os.Exit(1)
	}
}
