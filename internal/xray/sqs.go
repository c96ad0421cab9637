package xray

import (
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// TraceAttributeName is the SQS message system attribute that carries a
// message's trace.
const TraceAttributeName = "AWSTraceHeader"

// withTraceAttribute returns the input of an SQS SendMessage or
// SendMessageBatch with the trace header value in each message's
// AWSTraceHeader attribute where the caller set none, or params itself for
// any other input. The caller's input is copied, never changed: the same
// input sent again, or under another trace, gets its own header.
func withTraceAttribute(params any, value string) any {
	switch in := params.(type) {
	case *sqs.SendMessageInput:
		c := *in
		c.MessageSystemAttributes = withAttribute(in.MessageSystemAttributes, value)
		return &c
	case *sqs.SendMessageBatchInput:
		c := *in
		c.Entries = slices.Clone(in.Entries)
		for i := range c.Entries {
			c.Entries[i].MessageSystemAttributes = withAttribute(c.Entries[i].MessageSystemAttributes, value)
		}
		return &c
	}
	return params
}

// withAttribute returns attrs with the AWSTraceHeader attribute, in a copy,
// unless attrs has one of the caller's.
func withAttribute(attrs map[string]types.MessageSystemAttributeValue, value string) map[string]types.MessageSystemAttributeValue {
	if _, ok := attrs[TraceAttributeName]; ok {
		return attrs
	}
	out := make(map[string]types.MessageSystemAttributeValue, len(attrs)+1)
	maps.Copy(out, attrs)
	out[TraceAttributeName] = types.MessageSystemAttributeValue{DataType: aws.String("String"), StringValue: aws.String(value)}
	return out
}
