package callback

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"strings"
)

// A body held whole in memory (a WholeBody) is read in place: its parts are
// found where they lie, hashed there and kept there, so that each byte is
// touched once by the hash and never copied. What the service answers for it
// is what it answers for the same bytes as a stream: the multipart framing
// below mirrors, rule for rule, mime/multipart's Reader behind
// readMultipart's bodyEnd, which a test and a fuzz target hold it to.

// readWhole reads a body held whole in memory, as read reads a stream.
func (in *intake) readWhole(b []byte, contentType string) error {
	if len(b) == 0 {
		return nil // a status-only callback, whatever its Content-Type
	}
	boundary, err := boundaryOf(contentType)
	switch {
	case err != nil:
		return err
	case boundary == "":
		return in.hold(b, &part{index: 1, contentType: contentType})
	case !walkable(boundary):
		return in.readMultipart(bytes.NewReader(b), boundary)
	}
	return in.walkMultipart(b, boundary)
}

// hold takes a part whose bytes lie in memory: hashed and kept where they
// lie. A part that a stream would move on from memory (past memoryLimit, or
// past what the callback may still hold in memory) is read as a stream, so
// that it is classified and kept as a stream's would be.
func (in *intake) hold(b []byte, p *part) error {
	size := int64(len(b))
	if size > memoryLimit || size > in.budget {
		return in.readPart(bytes.NewReader(b), p)
	}
	in.parts = append(in.parts, p)
	in.budget -= size
	mem := &inMemory{}
	if size > 0 {
		mem.blocks, mem.size = [][]byte{b}, size
	}
	p.held, p.head, p.size, p.sum = mem, b[:min(len(b), headLen)], size, sha256.Sum256(b)
	// A part of UTF-8 text is UTF-8 text too: its delimiters, where it was
	// cut, are ASCII.
	p.utf8Text = in.utf8Text
	return in.name(p)
}

// walkable reports whether the framing of a body with this boundary can be
// found in place exactly as a stream's: a boundary of RFC 2046's length, on
// one line, so that a delimiter fits mime/multipart's buffer many times and
// two delimiters never overlap. Any other body is read as a stream.
func walkable(boundary string) bool {
	return len(boundary) <= 70 && !strings.ContainsAny(boundary, "\r\n")
}

// walkMultipart reads every part of a multipart body held whole, then
// checks what follows the closing delimiter, as readMultipart does.
func (in *intake) walkMultipart(body []byte, boundary string) error {
	w := newWalker(body, boundary)
	for i := 1; ; i++ {
		mp, err := w.nextPart()
		last, err := admit(i, mp, err)
		if err != nil {
			return err
		}
		if last {
			break
		}
		start := w.pos
		end, ok := w.partEnd()
		if !ok {
			return bodyError("request body could not be read: malformed or truncated", io.ErrUnexpectedEOF)
		}
		if err := in.hold(body[start:end], partOf(i, mp)); err != nil {
			return err
		}
	}
	if len(body)-w.pos > maxEpilogue {
		return epilogueTooLarge()
	}
	return nil
}

// walker finds the framing of a multipart body held whole by the rules of
// mime/multipart's Reader reading that body followed by bodyEnd: its
// fields are the Reader's, and pos runs over the body, then bodyEnd.
type walker struct {
	body []byte
	pos  int
	// nl, nlDash, dash and dashDash are "\r\n", "\r\n--boundary",
	// "--boundary" and "--boundary--"; nl and nlDash lose their "\r" for
	// a body whose first delimiter line ends in "\n" alone.
	nl, nlDash, dash, dashDash []byte
	partsRead                  int
	header                     *bufio.Reader // reused for each part's header
}

// lineBuffer is the size of mime/multipart's buffer, which bounds the lines
// between parts.
const lineBuffer = 4096

func newWalker(body []byte, boundary string) *walker {
	b := []byte("\r\n--" + boundary + "--")
	return &walker{body: body, nl: b[:2], nlDash: b[:len(b)-2], dash: b[2 : len(b)-2], dashDash: b[2:]}
}

// size is the length of the body followed by bodyEnd.
func (w *walker) size() int { return len(w.body) + len(bodyEnd) }

// at returns the byte at i of the body followed by bodyEnd.
func (w *walker) at(i int) byte {
	if i < len(w.body) {
		return w.body[i]
	}
	return bodyEnd[i-len(w.body)]
}

// slice returns the bytes from i to j of the body followed by bodyEnd,
// copied only when they run into bodyEnd.
func (w *walker) slice(i, j int) []byte {
	if j <= len(w.body) {
		return w.body[i:j]
	}
	b := append([]byte(nil), w.body[min(i, len(w.body)):]...)
	return append(b, bodyEnd[max(i-len(w.body), 0):j-len(w.body)]...)
}

// readLine returns the next line through its "\n", as ReadSlice does on
// mime/multipart's buffer: bufio.ErrBufferFull for a line longer than the
// buffer, io.EOF at the end.
func (w *walker) readLine() ([]byte, error) {
	if w.pos >= w.size() {
		return nil, io.EOF
	}
	end := -1
	if w.pos < len(w.body) {
		window := w.body[w.pos:min(len(w.body), w.pos+lineBuffer)]
		if k := bytes.IndexByte(window, '\n'); k >= 0 {
			end = w.pos + k
		} else if len(window) == lineBuffer {
			return nil, bufio.ErrBufferFull
		}
	}
	for k := max(w.pos, len(w.body)); end < 0; k++ { // bodyEnd ends in "\n"
		if w.at(k) == '\n' {
			end = k
		}
	}
	if end-w.pos+1 > lineBuffer {
		return nil, bufio.ErrBufferFull
	}
	line := w.slice(w.pos, end+1)
	w.pos = end + 1
	return line, nil
}

// nextPart reads up to the next part's bytes and returns its header, as
// mime/multipart's NextRawPart; io.EOF after the closing delimiter.
func (w *walker) nextPart() (*multipart.Part, error) {
	expectNewPart := false
	for {
		line, err := w.readLine()
		if err != nil { // never io.EOF with a closing delimiter: bodyEnd follows
			return nil, fmt.Errorf("multipart: NextPart: %w", err)
		}
		switch {
		case w.isDelimiterLine(line):
			w.partsRead++
			return w.readHeader()
		case w.isFinalDelimiter(line):
			return nil, io.EOF
		case expectNewPart:
			return nil, fmt.Errorf("multipart: expecting a new Part; got line %q", line)
		case w.partsRead == 0: // the preamble
		case bytes.Equal(line, w.nl):
			expectNewPart = true
		default:
			return nil, fmt.Errorf("multipart: unexpected line in Next(): %q", line)
		}
	}
}

func (w *walker) isFinalDelimiter(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, w.dashDash)
	if !ok {
		return false
	}
	rest = bytes.TrimLeft(rest, " \t")
	return len(rest) == 0 || bytes.Equal(rest, w.nl)
}

func (w *walker) isDelimiterLine(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, w.dash)
	if !ok {
		return false
	}
	rest = bytes.TrimLeft(rest, " \t")
	// As mime/multipart: a first delimiter line ending in "\n" alone makes
	// every line break of the body "\n".
	if w.partsRead == 0 && len(rest) == 1 && rest[0] == '\n' {
		w.nl, w.nlDash = w.nl[1:], w.nlDash[1:]
	}
	return bytes.Equal(rest, w.nl)
}

// readHeader reads a part's header with net/textproto, as mime/multipart
// does, and moves pos past it.
func (w *walker) readHeader() (*multipart.Part, error) {
	rest := &countingReader{r: io.MultiReader(bytes.NewReader(w.body[min(w.pos, len(w.body)):]),
		strings.NewReader(bodyEnd[max(w.pos-len(w.body), 0):]))}
	if w.header == nil {
		w.header = bufio.NewReaderSize(rest, lineBuffer)
	} else {
		w.header.Reset(rest)
	}
	h, err := textproto.NewReader(w.header).ReadMIMEHeader()
	if err != nil {
		return nil, err
	}
	w.pos += rest.n - w.header.Buffered()
	return &multipart.Part{Header: h}, nil
}

// partEnd returns where the part's bytes that start at pos end: at the
// first delimiter that mime/multipart takes for one, which pos moves to;
// false when none follows.
func (w *walker) partEnd() (int, bool) {
	from := w.pos
	// As mime/multipart: a part's bytes may start with the delimiter
	// without its line break.
	if w.pos < len(w.body) && bytes.HasPrefix(w.body[w.pos:], w.dash) {
		if w.delimits(w.pos + len(w.dash)) {
			return w.pos, true
		}
		from += len(w.dash)
	}
	for from < len(w.body) {
		i := bytes.Index(w.body[from:], w.nlDash)
		if i < 0 {
			break
		}
		if at := from + i; w.delimits(at + len(w.nlDash)) {
			w.pos = at
			return at, true
		}
		from += i + len(w.nlDash)
	}
	return 0, false
}

// delimits reports whether a boundary that ends before k is a delimiter, by
// what follows it: white space, a line break, "--", or the end.
func (w *walker) delimits(k int) bool {
	if k >= w.size() {
		return true
	}
	switch w.at(k) {
	case ' ', '\t', '\r', '\n':
		return true
	case '-':
		return k+1 < w.size() && w.at(k+1) == '-'
	}
	return false
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
