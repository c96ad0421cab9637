package httpserver

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
)

// stoppableListener gives out connections whose reading a handler can stop
// for good, so that net/http, once the answer is out, closes the
// connection instead of draining a body the handler did not read.
type stoppableListener struct{ net.Listener }

func (l stoppableListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &stoppableConn{Conn: c}, nil
}

// stoppableConn is a connection whose reads fail once stopped.
type stoppableConn struct {
	net.Conn
	stopped atomic.Bool
}

// errStopped ends the reading of a connection whose request was answered
// before its body's end.
var errStopped = errors.New("connection answered early: not read further")

func (c *stoppableConn) Read(p []byte) (int, error) {
	if c.stopped.Load() {
		return 0, errStopped
	}
	return c.Conn.Read(p)
}

// CloseWrite half-closes a TCP connection, as net/http does before it
// closes one, so that the client reads the answer before the reset.
func (c *stoppableConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

type connKey struct{}

// withConn is the server's ConnContext: it makes the connection reachable
// from its requests' contexts.
func withConn(ctx context.Context, c net.Conn) context.Context {
	if sc, ok := c.(*stoppableConn); ok {
		return context.WithValue(ctx, connKey{}, sc)
	}
	return ctx
}

// stopReading stops the reading of the request's connection, when it is
// one of Serve's.
func stopReading(ctx context.Context) {
	if sc, ok := ctx.Value(connKey{}).(*stoppableConn); ok {
		sc.stopped.Store(true)
	}
}
