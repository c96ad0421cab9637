//go:build unix

package xray

import (
	"net"
	"syscall"
)

// writeNow writes b to c with one non-blocking write(2): the runtime's
// sockets are non-blocking, and returning true from the callback means that
// a write that would block (EAGAIN) is dropped rather than waited out.
func writeNow(c *net.UDPConn, b []byte) {
	raw, err := c.SyscallConn()
	if err != nil {
		return
	}
	raw.Write(func(fd uintptr) bool {
		syscall.Write(int(fd), b) // every error drops the document
		return true
	})
}
