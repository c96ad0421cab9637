// Package apigateway is the Lambda front door: it turns API Gateway REST API
// proxy events (payload 1.0), HTTP API events (payload 2.0) and Lambda
// Function URL events into callback requests, and the answers back into the
// matching response events. One function serves behind any of them: the
// payload version is read from the event itself.
package apigateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"smcallbacks/internal/callback"
)

// Handler is a lambda.Handler for callback events. It takes the raw event
// bytes, so that it can tell the payload versions apart in one decode.
type Handler struct {
	Service *callback.Service
	// spare is a buffer that an earlier event's body was decoded into and
	// that nothing reads any more, for the next body: the runtime hands a
	// function one event at a time, each about the size of the last, so that
	// most events decode without allocating (or zeroing) their body's size.
	spare atomic.Pointer[[]byte]
}

// maxSpare bounds the buffer kept between events: a body that API Gateway
// hands a function is under 6 MB.
const maxSpare = 16 << 20

var _ lambda.Handler = (*Handler)(nil)

// event holds the fields of payload 1.0 and 2.0 events that a callback needs;
// Function URL events have the 2.0 shape.
type event struct {
	Version string `json:"version"`
	// 1.0 only
	HTTPMethod                      string              `json:"httpMethod"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	// 2.0 only
	RawQueryString string `json:"rawQueryString"`
	// Cookies holds the Cookie header's cookies, which 2.0 events leave
	// out of headers.
	Cookies []string `json:"cookies"`
	// both
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	// body, when set by the fast path, stands for Body: the body's bytes
	// as they lie in the payload or as decoded from it in one pass.
	body           io.Reader
	RequestContext struct {
		RequestID string `json:"requestId"`
		Identity  struct {
			SourceIP string `json:"sourceIp"`
		} `json:"identity"` // 1.0
		HTTP struct {
			Method   string `json:"method"`
			SourceIP string `json:"sourceIp"`
		} `json:"http"` // 2.0
	} `json:"requestContext"`
}

// deadlineMargin is kept from the invocation's time to answer in.
const deadlineMargin = time.Second

// ErrUnsupportedEvent is returned for an event that is not an HTTP request of
// a known payload version; Lambda reports it as a function error.
var ErrUnsupportedEvent = errors.New("unsupported event: want an API Gateway or Function URL HTTP event")

// Invoke handles one event and returns the response event.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var scratch []byte
	if p := h.spare.Swap(nil); p != nil {
		scratch = *p
	}
	req, v2, buf, err := decode(payload, scratch)
	if err != nil {
		return nil, err
	}
	// Answer 503 before Lambda ends the invocation, so that the sender
	// hears "retry" rather than a gateway error.
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-deadlineMargin))
		defer cancel()
	}
	resp := h.Service.Handle(ctx, req)
	h.keep(buf, resp.StatusCode)
	if v2 {
		return json.Marshal(events.APIGatewayV2HTTPResponse{
			StatusCode: resp.StatusCode,
			Headers:    singleValued(resp.Header),
			Body:       string(resp.Body),
		})
	}
	return json.Marshal(events.APIGatewayProxyResponse{
		StatusCode: resp.StatusCode,
		Headers:    singleValued(resp.Header),
		Body:       string(resp.Body),
	})
}

// keep keeps the buffer of a handled event for the next, when the event
// was stored: every store then read its bytes to the end and answered. After
// a failure a store's request may still be reading them, and the buffer is
// left to the garbage collector.
func (h *Handler) keep(buf []byte, status int) {
	if buf != nil && status/100 == 2 && cap(buf) <= maxSpare {
		buf = buf[:0]
		h.spare.Store(&buf)
	}
}

// decode turns an event into a callback request, and tells whether it has
// the 2.0 shape: by the fast path when it can, decoding into scratch, else
// the naive one. buf is the buffer the body was decoded into, if any.
func decode(payload, scratch []byte) (req *callback.Request, v2 bool, buf []byte, err error) {
	if req, v2, buf, ok := decodeFast(payload, scratch); ok {
		return req, v2, buf, nil
	}
	req, v2, err = decodeNaive(payload)
	return req, v2, nil, err
}

// decodeNaive decodes the whole event with encoding/json.
func decodeNaive(payload []byte) (req *callback.Request, v2 bool, err error) {
	var ev event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrUnsupportedEvent, err)
	}
	v2 = ev.Version == "2.0"
	req, err = ev.request(v2)
	return req, v2, err
}

func (ev *event) request(v2 bool) (*callback.Request, error) {
	req := &callback.Request{Header: http.Header{}, RequestID: ev.RequestContext.RequestID}
	if v2 {
		req.Method = ev.RequestContext.HTTP.Method
		req.SourceIP = ev.RequestContext.HTTP.SourceIP
		// The raw query keeps repeated parameters apart; the parsed map
		// joins them with commas.
		req.RawQuery = ev.RawQueryString
	} else {
		req.Method = ev.HTTPMethod
		req.SourceIP = ev.RequestContext.Identity.SourceIP
		query := url.Values(ev.MultiValueQueryStringParameters)
		if len(query) == 0 {
			query = url.Values{}
			for k, v := range ev.QueryStringParameters {
				query.Set(k, v)
			}
		}
		req.RawQuery = query.Encode()
	}
	if req.Method == "" {
		return nil, ErrUnsupportedEvent
	}
	// 1.0 events give repeated headers apart in multiValueHeaders; 2.0 events
	// join them with commas into one value.
	if len(ev.MultiValueHeaders) > 0 {
		for k, vs := range ev.MultiValueHeaders {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
	} else {
		for k, v := range ev.Headers {
			req.Header.Add(k, v)
		}
	}
	// API Gateway documents the cookies as the Cookie header's, split at
	// "; ": joined again, an auth line for a cookie matches as in server
	// mode.
	if v2 && len(ev.Cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	switch {
	case ev.body != nil:
		req.Body = ev.body
	case ev.IsBase64Encoded:
		req.Body = base64.NewDecoder(base64.StdEncoding, strings.NewReader(ev.Body))
	default:
		req.Body = strings.NewReader(ev.Body)
	}
	return req, nil
}

// singleValued gives each header its first value, for the headers field of a
// response event.
func singleValued(h http.Header) map[string]string {
	m := make(map[string]string, len(h))
	for k, v := range h {
		if len(v) > 0 {
			m[k] = v[0]
		}
	}
	return m
}
