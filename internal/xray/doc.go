// Package xray traces the AWS calls of a Lambda function in AWS X-Ray: each
// S3, SQS or Secrets Manager call made under a sampled invocation becomes a
// subsegment of that invocation, sent to the X-Ray daemon that Lambda runs
// beside the function, and the call carries the trace on: in its
// X-Amzn-Trace-Id HTTP header and, for SQS sends, in each message's
// AWSTraceHeader attribute.
//
// Install it with Instrument on the aws.Config the clients are built from.
// Nothing else changes: the invocation's trace comes from the context that
// aws-lambda-go hands the handler, so every call made with that context (or
// one derived from it) is traced, and calls made without one (at init, in
// server mode) cost a context lookup and nothing more. Without a daemon
// address (tracing off) Instrument installs nothing.
//
// An SQS consumer needs nothing from this package to join the trace: for an
// SQS-triggered invocation Lambda reads the messages' AWSTraceHeader itself
// and links the consumer's trace to the senders'.
//
// It is written here rather than taken from aws-xray-sdk-go because of the
// cold start, to which tracing may add under 3 ms of init.
// BenchmarkTracingColdStart (functions/callback) measures both on a
// hello-world that reads a secret at init: aws-xray-sdk-go v1.8.5 added
// 3.7–5.1 ms of init and 12.6 MB of binary (it links aws-sdk-go v1, whose
// endpoint table alone takes 2 ms to initialise, and gRPC), where this
// package adds about 0.1 ms. It does what the functions need of the SDK
// and no more: no segments of its own (Lambda writes the function's), no
// sampling (Lambda decides), no annotations, metadata or exceptions, UDP
// only.
package xray
