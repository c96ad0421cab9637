package xray

import (
	"bytes"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/aws/smithy-go/middleware"
)

// fakeDaemon stands in for the X-Ray daemon: a UDP listener on 127.0.0.1
// that keeps each document it receives.
type fakeDaemon struct {
	addr string
	docs chan []byte
}

// doc is a subsegment document as received, decoded.
type doc struct {
	Type      string  `json:"type"`
	TraceID   string  `json:"trace_id"`
	ParentID  string  `json:"parent_id"`
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	StartTime float64 `json:"start_time"`
	EndTime   float64 `json:"end_time"`
	Namespace string  `json:"namespace"`
	Error     bool    `json:"error"`
	Fault     bool    `json:"fault"`
	Throttle  bool    `json:"throttle"`
	AWS       struct {
		Operation  string `json:"operation"`
		Region     string `json:"region"`
		RequestID  string `json:"request_id"`
		BucketName string `json:"bucket_name"`
		QueueURL   string `json:"queue_url"`
	} `json:"aws"`
	HTTP struct {
		Response struct {
			Status int `json:"status"`
		} `json:"response"`
	} `json:"http"`
	raw string
}

func startDaemon(t *testing.T) *fakeDaemon {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	d := &fakeDaemon{addr: conn.LocalAddr().String(), docs: make(chan []byte, 1000)}
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			d.docs <- bytes.Clone(buf[:n])
		}
	}()
	return d
}

// receive returns the next n documents, failing the test when one is
// missing or not a daemon datagram.
func (d *fakeDaemon) receive(t *testing.T, n int) []doc {
	t.Helper()
	var docs []doc
	for range n {
		select {
		case b := <-d.docs:
			body, ok := bytes.CutPrefix(b, []byte(`{"format": "json", "version": 1}`+"\n"))
			if !ok {
				t.Fatalf("datagram %q: want the daemon header line first", b)
			}
			var got doc
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("document %s: %v", body, err)
			}
			got.raw = string(body)
			docs = append(docs, got)
		case <-time.After(5 * time.Second):
			t.Fatalf("got %d documents, want %d", len(docs), n)
		}
	}
	return docs
}

// none fails the test if a document arrives within a short while.
func (d *fakeDaemon) none(t *testing.T) {
	t.Helper()
	select {
	case b := <-d.docs:
		t.Errorf("got document %s, want none", b)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestUDPAddress(t *testing.T) {
	tests := []struct{ in, want string }{
		{"169.254.79.129:2000", "169.254.79.129:2000"},
		{"tcp:127.0.0.1:2000 udp:127.0.0.2:2001", "127.0.0.2:2001"},
		{"udp:127.0.0.2:2001 tcp:127.0.0.1:2000", "127.0.0.2:2001"},
		{"tcp:127.0.0.1:2000", ""},
		{"", ""},
		{"  ", ""},
	}
	for _, tt := range tests {
		if got := udpAddress(tt.in); got != tt.want {
			t.Errorf("udpAddress(%q): got %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNewEmitter(t *testing.T) {
	if e := NewEmitter(""); e != nil {
		t.Errorf("without an address: got %+v, want nil", e)
	}
	e := NewEmitter("127.0.0.1:2000")
	if e == nil || e.addr != "127.0.0.1:2000" {
		t.Errorf("got %+v, want an emitter to 127.0.0.1:2000", e)
	}
}

func TestEmitSends(t *testing.T) {
	d := startDaemon(t)
	e := NewEmitter(d.addr)
	defer e.Close()
	s := newSubsegment(Header{testRoot, testParent, true}, "S3", "GetObject", "eu-west-1")
	s.end(middleware.Metadata{}, nil)
	e.emit(s)
	got := d.receive(t, 1)[0]
	if got.Type != "subsegment" || got.TraceID != testRoot || got.ParentID != testParent || got.ID != s.ID || got.Namespace != "aws" {
		t.Errorf("got %s, want the subsegment %+v", got.raw, s)
	}
	if got.EndTime < got.StartTime || got.StartTime < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("start, end: got %v, %v, want epoch seconds of now, in order", got.StartTime, got.EndTime)
	}
}

// TestEmitNeverFails sends where no daemon listens, to an address that does
// not parse, after Close and from a nil Emitter: nothing may panic or block.
func TestEmitNeverFails(t *testing.T) {
	s := newSubsegment(Header{testRoot, testParent, true}, "S3", "GetObject", "eu-west-1")
	ln, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.LocalAddr().String()
	ln.Close()
	for _, addr := range []string{closed, "not-an-address"} {
		e := NewEmitter(addr)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range 100 {
				e.emit(s)
			}
			e.Close()
			e.emit(s)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("emitting to %q blocked", addr)
		}
	}
	var e *Emitter
	e.emit(s)
	if err := e.Close(); err != nil {
		t.Errorf("nil Close: got %v, want nil", err)
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newID()
		if !isHex(id, 16) || id == "0000000000000000" {
			t.Fatalf("got %q, want 16 hex digits, not all zero", id)
		}
		if seen[id] {
			t.Fatalf("got %q twice", id)
		}
		seen[id] = true
	}
}
