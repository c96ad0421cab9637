//go:build !unix

package xray

import "net"

// writeNow writes b to c; a UDP write does not wait for the receiver, and an
// error drops the document.
func writeNow(c *net.UDPConn, b []byte) {
	c.Write(b)
}
