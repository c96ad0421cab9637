// Package promexport keeps the product's metrics as Prometheus collectors
// and serves them in the Prometheus text format, for server mode's
// GET /metrics.
//
// Each metric of package metrics becomes one collector named
// speechmatics_<name in snake case>: a counter (_total) for counts and
// bytes, a histogram in seconds (_seconds) for durations, labelled by the
// metric's dimension in lower case. Callbacks becomes
// speechmatics_callbacks_total{outcome="stored"}, HandlerDuration
// speechmatics_handler_duration_seconds.
package promexport

import (
	"context"
	"net/http"
	"strings"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"smcallbacks/internal/metrics"
)

// namespace is the first part of every metric's name.
const namespace = "speechmatics"

// Registry holds one collector per metric. It is safe for concurrent use.
type Registry struct {
	reg        *prometheus.Registry
	counters   map[string]*prometheus.CounterVec
	histograms map[string]*prometheus.HistogramVec
}

var _ metrics.Recorder = (*Registry)(nil)

// New returns a Registry with a collector for each of ms, each label value
// the metric lists already at zero, and the Go runtime's and the process's
// collectors.
func New(ms []metrics.Metric) *Registry {
	r := &Registry{
		reg:        prometheus.NewRegistry(),
		counters:   map[string]*prometheus.CounterVec{},
		histograms: map[string]*prometheus.HistogramVec{},
	}
	r.reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	for _, m := range ms {
		var labels []string
		if m.Dimension != "" {
			labels = []string{strings.ToLower(m.Dimension)}
		}
		name := snake(m.Name)
		switch m.Unit {
		case metrics.Milliseconds, metrics.Seconds:
			h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
				Namespace: namespace, Name: strings.TrimSuffix(name, "_time") + "_seconds", Help: m.Help,
				Buckets: prometheus.ExponentialBuckets(0.001, 2, 18), // 1 ms to about 2 minutes
			}, labels)
			r.reg.MustRegister(h)
			r.histograms[m.Name] = h
		default:
			c := prometheus.NewCounterVec(prometheus.CounterOpts{
				Namespace: namespace, Name: name + "_total", Help: m.Help,
			}, labels)
			r.reg.MustRegister(c)
			r.counters[m.Name] = c
			for _, v := range m.Values {
				c.WithLabelValues(v)
			}
		}
	}
	return r
}

// Record adds the samples to their collectors. Properties are dropped: a
// label per job would grow without bound. A sample of a metric the Registry
// was not made with is dropped too.
func (r *Registry) Record(_ context.Context, samples []metrics.Sample, _ ...metrics.Property) {
	for _, s := range samples {
		var labels []string
		if s.Metric.Dimension != "" {
			labels = []string{s.Dimension}
		}
		if c, ok := r.counters[s.Metric.Name]; ok {
			c.WithLabelValues(labels...).Add(s.Value)
		}
		if h, ok := r.histograms[s.Metric.Name]; ok {
			v := s.Value
			if s.Metric.Unit == metrics.Milliseconds {
				v /= 1000
			}
			h.WithLabelValues(labels...).Observe(v)
		}
	}
}

// Handler serves the metrics in the Prometheus text format (or another
// format the scraper asks for).
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

// snake turns CamelCase into snake_case: AttachmentBytes into
// attachment_bytes.
func snake(s string) string {
	var b strings.Builder
	for i, c := range s {
		if unicode.IsUpper(c) {
			if i > 0 {
				b.WriteByte('_')
			}
			c = unicode.ToLower(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}
