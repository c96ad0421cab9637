// Command assembler is the reference consumer of the callback queue: an
// SQS-triggered Lambda function that keeps one manifest per job and
// announces each job once it completes or fails.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"smcallbacks/internal/app/assemblerapp"
	"smcallbacks/internal/config"
	"smcallbacks/internal/observe"
)

func main() {
	cfg, err := config.LoadAssembler(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	logger := observe.Logger(os.Stderr, cfg.Observability, true)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := assemblerapp.Run(ctx, cfg, logger); err != nil {
		logger.Error("assembler stopped", "error", err.Error())
		os.Exit(1)
	}
}
