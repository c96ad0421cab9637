package callback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// part is one attachment of a callback on its way to the store: its names
// and type as sent, then, as its bytes are read, where they wait, their
// head, size and hash, and last its content and key.
type part struct {
	index       int // 1-based position in the body
	formName    string
	fileName    string
	contentType string // as sent; may be empty

	held held   // where the bytes wait until they are stored
	head []byte // the first headLen bytes
	size int64
	sum  [32]byte
	// large is set when the part outgrows memoryLimit: it is then
	// classified by its head alone, and named before its end is read.
	large bool
	// utf8Text is set when the part's bytes are known to be UTF-8 without
	// NUL (TextBody), which classifying it then need not check.
	utf8Text bool

	content, key string
	// duplicate is set for a part whose bytes are stored under an earlier
	// part's key already: it is stored once, and listed once.
	duplicate bool
}

// held is where a part's bytes wait until they are stored: memory, a
// temporary file, or an upload that streams them to the store.
type held interface {
	io.Writer
	// contents returns the bytes written, for the classification of a part
	// that is not large. An upload, which only large parts use, has none.
	contents() ([][]byte, error)
	// store makes the bytes the object obj in st: a Put, or the completion
	// of an upload.
	store(ctx context.Context, st ObjectStore, obj *Object) error
	// release lets go of the bytes: a file is removed, an upload that was
	// not completed is aborted.
	release(ctx context.Context) error
}

var (
	_ held = (*inMemory)(nil)
	_ held = (*inFile)(nil)
	_ held = (*inUpload)(nil)
)

// inMemory holds a part's bytes in memory.
type inMemory struct{ chunks }

func (m *inMemory) contents() ([][]byte, error) { return m.blocks, nil }

func (m *inMemory) store(ctx context.Context, st ObjectStore, obj *Object) error {
	if len(m.blocks) == 1 {
		// A bytes.Reader hands its bytes to a writer as they lie
		// (io.WriterTo), where a section reader copies them through a buffer.
		obj.Body = bytes.NewReader(m.blocks[0])
	} else {
		obj.Body = io.NewSectionReader(&m.chunks, 0, m.size)
	}
	return st.Put(ctx, obj)
}

func (m *inMemory) release(context.Context) error { return nil }

// inFile holds a part's bytes in a temporary file.
type inFile struct {
	f    *os.File
	size int64
}

func newInFile(dir string) (*inFile, error) {
	f, err := os.CreateTemp(dir, "callback-part-*")
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return &inFile{f: f}, nil
}

func (f *inFile) Write(b []byte) (int, error) {
	n, err := f.f.Write(b)
	f.size += int64(n)
	return n, err
}

// contents reads the file back: only a part within memoryLimit, so at most
// that much, and only while it is classified.
func (f *inFile) contents() ([][]byte, error) {
	b := make([]byte, f.size)
	if _, err := f.f.ReadAt(b, 0); err != nil {
		return nil, fmt.Errorf("read back %s: %w", f.f.Name(), err)
	}
	return [][]byte{b}, nil
}

func (f *inFile) store(ctx context.Context, st ObjectStore, obj *Object) error {
	obj.Body = io.NewSectionReader(f.f, 0, f.size)
	return st.Put(ctx, obj)
}

func (f *inFile) release(context.Context) error {
	return errors.Join(f.f.Close(), os.Remove(f.f.Name()))
}

// inUpload streams a large part's bytes to the store as they arrive.
type inUpload struct {
	up        Upload
	completed bool
}

func (u *inUpload) Write(b []byte) (int, error) { return u.up.Write(b) }

func (u *inUpload) contents() ([][]byte, error) {
	return nil, errors.New("an upload cannot be read back")
}

func (u *inUpload) store(ctx context.Context, _ ObjectStore, obj *Object) error {
	if err := u.up.Complete(ctx, obj.SHA256, obj.Size); err != nil {
		return err
	}
	u.completed = true
	return nil
}

func (u *inUpload) release(ctx context.Context) error {
	if u.completed {
		return nil
	}
	return u.up.Abort(ctx)
}

// replay writes what h holds so far to w, when a part moves on from
// memory or a file.
func replay(h held, w io.Writer) error {
	blocks, err := h.contents()
	if err != nil {
		return err
	}
	for _, b := range blocks {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}
