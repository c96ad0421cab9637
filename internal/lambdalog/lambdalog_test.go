package lambdalog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"smcallbacks/internal/lambdalog"
)

func invocation(id, traceHeader string) context.Context {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: id})
	if traceHeader != "" {
		ctx = context.WithValue(ctx, "x-amzn-trace-id", traceHeader) // the key aws-lambda-go uses
	}
	return ctx
}

func TestHandler(t *testing.T) {
	var out bytes.Buffer
	logger := slog.New(lambdalog.New(slog.NewJSONHandler(&out, nil), "7")).With("component", "test")
	logger.Info("at init") // outside any invocation
	steps := []struct {
		ctx  context.Context
		want map[string]any
	}{
		{invocation("req-1", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"), map[string]any{
			"aws_request_id": "req-1", "cold_start": true, "xray_trace_id": "1-5759e988-bd862e3fe1be46a994272793"}},
		{invocation("req-1", ""), map[string]any{"aws_request_id": "req-1", "cold_start": true}},
		{invocation("req-2", "Root=1-5759e988-bd862e3fe1be46a994272794;Parent=53995c3f42cd8ad8;Sampled=0"), map[string]any{
			"aws_request_id": "req-2", "cold_start": false}},
		{invocation("req-3", ""), map[string]any{"aws_request_id": "req-3", "cold_start": false}},
	}
	for _, s := range steps {
		logger.InfoContext(s.ctx, "callback")
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1+len(steps) {
		t.Fatalf("got %d lines, want %d", len(lines), 1+len(steps))
	}
	var first map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	if _, ok := first["aws_request_id"]; ok || first["function_version"] != "7" || first["component"] != "test" {
		t.Errorf("init line: got %v, want function_version 7 and no request ID", first)
	}
	for i, s := range steps {
		var got map[string]any
		if err := json.Unmarshal([]byte(lines[i+1]), &got); err != nil {
			t.Fatal(err)
		}
		for k, v := range s.want {
			if got[k] != v {
				t.Errorf("line %d: %s: got %v, want %v", i+1, k, got[k], v)
			}
		}
		if _, traced := s.want["xray_trace_id"]; !traced && got["xray_trace_id"] != nil {
			t.Errorf("line %d: got xray_trace_id %v for an invocation that is not traced", i+1, got["xray_trace_id"])
		}
		if got["function_version"] != "7" || got["component"] != "test" {
			t.Errorf("line %d: got %v, want function_version 7 and component test", i+1, got)
		}
	}
}
