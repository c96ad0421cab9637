// Package observe builds what every function observes itself with, from
// its configuration: the JSON logger, with the invocation's fields under
// Lambda, and under Lambda the metric records and the traces of its AWS
// calls.
package observe

import (
	"io"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"smcallbacks/internal/config"
	"smcallbacks/internal/emf"
	"smcallbacks/internal/lambdalog"
	"smcallbacks/internal/xray"
)

// Logger returns the JSON logger at the configured level; under Lambda its
// lines carry the invocation's request ID, cold start, version and trace.
func Logger(w io.Writer, o config.Observability, lambda bool) *slog.Logger {
	var h slog.Handler = slog.NewJSONHandler(w, &slog.HandlerOptions{Level: o.LogLevel})
	if lambda {
		h = lambdalog.New(h, o.FunctionVersion)
	}
	return slog.New(h)
}

// Metrics returns the writer of a Lambda function's metric records: one
// line each on w, which must be the function's standard output for
// CloudWatch to find them, apart from the log.
func Metrics(w io.Writer, o config.Observability) *emf.Writer {
	m := emf.New(w, o.MetricsNamespace, o.FunctionName)
	m.Properties = lambdalog.Properties
	return m
}

// Trace makes the clients built from awsCfg trace their calls in X-Ray when
// tracing is on (Lambda set the daemon's address); call it before building
// them.
func Trace(awsCfg *aws.Config, o config.Observability) {
	xray.Instrument(awsCfg, xray.NewEmitter(o.TraceDaemon))
}
