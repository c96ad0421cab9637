//go:build !lambda.norpc

package app

import (
	"net/http"

	"smcallbacks/internal/metrics"
	"smcallbacks/internal/promexport"
)

// serverMetrics returns what keeps server mode's metrics and the handler of
// GET /metrics, which serves them in the Prometheus text format.
func serverMetrics() (metrics.Recorder, http.Handler) {
	reg := promexport.New(metrics.Receiver)
	return reg, reg.Handler()
}
