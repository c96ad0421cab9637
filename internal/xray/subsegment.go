package xray

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// subsegment is an independent subsegment document for one AWS call, as the
// X-Ray segment document format defines it. It holds what identifies the
// call (service, operation, region, bucket or queue, status, request ID) and
// never a header value, object key or body byte.
type subsegment struct {
	Type      string    `json:"type"` // "subsegment": sent on its own
	TraceID   string    `json:"trace_id"`
	ParentID  string    `json:"parent_id"`
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	StartTime float64   `json:"start_time"`
	EndTime   float64   `json:"end_time"`
	Namespace string    `json:"namespace"`
	Error     bool      `json:"error,omitempty"`
	Fault     bool      `json:"fault,omitempty"`
	Throttle  bool      `json:"throttle,omitempty"`
	AWS       awsData   `json:"aws"`
	HTTP      *httpData `json:"http,omitempty"`

	down string // the trace header the call sends on
}

// awsData is a subsegment's aws object.
type awsData struct {
	Operation  string `json:"operation"`
	Region     string `json:"region,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
	BucketName string `json:"bucket_name,omitempty"`
	QueueURL   string `json:"queue_url,omitempty"`
}

// httpData is a subsegment's http object: the response status alone.
type httpData struct {
	Response struct {
		Status int `json:"status"`
	} `json:"response"`
}

// newSubsegment starts the subsegment of a call, under the invocation's
// header h, from the operation's metadata in the middleware context.
func newSubsegment(h Header, service, operation, region string) *subsegment {
	id := newID()
	return &subsegment{
		Type:      "subsegment",
		TraceID:   h.Root,
		ParentID:  h.Parent,
		ID:        id,
		Name:      service,
		StartTime: epochSeconds(time.Now()),
		Namespace: "aws",
		AWS:       awsData{Operation: operation, Region: region},
		down:      Header{Root: h.Root, Parent: id, Sampled: true}.String(),
	}
}

// newID returns a random 64-bit ID as 16 hexadecimal digits, never all
// zeros.
func newID() string {
	n := rand.Uint64()
	if n == 0 {
		n = 1
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return hex.EncodeToString(b[:])
}

// epochSeconds is t in seconds since the Unix epoch, to the microsecond.
func epochSeconds(t time.Time) float64 {
	return float64(t.UnixMicro()) / 1e6
}

// downstream is the trace header that the call sends on: the subsegment is
// its parent.
func (s *subsegment) downstream() string {
	return s.down
}

// end records the call's end, outcome, HTTP status and request ID.
func (s *subsegment) end(md middleware.Metadata, err error) {
	s.EndTime = epochSeconds(time.Now())
	status := responseStatus(md, err)
	if status != 0 {
		s.HTTP = &httpData{}
		s.HTTP.Response.Status = status
	}
	s.AWS.RequestID = requestID(md, err)
	switch {
	case status == 429:
		s.Error, s.Throttle = true, true
	case status >= 500:
		s.Fault = true
	case status >= 400:
		s.Error = true
	case err != nil: // no response, or one the client could not use
		s.Fault = true
	}
}

// responseStatus is the HTTP status of the call's last response, or 0 when
// there was none.
func responseStatus(md middleware.Metadata, err error) int {
	if resp, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && resp != nil {
		return resp.StatusCode
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// requestID is the request ID the service gave the call, if any.
func requestID(md middleware.Metadata, err error) string {
	if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok {
		return id
	}
	var re interface{ ServiceRequestID() string }
	if errors.As(err, &re) {
		return re.ServiceRequestID()
	}
	return ""
}
