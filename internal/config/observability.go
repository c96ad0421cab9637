package config

import (
	"log/slog"
	"regexp"
)

// Observability is how every function logs and reports its metrics.
type Observability struct {
	LogLevel slog.Level
	// MetricsNamespace is the CloudWatch namespace of the metric records
	// written under Lambda.
	MetricsNamespace string
	// FunctionName and FunctionVersion are the Lambda function's, as
	// Lambda sets them; "" elsewhere.
	FunctionName    string
	FunctionVersion string
	// TraceDaemon is the X-Ray daemon's address, which Lambda sets when
	// tracing is on; "" traces nothing.
	TraceDaemon string
}

// DefaultMetricsNamespace is the namespace when METRICS_NAMESPACE is unset.
const DefaultMetricsNamespace = "SpeechmaticsCallbacks"

// namespacePattern is what CloudWatch accepts as a namespace: no leading
// colon, no control characters; and at most maxNamespace characters, a bound
// kept out of the expression, whose compiling it made take 0.6 ms of every
// cold start.
var namespacePattern = regexp.MustCompile(`^[A-Za-z0-9 ._#/-][A-Za-z0-9 ._#/:-]*$`)

const maxNamespace = 255

// loadObservability reads LOG_LEVEL, METRICS_NAMESPACE and what Lambda says
// of the function.
func loadObservability(getenv func(string) string, bad func(string, ...any)) Observability {
	o := Observability{
		LogLevel:         logLevel(getenv, bad),
		MetricsNamespace: orDefault(getenv("METRICS_NAMESPACE"), DefaultMetricsNamespace),
		FunctionName:     getenv("AWS_LAMBDA_FUNCTION_NAME"),
		FunctionVersion:  getenv("AWS_LAMBDA_FUNCTION_VERSION"),
		TraceDaemon:      getenv("AWS_XRAY_DAEMON_ADDRESS"),
	}
	if len(o.MetricsNamespace) > maxNamespace || !namespacePattern.MatchString(o.MetricsNamespace) {
		bad("METRICS_NAMESPACE: want up to 255 letters, digits and . _ # / : - (not first), such as %s, got %q",
			DefaultMetricsNamespace, o.MetricsNamespace)
	}
	return o
}
