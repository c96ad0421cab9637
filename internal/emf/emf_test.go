package emf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"smcallbacks/internal/emf"
	"smcallbacks/internal/emf/emftest"
	"smcallbacks/internal/metrics"
)

func TestRecord(t *testing.T) {
	callback := []metrics.Sample{
		{Metric: metrics.Callbacks, Dimension: "stored", Value: 1},
		{Metric: metrics.HandlerDuration, Value: 12.5},
		{Metric: metrics.UnknownStatus, Value: 0},
		{Metric: metrics.Attachments, Dimension: "transcript.json-v2", Value: 1},
		{Metric: metrics.Attachments, Dimension: "jobinfo", Value: 1},
		{Metric: metrics.Attachments, Dimension: "data", Value: 2},
		{Metric: metrics.AttachmentBytes, Value: 4096},
	}
	batch := []metrics.Sample{
		{Metric: metrics.JobsCompleted, Value: 2},
		{Metric: metrics.JobCompletionTime, Value: 3},
		{Metric: metrics.JobCompletionTime, Value: 40},
	}
	tests := []struct {
		name    string
		samples []metrics.Sample
		// want is each record's metrics with their values, directive by
		// directive, then its Outcome and Content.
		want []string
	}{
		{"callback with three contents", callback, []string{
			"Callbacks=1 HandlerDuration=12.5 UnknownStatus=0 AttachmentBytes=4096 Attachments=1 Outcome=stored Content=transcript.json-v2",
			"Attachments=1 Content=jobinfo",
			"Attachments=2 Content=data",
		}},
		{"refused callback", callback[:3], []string{"Callbacks=1 HandlerDuration=12.5 UnknownStatus=0 Outcome=stored"}},
		{"batch with two endings", batch, []string{"JobsCompleted=2 JobCompletionTime=[3 40]"}},
		{"nothing", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			w := emf.New(&out, "Test/NS", "fn-1")
			w.Now = func() time.Time { return time.UnixMilli(1700000000123) }
			w.Record(context.Background(), tt.samples, metrics.Property{Name: "job_id", Value: "r6sr3jlzjj"})
			records := emftest.Records(t, out.Bytes())
			var got []string
			for _, r := range records {
				got = append(got, describe(r))
				if r["job_id"] != "r6sr3jlzjj" || r["FunctionName"] != "fn-1" {
					t.Errorf("got job_id %v and FunctionName %v, want r6sr3jlzjj and fn-1", r["job_id"], r["FunctionName"])
				}
				if ts := r["_aws"].(map[string]any)["Timestamp"]; ts != float64(1700000000123) {
					t.Errorf("got Timestamp %v, want 1700000000123", ts)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got records\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if n := bytes.Count(out.Bytes(), []byte("\n")); n != len(tt.want) {
				t.Errorf("got %d lines, want %d", n, len(tt.want))
			}
		})
	}
}

// describe lists a record's metrics in the order of its directives, then
// its Outcome and Content.
func describe(r emftest.Record) string {
	var meta struct {
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name string }
		}
	}
	b, _ := json.Marshal(r["_aws"])
	json.Unmarshal(b, &meta)
	var parts []string
	for _, d := range meta.CloudWatchMetrics {
		for _, m := range d.Metrics {
			parts = append(parts, fmt.Sprintf("%s=%v", m.Name, r[m.Name]))
		}
	}
	for _, dim := range []string{"Outcome", "Content"} {
		if v, ok := r[dim]; ok {
			parts = append(parts, fmt.Sprintf("%s=%v", dim, v))
		}
	}
	return strings.Join(parts, " ")
}

// TestDimensions checks that each metric is under its own dimensions.
func TestDimensions(t *testing.T) {
	var out bytes.Buffer
	emf.New(&out, "NS", "fn").Record(context.Background(), []metrics.Sample{
		{Metric: metrics.Callbacks, Dimension: "unauthorized", Value: 1},
		{Metric: metrics.Attachments, Dimension: "jobinfo", Value: 1},
		{Metric: metrics.HandlerDuration, Value: 1},
	})
	r := emftest.Records(t, out.Bytes())[0]
	for name, want := range map[string]string{
		"Callbacks": "[[FunctionName Outcome]]", "Attachments": "[[FunctionName Content]]", "HandlerDuration": "[[FunctionName]]",
	} {
		if got := fmt.Sprint(r.Dimensions(name)); got != want {
			t.Errorf("%s: got dimensions %s, want %s", name, got, want)
		}
	}
}

// TestValidateRefuses shows that the check can fail: each record breaks
// one rule of the specification.
func TestValidateRefuses(t *testing.T) {
	tests := []struct{ name, record string }{
		{"no _aws", `{"Callbacks":1}`},
		{"no timestamp", `{"_aws":{"CloudWatchMetrics":[]}}`},
		{"unknown unit", `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"]],"Metrics":[{"Name":"M","Unit":"Things"}]}]},"F":"f","M":1}`},
		{"missing dimension", `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"]],"Metrics":[{"Name":"M","Unit":"Count"}]}]},"M":1}`},
		{"metric not a number", `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"]],"Metrics":[{"Name":"M","Unit":"Count"}]}]},"F":"f","M":"1"}`},
		{"extra member in directive", `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[],"Metrics":[],"X":1}]}}`},
		{"empty namespace", `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"","Dimensions":[],"Metrics":[]}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := emftest.Validate([]byte(tt.record)); err == nil {
				t.Errorf("got nil, want an error for %s", tt.record)
			}
		})
	}
}
