package xray

import (
	"encoding/json"
	"net"
	"strings"
	"sync"
)

// daemonHeader starts every document sent to the daemon.
const daemonHeader = `{"format": "json", "version": 1}` + "\n"

// Emitter sends subsegment documents to the X-Ray daemon over UDP, best
// effort: its one socket is opened at the first send, and a document that
// cannot be sent at once (no daemon, a full socket buffer, any error) is
// dropped, so that tracing never delays or fails the call it records. It is
// safe for concurrent use. A nil *Emitter sends nothing.
type Emitter struct {
	addr string

	once sync.Once
	conn *net.UDPConn // nil until the first send, and when the dial failed
}

// NewEmitter returns an Emitter to the daemon at addr, host:port or in the
// daemon's own form "tcp:host:port udp:host:port" (only UDP is used), or nil
// when addr is empty. It opens nothing yet.
func NewEmitter(addr string) *Emitter {
	addr = udpAddress(addr)
	if addr == "" {
		return nil
	}
	return &Emitter{addr: addr}
}

// udpAddress picks the UDP address out of a daemon address.
func udpAddress(addr string) string {
	for _, f := range strings.Fields(addr) {
		if a, ok := strings.CutPrefix(f, "udp:"); ok {
			return a
		}
		if !strings.HasPrefix(f, "tcp:") {
			return f
		}
	}
	return ""
}

// Close closes the socket, if open; later sends are dropped.
func (e *Emitter) Close() error {
	if e == nil {
		return nil
	}
	e.once.Do(func() {}) // no dial after this
	if e.conn == nil {
		return nil
	}
	return e.conn.Close()
}

// emit sends the document of s, or drops it.
func (e *Emitter) emit(s *subsegment) {
	if e == nil {
		return
	}
	doc, err := json.Marshal(s)
	if err != nil {
		return // cannot happen: s holds strings, numbers and booleans
	}
	e.send(append([]byte(daemonHeader), doc...))
}

// send writes one datagram to the daemon, without waiting.
func (e *Emitter) send(b []byte) {
	e.once.Do(e.dial)
	if e.conn != nil {
		writeNow(e.conn, b)
	}
}

// dial opens the socket; on failure tracing stays off for the process.
func (e *Emitter) dial() {
	raddr, err := net.ResolveUDPAddr("udp", e.addr)
	if err != nil {
		return
	}
	e.conn, _ = net.DialUDP("udp", nil, raddr)
}
