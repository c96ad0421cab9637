// Package metricstest is a Recorder that keeps what it is given, for tests.
package metricstest

import (
	"context"
	"sync"

	"smcallbacks/internal/metrics"
)

// Recorder keeps each Record call. It is safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	calls []Call
}

// Call is what one Record call was given.
type Call struct {
	Samples []metrics.Sample
	Props   []metrics.Property
}

var _ metrics.Recorder = (*Recorder)(nil)

// Record keeps the samples and properties.
func (r *Recorder) Record(_ context.Context, samples []metrics.Sample, props ...metrics.Property) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, Call{Samples: samples, Props: props})
}

// Calls returns the calls so far.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// Value returns the sum of the values of the named metric with the
// dimension value dim ("" for a metric without one) in c, and whether c
// has it at all.
func (c Call) Value(name, dim string) (float64, bool) {
	var sum float64
	found := false
	for _, s := range c.Samples {
		if s.Metric.Name == name && s.Dimension == dim {
			sum += s.Value
			found = true
		}
	}
	return sum, found
}

// Prop returns the value of the named property, "" when there is none.
func (c Call) Prop(name string) string {
	for _, p := range c.Props {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}
