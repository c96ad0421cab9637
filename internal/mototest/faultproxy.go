package mototest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Fault is what a FaultProxy does to a request: answer Status itself (when
// not 0), after Delay; or, when the client gives up during the Delay, drop the
// request without passing it on.
type Fault struct {
	Status int
	Delay  time.Duration
}

// FaultProxy sits between the code under test and moto and fails requests
// on command.
type FaultProxy struct {
	// URL is the proxy's endpoint.
	URL    string
	server *Server

	mu       sync.Mutex
	rule     func(r *http.Request) *Fault
	sends    [][]byte
	injected atomic.Int64
}

// NewFaultProxy starts a proxy to s that stops when the test ends.
func (s *Server) NewFaultProxy(t testing.TB) *FaultProxy {
	target, _ := url.Parse(s.Endpoint)
	p := &FaultProxy{server: s}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsSQSSend(r) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			p.mu.Lock()
			p.sends = append(p.sends, body)
			p.mu.Unlock()
		}
		p.mu.Lock()
		rule := p.rule
		p.mu.Unlock()
		var f *Fault
		if rule != nil {
			f = rule(r)
		}
		if f == nil {
			rp.ServeHTTP(w, r)
			return
		}
		p.injected.Add(1)
		// Read the body first: only then does the server notice a client
		// that hangs up, and cancel the request's context.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return // the client gave up: the request never reaches moto
		}
		if f.Status != 0 {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(f.Status)
			w.Write([]byte(`<Error><Code>InjectedFault</Code><Message>injected by the test</Message></Error>`))
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Fail sets the rule that picks the requests to fail; nil passes all.
func (p *FaultProxy) Fail(rule func(r *http.Request) *Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rule = rule
}

// SentMessage is an SQS SendMessage request as the proxy saw it.
type SentMessage struct {
	MessageBody            string
	MessageGroupId         string
	MessageDeduplicationId string
}

// Sends returns every SQS SendMessage request that went through the proxy,
// failed or not, in order.
func (p *FaultProxy) Sends(t testing.TB) []SentMessage {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	var sent []SentMessage
	for _, b := range p.sends {
		var m SentMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("SendMessage body %s: %v", b, err)
		}
		sent = append(sent, m)
	}
	return sent
}

// Injected counts the faults injected so far.
func (p *FaultProxy) Injected() int64 { return p.injected.Load() }

// Env is the environment that points the AWS SDK at the proxy.
func (p *FaultProxy) Env() []string {
	env := p.server.Env()
	for i, kv := range env {
		if strings.HasPrefix(kv, "AWS_ENDPOINT_URL_") {
			k, _, _ := strings.Cut(kv, "=")
			env[i] = k + "=" + p.URL
		}
	}
	return env
}

// IsS3Put reports whether r uploads an object whose key contains part.
func IsS3Put(r *http.Request, part string) bool {
	return r.Method == http.MethodPut && strings.Contains(r.URL.Path, part)
}

// IsSQSSend reports whether r sends an SQS message.
func IsSQSSend(r *http.Request) bool {
	return strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".SendMessage")
}
