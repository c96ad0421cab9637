package promexport_test

import (
	"context"
	"net/http/httptest"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"smcallbacks/internal/metrics"
	"smcallbacks/internal/promexport"
	"smcallbacks/internal/promexport/promtest"
)

func TestExposition(t *testing.T) {
	reg := promexport.New(metrics.Receiver)
	srv := httptest.NewServer(reg.Handler())
	defer srv.Close()
	for range 3 {
		reg.Record(context.Background(), []metrics.Sample{
			{Metric: metrics.Callbacks, Dimension: "stored", Value: 1},
			{Metric: metrics.HandlerDuration, Value: 250},
			{Metric: metrics.Attachments, Dimension: "jobinfo", Value: 1},
			{Metric: metrics.AttachmentBytes, Value: 100},
			{Metric: metrics.UnknownStatus, Value: 0},
		}, metrics.Property{Name: "job_id", Value: "r6sr3jlzjj"})
	}
	reg.Record(context.Background(), []metrics.Sample{{Metric: metrics.Callbacks, Dimension: "unauthorized", Value: 1}})
	families := promtest.Scrape(t, srv.URL)

	counters := []struct {
		name, label, value string
		want               float64
	}{
		{"speechmatics_callbacks_total", "outcome", "stored", 3},
		{"speechmatics_callbacks_total", "outcome", "unauthorized", 1},
		{"speechmatics_callbacks_total", "outcome", "too_large", 0}, // there before any
		{"speechmatics_attachments_total", "content", "jobinfo", 3},
		{"speechmatics_attachment_bytes_total", "", "", 300},
		{"speechmatics_unknown_status_total", "", "", 0},
	}
	for _, c := range counters {
		t.Run(c.name+"/"+c.value, func(t *testing.T) {
			got, ok := promtest.Counter(families[c.name], c.label, c.value)
			if !ok || got != c.want {
				t.Errorf("got %v (found %v), want %v", got, ok, c.want)
			}
		})
	}
	h := families["speechmatics_handler_duration_seconds"]
	if h == nil || h.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("got %v, want a histogram speechmatics_handler_duration_seconds", h)
	}
	if hist := h.GetMetric()[0].GetHistogram(); hist.GetSampleCount() != 3 || hist.GetSampleSum() != 0.75 {
		t.Errorf("got %d samples summing to %v s, want 3 summing to 0.75 s", hist.GetSampleCount(), hist.GetSampleSum())
	}
	for name := range families {
		for _, m := range families[name].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "job_id" {
					t.Errorf("%s has a job_id label: a label per job grows without bound", name)
				}
			}
		}
	}
	if families["go_goroutines"] == nil {
		t.Error("no go_goroutines: the runtime's metrics are missing")
	}
}
