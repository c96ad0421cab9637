// Package emf writes metrics as CloudWatch embedded metric format (EMF)
// records: one JSON object per line, from which CloudWatch Logs extracts the
// metrics of a Lambda function's log. See
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
package emf

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"

	"smcallbacks/internal/metrics"
)

// Writer writes each piece of work's samples as EMF records. It is safe for
// concurrent use: each record is one Write of one line.
type Writer struct {
	// Namespace is the CloudWatch namespace of every metric.
	Namespace string
	// Function is the value of every metric's FunctionName dimension.
	Function string
	// Properties, when set, adds properties of the invocation a record is
	// written in, such as its request ID and trace ID.
	Properties func(context.Context) []metrics.Property
	// Now is the records' timestamp; nil means time.Now.
	Now func() time.Time

	mu sync.Mutex
	w  io.Writer
}

var _ metrics.Recorder = (*Writer)(nil)

// New returns a Writer that writes to w.
func New(w io.Writer, namespace, function string) *Writer {
	return &Writer{Namespace: namespace, Function: function, w: w}
}

// maxValues is how many values one metric may have in a record.
const maxValues = 100

// Record writes the samples, with the properties, in as few records as EMF
// allows: a record holds one value per dimension, so samples of a metric
// split by a dimension (Attachments by Content) take one record per value
// beyond the first. Samples of the same metric and dimension value are one
// metric with several values. Errors of the underlying writer are dropped:
// metrics must never fail the work they measure.
func (w *Writer) Record(ctx context.Context, samples []metrics.Sample, props ...metrics.Property) {
	if len(samples) == 0 {
		return
	}
	if w.Properties != nil {
		props = append(props, w.Properties(ctx)...)
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := now().UnixMilli()
	var lines []byte
	for _, r := range pack(samples) {
		b, err := json.Marshal(w.document(r, ts, props))
		if err != nil {
			continue // values are finite numbers and strings: not reached
		}
		lines = append(append(lines, b...), '\n')
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.w.Write(lines)
}

// record is the content of one EMF record: the value of each dimension it
// sets, and the values of each metric, in the order first seen.
type record struct {
	dims    map[string]string
	metrics []metrics.Metric
	values  map[string][]float64
}

func (r *record) fits(s metrics.Sample) bool {
	if vs, ok := r.values[s.Metric.Name]; ok {
		// The same metric again: it fits only with the same dimension value.
		return len(vs) < maxValues && (s.Metric.Dimension == "" || r.dims[s.Metric.Dimension] == s.Dimension)
	}
	v, set := r.dims[s.Metric.Dimension]
	return s.Metric.Dimension == "" || !set || v == s.Dimension
}

func (r *record) add(s metrics.Sample) {
	if s.Metric.Dimension != "" {
		r.dims[s.Metric.Dimension] = s.Dimension
	}
	if _, ok := r.values[s.Metric.Name]; !ok {
		r.metrics = append(r.metrics, s.Metric)
	}
	r.values[s.Metric.Name] = append(r.values[s.Metric.Name], s.Value)
}

// pack puts each sample in the first record it fits in.
func pack(samples []metrics.Sample) []*record {
	var records []*record
next:
	for _, s := range samples {
		for _, r := range records {
			if r.fits(s) {
				r.add(s)
				continue next
			}
		}
		r := &record{dims: map[string]string{}, values: map[string][]float64{}}
		r.add(s)
		records = append(records, r)
	}
	return records
}

type (
	metadata struct {
		Timestamp         int64       `json:"Timestamp"`
		CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
	}
	directive struct {
		Namespace  string       `json:"Namespace"`
		Dimensions [][]string   `json:"Dimensions"`
		Metrics    []definition `json:"Metrics"`
	}
	definition struct {
		Name string       `json:"Name"`
		Unit metrics.Unit `json:"Unit"`
	}
)

// document is the record as JSON: one directive per set of dimensions, the
// dimension values, the metric values and the properties as members of the
// root. A property never overwrites a dimension or a metric.
func (w *Writer) document(r *record, ts int64, props []metrics.Property) map[string]any {
	doc := make(map[string]any, 2+len(r.dims)+len(r.values)+len(props))
	for _, p := range props {
		doc[p.Name] = p.Value
	}
	directives := map[string]*directive{} // by the metric's own dimension
	meta := metadata{Timestamp: ts}
	for _, m := range r.metrics {
		d, ok := directives[m.Dimension]
		if !ok {
			dims := []string{metrics.FunctionDimension}
			if m.Dimension != "" {
				dims = append(dims, m.Dimension)
			}
			d = &directive{Namespace: w.Namespace, Dimensions: [][]string{dims}}
			directives[m.Dimension] = d
		}
		d.Metrics = append(d.Metrics, definition{Name: m.Name, Unit: m.Unit})
		if vs := r.values[m.Name]; len(vs) == 1 {
			doc[m.Name] = vs[0]
		} else {
			doc[m.Name] = vs
		}
	}
	// In the order the metrics came, so that records read alike.
	seen := map[string]bool{}
	for _, m := range r.metrics {
		if !seen[m.Dimension] {
			seen[m.Dimension] = true
			meta.CloudWatchMetrics = append(meta.CloudWatchMetrics, *directives[m.Dimension])
		}
	}
	for name, v := range r.dims {
		doc[name] = v
	}
	doc[metrics.FunctionDimension] = w.Function
	doc["_aws"] = meta
	return doc
}
