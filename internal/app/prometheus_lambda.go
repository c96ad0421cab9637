//go:build lambda.norpc

package app

import (
	"net/http"

	"smcallbacks/internal/metrics"
)

// serverMetrics, in the Lambda build (make bootstrap, with the tag
// lambda.norpc), keeps nothing and serves no GET /metrics: Prometheus's
// packages, which only server mode uses, took about a millisecond of every
// cold start to initialise. Under Lambda the metrics are EMF records on
// standard output; the same binary run as a server has none.
func serverMetrics() (metrics.Recorder, http.Handler) {
	return metrics.Discard{}, nil
}
