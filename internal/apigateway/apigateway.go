// Package apigateway is the Lambda front door: it turns API Gateway REST API
// proxy events (payload 1.0), HTTP API events (payload 2.0) and Lambda
// Function URL events into callback requests, and the answers back into the
// matching response events. One function serves behind any of them: the
// payload version is read from the event itself.
package apigateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"smcallbacks/internal/callback"
)

// Handler is a lambda.Handler for callback events. It takes the raw event
// bytes, so that it can tell the payload versions apart in one decode.
type Handler struct {
	Service *callback.Service
}

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
	// rawBody, when set by the fast path, stands for Body: the string's
	// bytes as they are in the payload, which need no unescaping.
	rawBody        []byte
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
	req, v2, err := decode(payload)
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

// decode turns an event into a callback request, and tells whether it has
// the 2.0 shape: by the fast path when it can, else the naive one.
func decode(payload []byte) (req *callback.Request, v2 bool, err error) {
	if req, v2, ok := decodeFast(payload); ok {
		return req, v2, nil
	}
	return decodeNaive(payload)
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
	var body io.Reader = strings.NewReader(ev.Body)
	switch {
	case ev.rawBody != nil && ev.IsBase64Encoded:
		body = &base64Reader{src: ev.rawBody}
	case ev.rawBody != nil:
		body = bytes.NewReader(ev.rawBody)
	case ev.IsBase64Encoded:
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	req.Body = body
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
