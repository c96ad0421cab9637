package xray

import (
	"context"
	"fmt"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TraceHeaderName is the HTTP header that carries a trace to the service
// called.
const TraceHeaderName = "X-Amzn-Trace-Id"

// Middleware IDs, one per step of the SDK's middleware stack.
const (
	subsegmentID  = "XRaySubsegment"
	traceHeaderID = "XRayTraceHeader"
)

// Instrument makes every client built from cfg afterwards trace its calls
// through e: a call made with a context whose trace header (see
// HeaderFromContext) is sampled and names a parent becomes one subsegment of
// that parent, named after the service ("S3", "SQS", "Secrets Manager"),
// covering the call with its retries; the request carries the trace on with
// the subsegment as parent, in X-Amzn-Trace-Id; and each message of an SQS
// SendMessage or SendMessageBatch gets the same header in its AWSTraceHeader
// system attribute, unless the caller set one. Any other call is left as it
// is.
//
// Why both: the HTTP header is what puts the service's own node under the
// subsegment in the trace map, and SQS applies it to every message of the
// request; the AWSTraceHeader attribute is stored with each message, so it
// reaches the consumer whatever becomes of the HTTP header (Lambda links an
// SQS-triggered invocation from it; any other consumer reads it with
// ReceiveMessage), and it lets a caller's own header for one message of a
// batch stand. Where both are set the attribute wins; here they name the
// same subsegment.
//
// With a nil e (no daemon: tracing is off) Instrument does nothing at all.
// Calling it twice on one cfg installs the middleware once.
func Instrument(cfg *aws.Config, e *Emitter) {
	if e == nil {
		return
	}
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return addMiddleware(stack, e)
	})
}

// addMiddleware adds the two steps of the tracing to one call's stack.
func addMiddleware(stack *middleware.Stack, e *Emitter) error {
	if _, ok := stack.Initialize.Get(subsegmentID); ok {
		return nil
	}
	if err := stack.Initialize.Add(&subsegmentMiddleware{emitter: e}, middleware.After); err != nil {
		return fmt.Errorf("xray: add %s: %w", subsegmentID, err)
	}
	if err := stack.Build.Add(traceHeaderMiddleware{}, middleware.After); err != nil {
		return fmt.Errorf("xray: add %s: %w", traceHeaderID, err)
	}
	return nil
}

// subsegmentKey is the context key of the call's *subsegment, for the build
// step.
type subsegmentKey struct{}

// subsegmentMiddleware times the whole call, retries included, and emits its
// subsegment.
type subsegmentMiddleware struct {
	emitter *Emitter
}

// ID names the middleware in the stack.
func (*subsegmentMiddleware) ID() string { return subsegmentID }

// HandleInitialize traces the call when its context holds a sampled trace.
func (m *subsegmentMiddleware) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error,
) {
	h, ok := HeaderFromContext(ctx)
	if !ok || !h.Sampled || h.Parent == "" {
		return next.HandleInitialize(ctx, in)
	}
	service, operation := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
	s := newSubsegment(h, service, operation, awsmiddleware.GetRegion(ctx))
	s.AWS.BucketName, s.AWS.QueueURL = resource(service, in.Parameters)
	in.Parameters = withTraceAttribute(in.Parameters, s.downstream())
	out, md, err := next.HandleInitialize(context.WithValue(ctx, subsegmentKey{}, s), in)
	s.end(md, err)
	m.emitter.emit(s)
	return out, md, err
}

// traceHeaderMiddleware sets X-Amzn-Trace-Id on the call's request, which
// every attempt sends (retries come after the build step). It runs after the
// SDK's own recursion detection, which under Lambda sets the
// invocation's header: the subsegment is the better parent.
type traceHeaderMiddleware struct{}

// ID names the middleware in the stack.
func (traceHeaderMiddleware) ID() string { return traceHeaderID }

// HandleBuild sets the header when the call is traced.
func (traceHeaderMiddleware) HandleBuild(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (
	middleware.BuildOutput, middleware.Metadata, error,
) {
	if s, ok := ctx.Value(subsegmentKey{}).(*subsegment); ok {
		if req, ok := in.Request.(*smithyhttp.Request); ok {
			req.Header.Set(TraceHeaderName, s.downstream())
		}
	}
	return next.HandleBuild(ctx, in)
}

// resource returns the S3 bucket or the SQS queue URL that a call's input
// names, if any. It reads the input's Bucket or QueueUrl field by reflection:
// every S3 operation has an input type of its own.
func resource(service string, params any) (bucket, queueURL string) {
	switch service {
	case "S3":
		return stringField(params, "Bucket"), ""
	case "SQS":
		return "", stringField(params, "QueueUrl")
	}
	return "", ""
}

// stringField returns the *string field name of the struct that params
// points to, or "".
func stringField(params any, name string) string {
	v := reflect.ValueOf(params)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return ""
	}
	f := v.Elem().FieldByName(name)
	if !f.IsValid() || !f.CanInterface() {
		return ""
	}
	if p, ok := f.Interface().(*string); ok && p != nil {
		return *p
	}
	return ""
}
