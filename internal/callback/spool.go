package callback

import "io"

const (
	firstBlock = 32 << 10
	maxBlock   = 1 << 20
)

// chunks holds bytes in memory in blocks that grow from 32 KiB to 1 MiB, so
// that holding n bytes allocates little more than n bytes, where a slice
// grown by append allocates up to twice that on the way.
type chunks struct {
	blocks [][]byte
	size   int64
}

func (c *chunks) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		last := len(c.blocks) - 1
		if last < 0 || len(c.blocks[last]) == cap(c.blocks[last]) {
			size := firstBlock
			if last >= 0 {
				size = min(2*cap(c.blocks[last]), maxBlock)
			}
			c.blocks = append(c.blocks, make([]byte, 0, size))
			last++
		}
		b := c.blocks[last]
		k := copy(b[len(b):cap(b)], p)
		c.blocks[last] = b[:len(b)+k]
		p = p[k:]
	}
	c.size += int64(n)
	return n, nil
}

// ReadAt reads as io.ReaderAt does.
func (c *chunks) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for _, b := range c.blocks {
		if off >= int64(len(b)) {
			off -= int64(len(b))
			continue
		}
		k := copy(p[n:], b[off:])
		n += k
		off = 0
		if n == len(p) {
			return n, nil
		}
	}
	return n, io.EOF
}

// bytes returns the bytes in one slice. Bytes that span blocks are joined
// once, into one block.
func (c *chunks) bytes() []byte {
	switch len(c.blocks) {
	case 0:
		return nil
	case 1:
		return c.blocks[0]
	}
	b := make([]byte, 0, c.size)
	for _, block := range c.blocks {
		b = append(b, block...)
	}
	c.blocks = [][]byte{b}
	return b
}

// head returns up to n of the first bytes.
func (c *chunks) head(n int) []byte {
	if len(c.blocks) == 0 {
		return nil
	}
	// The first block holds 32 KiB, more than any head asked for.
	return c.blocks[0][:min(n, len(c.blocks[0]))]
}
