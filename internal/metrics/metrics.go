// Package metrics names the product's metrics once, for every way they go
// out: CloudWatch embedded metric format records under Lambda (package emf)
// and the Prometheus exposition in server mode (package promexport). The
// dashboard and alarms in template.yaml use these names; a test keeps them
// in step.
package metrics

import "context"

// Unit is a CloudWatch unit.
type Unit string

// The units the product's metrics are in.
const (
	Count        Unit = "Count"
	Bytes        Unit = "Bytes"
	Milliseconds Unit = "Milliseconds"
	Seconds      Unit = "Seconds"
)

// FunctionDimension is the dimension every metric has: the name of the
// function that recorded it.
const FunctionDimension = "FunctionName"

// Metric is one of the product's metrics.
type Metric struct {
	Name string
	Unit Unit
	// Dimension, when set, splits the metric by one more dimension than
	// the function's name; Values are the values it takes.
	Dimension string
	Values    []string
	// Help says what the metric measures.
	Help string
}

// Outcomes are the values of the Callbacks metric's Outcome dimension.
var Outcomes = []string{"stored", "unauthorized", "forbidden", "bad_request", "too_large", "unavailable", "error"}

// The receiver's metrics, one set per callback answered.
var (
	Callbacks = Metric{Name: "Callbacks", Unit: Count, Dimension: "Outcome", Values: Outcomes,
		Help: "Callbacks answered, by outcome: stored (2xx), unauthorized, forbidden, bad_request, too_large, unavailable (503: retry), error (500)."}
	Attachments = Metric{Name: "Attachments", Unit: Count, Dimension: "Content",
		Help: "Attachments stored, by content (transcript.json-v2, jobinfo, data, other, ...)."}
	AttachmentBytes = Metric{Name: "AttachmentBytes", Unit: Bytes, Help: "Bytes of the attachments stored."}
	UnknownStatus   = Metric{Name: "UnknownStatus", Unit: Count, Help: "Callbacks whose status is none Speechmatics documents."}
	HandlerDuration = Metric{Name: "HandlerDuration", Unit: Milliseconds, Help: "Time from a callback's start to its answer."}
)

// The assembler's metrics, one set per batch of events.
var (
	JobsCompleted     = Metric{Name: "JobsCompleted", Unit: Count, Help: "Jobs announced as completed."}
	JobsFailed        = Metric{Name: "JobsFailed", Unit: Count, Help: "Jobs announced as failed (a failing status from Speechmatics)."}
	JobCompletionTime = Metric{Name: "JobCompletionTime", Unit: Seconds, Help: "Time from a job's earliest event to its end, for each job announced."}
	PoisonEvents      = Metric{Name: "PoisonEvents", Unit: Count, Help: "Messages on the callback queue that are no callback event."}
)

// The reconciler's metrics, one set per run.
var (
	JobsReconciled        = Metric{Name: "JobsReconciled", Unit: Count, Help: "Jobs whose missing contents a run stored or announced."}
	ContentsRecovered     = Metric{Name: "ContentsRecovered", Unit: Count, Help: "Contents fetched from the Jobs API and stored."}
	ContentsUnrecoverable = Metric{Name: "ContentsUnrecoverable", Unit: Count, Help: "Contents that never arrived and that the Jobs API cannot give."}
	JobsWaiting           = Metric{Name: "JobsWaiting", Unit: Count, Help: "Jobs not settled yet: still running, or finished and left to their callbacks within the grace."}
	OldestUnsettledAge    = Metric{Name: "OldestUnsettledAge", Unit: Seconds, Help: "How long the longest-waiting finished job has been incomplete, since a run first saw it so (0 when none)."}
)

// Receiver, Assembler and Reconciler list each function's metrics.
var (
	Receiver   = []Metric{Callbacks, Attachments, AttachmentBytes, UnknownStatus, HandlerDuration}
	Assembler  = []Metric{JobsCompleted, JobsFailed, JobCompletionTime, PoisonEvents}
	Reconciler = []Metric{JobsReconciled, ContentsRecovered, ContentsUnrecoverable, JobsWaiting, OldestUnsettledAge}
)

// Sample is one value of a metric. Dimension is the value of the metric's
// dimension, "" for a metric without one.
type Sample struct {
	Metric    Metric
	Dimension string
	Value     float64
}

// Property describes the work a record is about (a job ID, a request ID)
// without being a dimension: it goes with the record, never into a metric's
// name or dimensions. It never holds a header value or a body byte.
type Property struct {
	Name, Value string
}

// Recorder takes the samples of one piece of work: a callback, a batch of
// events, a reconciler run.
type Recorder interface {
	Record(ctx context.Context, samples []Sample, props ...Property)
}

// Discard is a Recorder that keeps nothing.
type Discard struct{}

// Record does nothing.
func (Discard) Record(context.Context, []Sample, ...Property) {}
