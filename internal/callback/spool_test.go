package callback

import (
	"bytes"
	"io"
	"testing"
	"unicode/utf8"
)

func TestChunks(t *testing.T) {
	data := make([]byte, 3<<20+12345)
	for i := range data {
		data[i] = byte(i * 31 % 251)
	}
	var c chunks
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 7777)
		c.Write(rest[:n])
		rest = rest[n:]
	}
	if c.size != int64(len(data)) {
		t.Fatalf("size: got %d, want %d", c.size, len(data))
	}
	got, _ := io.ReadAll(io.NewSectionReader(&c, 0, c.size))
	if !bytes.Equal(got, data) {
		t.Error("ReadAt: bytes differ")
	}
	part := make([]byte, 100)
	if n, err := c.ReadAt(part, 1<<20-50); n != 100 || err != nil || !bytes.Equal(part, data[1<<20-50:1<<20+50]) {
		t.Errorf("ReadAt across blocks: got %d, %v", n, err)
	}
	allocated := 0
	for _, b := range c.blocks {
		allocated += cap(b)
	}
	if allocated > len(data)+maxBlock {
		t.Errorf("allocated %d bytes for %d", allocated, len(data))
	}
	if !bytes.Equal(c.bytes(), data) || len(c.blocks) != 1 {
		t.Error("bytes: not the data in one block")
	}
}

func TestIsTextBlocks(t *testing.T) {
	text := []byte("héllo wörld ☃ 𝄞 end")
	// Every way to cut the text in three, runes cut in two included.
	for i := 0; i <= len(text); i++ {
		for j := i; j <= len(text); j++ {
			if !isTextBlocks([][]byte{text[:i], text[i:j], text[j:]}) {
				t.Fatalf("cut at %d, %d: got not text", i, j)
			}
		}
	}
	for _, bad := range [][][]byte{
		{[]byte("ab\xe2"), []byte("\x98")},   // a rune cut short at the end
		{[]byte("ab\xe2"), []byte("x\x83")},  // a rune broken across blocks
		{[]byte("a\x00b")},                   // NUL
		{[]byte("\xff")},                     // not UTF-8
		{[]byte("\xf0\x9d"), []byte("\x84")}, // a 4-byte rune cut short
	} {
		if isTextBlocks(bad) {
			t.Errorf("%q: got text", bad)
		}
	}
	if !utf8.Valid(text) {
		t.Fatal("the test's text is not UTF-8")
	}
}
