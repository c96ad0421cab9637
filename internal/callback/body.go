package callback

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
)

const (
	// memoryLimit is how much of one attachment is held in memory, and
	// memoryBudget how much of all of a callback's; the rest streams to the
	// store or waits in a temporary file. Behind API Gateway a whole
	// callback is under 6 MB, so only server mode ever spills.
	memoryLimit  = 16 << 20
	memoryBudget = 48 << 20
	// headLen is how much of an attachment is kept for classification when
	// the rest of it is in a file.
	headLen = 8 << 10
	// maxParts bounds the parts of one callback; Speechmatics sends a few.
	maxParts = 100
	// maxPartHeaderBytes bounds the headers of one part, and maxNameBytes a
	// part's form name or filename: real callbacks use a small fraction.
	maxPartHeaderBytes = 16 << 10
	maxNameBytes       = 1024
)

// part is one attachment of a callback, read in full and hashed.
type part struct {
	index       int // 1-based position in the body
	formName    string
	fileName    string
	contentType string // as sent; may be empty

	mem    *chunks  // the bytes, when they fit in memory
	file   *os.File // the bytes, when they did not
	upload Upload   // or where they went, when they did not
	head   []byte   // the first headLen bytes
	size   int64
	sum    [32]byte

	// large parts are classified by their head, and a streamed part gets
	// its content and key before its bytes are all read.
	large        bool
	content, key string
	completed    bool // the upload is complete
}

// spillFunc gives a part that outgrew memory the writer for its bytes. The
// part's names, type and head are set.
type spillFunc func(p *part) (io.Writer, error)

// spillToFile keeps a large part in a temporary file in dir.
func spillToFile(dir string) spillFunc {
	return func(*part) (io.Writer, error) { return os.CreateTemp(dir, "callback-part-*") }
}

// body returns a fresh reader of the part's bytes.
func (p *part) body() io.ReadSeeker {
	if p.file != nil {
		return io.NewSectionReader(p.file, 0, p.size)
	}
	return io.NewSectionReader(p.mem, 0, p.size)
}

func (p *part) close() {
	if p.file != nil {
		p.file.Close()
		os.Remove(p.file.Name())
	}
}

func closeParts(parts []*part) {
	for _, p := range parts {
		p.close()
	}
}

// readParts reads the whole body of a callback into parts before anything is
// stored, so that a malformed body changes nothing.
func readParts(body io.Reader, contentType string, spill spillFunc) (parts []*part, err error) {
	defer func() {
		if err != nil {
			closeParts(parts)
			parts = nil
		}
	}()
	if body == nil {
		return nil, nil
	}
	budget := int64(memoryBudget)
	// An empty body is a status-only callback, whatever its Content-Type.
	var first [1]byte
	n, err := io.ReadFull(body, first[:])
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, bodyError("request body could not be read", err)
	}
	body = io.MultiReader(bytes.NewReader(first[:n]), body)

	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil && strings.HasPrefix(strings.ToLower(contentType), "multipart/") {
		return nil, badRequest("invalid Content-Type header", err)
	}
	// Any other body is one attachment, kept as sent even when its
	// Content-Type does not parse.
	if mediaType != "multipart/form-data" {
		p := &part{index: 1, contentType: contentType}
		if err := readPart(body, p, spill, &budget); err != nil {
			return []*part{p}, err
		}
		return []*part{p}, nil
	}

	boundary := params["boundary"]
	if boundary == "" {
		return nil, badRequest("multipart/form-data without a boundary", nil)
	}
	// A larger buffer than multipart's own 4 KiB: fewer, longer reads of a
	// body that is decoded as it is read.
	mr := multipart.NewReader(bufio.NewReaderSize(body, 64<<10), boundary)
	for i := 1; ; i++ {
		if i > maxParts {
			return parts, badRequest(fmt.Sprintf("too many parts: at most %d", maxParts), nil)
		}
		// NextRawPart keeps the bytes as sent: no quoted-printable decoding.
		mp, err := mr.NextRawPart()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return parts, bodyError("malformed multipart body", err)
		}
		if err := checkPartHeader(i, mp); err != nil {
			return parts, err
		}
		p := &part{index: i, formName: mp.FormName(), fileName: mp.FileName(), contentType: mp.Header.Get("Content-Type")}
		parts = append(parts, p)
		if err := readPart(mp, p, spill, &budget); err != nil {
			return parts, err
		}
	}
}

// checkPartHeader refuses a part whose headers or names are beyond what any
// callback needs.
func checkPartHeader(i int, mp *multipart.Part) error {
	size := 0
	for k, vs := range mp.Header {
		for _, v := range vs {
			size += len(k) + len(v) + 4 // ": " and CRLF
		}
	}
	if size > maxPartHeaderBytes {
		return badRequest(fmt.Sprintf("part %d: headers too large: at most %d bytes", i, maxPartHeaderBytes), nil)
	}
	if len(mp.FormName()) > maxNameBytes || len(mp.FileName()) > maxNameBytes {
		return badRequest(fmt.Sprintf("part %d: name too long: at most %d bytes", i, maxNameBytes), nil)
	}
	return nil
}

// readPart reads one attachment into p, hashing it as the bytes flow.
func readPart(r io.Reader, p *part, spill spillFunc, budget *int64) error {
	src := &sourceReader{r: r}
	w := &spoolWriter{budget: budget, spill: func(head []byte) (io.Writer, error) {
		p.head, p.large = head, true
		return spill(p)
	}}
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(h, w), src)
	switch out := w.out.(type) {
	case *os.File:
		p.file = out
	case Upload:
		p.upload = out
	case nil:
		p.mem, p.head = &w.mem, w.mem.head(headLen)
	}
	p.size = size
	if err != nil {
		if src.err != nil {
			return bodyError("request body could not be read: malformed or truncated", src.err)
		}
		var e *Error
		if errors.As(err, &e) {
			return err
		}
		return unavailable("could not buffer the attachment, retry later", err)
	}
	h.Sum(p.sum[:0])
	return nil
}

// bodyError is a 400 with msg for an error reading the body, or a 413 when
// the body was cut off at the front door's limit.
func bodyError(msg string, err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &Error{Code: http.StatusRequestEntityTooLarge,
			Message: fmt.Sprintf("request body too large: at most %d bytes", tooLarge.Limit), Err: err}
	}
	return badRequest(msg, err)
}

// sourceReader remembers a read error, to tell the sender's fault from ours.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
	}
	return n, err
}
