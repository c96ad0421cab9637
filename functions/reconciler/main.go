// Command reconciler finds the finished Speechmatics jobs of this receiver
// whose contents were never stored or announced, and stores and announces
// them as their callbacks would have: one pass per scheduled event under
// the Lambda runtime, else one pass and exit (1 when it failed).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"smcallbacks/internal/app/reconcilerapp"
	"smcallbacks/internal/config"
	"smcallbacks/internal/observe"
)

func main() {
	cfg, err := config.LoadReconciler(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	logger := observe.Logger(os.Stderr, cfg.Observability, cfg.Lambda)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := reconcilerapp.Run(ctx, cfg, logger); err != nil {
		os.Exit(1) // Run logged why, its summary line last
	}
}
