package callback

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"
)

const (
	// memoryLimit is the size past which an attachment is large: it is
	// then classified by its head alone and streamed to the store (or, for
	// a store that takes no uploads, waits in a temporary file).
	memoryLimit = 16 << 20
	// memoryBudget is how much of a callback's attachments may wait in
	// memory; past it, attachments that are not large wait in temporary
	// files. Behind API Gateway a whole callback is under 6 MB.
	memoryBudget = 48 << 20
	// headLen is how much of an attachment's start is kept to classify it.
	headLen = 8 << 10
	// maxParts bounds the parts of one callback; Speechmatics sends a few.
	maxParts = 100
	// maxPartHeaderBytes bounds the headers of one part, and maxNameBytes a
	// part's form name or filename: real callbacks use a small fraction.
	maxPartHeaderBytes = 16 << 10
	maxNameBytes       = 1024
	// maxContentTypeBytes bounds an attachment's Content-Type, which is
	// stored with its object and named in the event: beyond it S3 would
	// refuse the object's headers, or a hundred parts the event's size, and
	// the sender's every retry would fail alike. Real ones take a few dozen.
	maxContentTypeBytes = 256
	// maxEpilogue bounds what may follow a multipart body's closing
	// delimiter: it is read, so that the body is read to its end, and
	// dropped.
	maxEpilogue = 64 << 10
)

// intake is one callback's attachments as they are read: the parts so far,
// where their bytes wait, and the keys given out.
type intake struct {
	svc    *Service
	ctx    context.Context
	ev     *Event
	keys   *keyring
	budget int64 // what the callback may still hold in memory
	parts  []*part
	// utf8Text is set for a whole body known to be UTF-8 without NUL, and
	// so each of its parts.
	utf8Text bool
}

func (s *Service) newIntake(ctx context.Context, ev *Event) *intake {
	return &intake{svc: s, ctx: ctx, ev: ev, keys: newKeyring(s.c.KeyPrefix + ev.JobID + "/"), budget: memoryBudget}
}

// read reads the whole body of a callback into parts before anything is
// made visible, so that a malformed or truncated body changes nothing.
func (in *intake) read(body io.Reader, contentType string) error {
	if body == nil {
		return nil
	}
	if wb, ok := body.(WholeBody); ok {
		if b, ok := wb.Whole(); ok {
			tb, ok := body.(TextBody)
			in.utf8Text = ok && tb.UTF8Text()
			return in.readWhole(b, contentType)
		}
	}
	// An empty body is a status-only callback, whatever its Content-Type.
	var first [1]byte
	n, err := io.ReadFull(body, first[:])
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return bodyError("request body could not be read", err)
	}
	body = io.MultiReader(bytes.NewReader(first[:n]), body)
	boundary, err := boundaryOf(contentType)
	if err != nil {
		return err
	}
	if boundary == "" {
		return in.readPart(body, &part{index: 1, contentType: contentType})
	}
	return in.readMultipart(body, boundary)
}

// boundaryOf returns the boundary of a multipart/form-data body, or "" for
// any other body, which is one attachment kept as sent even when its
// Content-Type does not parse.
func boundaryOf(contentType string) (string, error) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil && strings.HasPrefix(strings.ToLower(contentType), "multipart/") {
		return "", badRequest("invalid Content-Type header", err)
	}
	if mediaType != "multipart/form-data" {
		return "", nil
	}
	if params["boundary"] == "" {
		return "", badRequest("multipart/form-data without a boundary", nil)
	}
	return params["boundary"], nil
}

// bodyEnd follows every multipart body on its way to the parser, so that
// a body that ends early fails as malformed: multipart.Reader answers a
// plain io.EOF for a body cut inside a part's headers or right after a
// delimiter line, as for a closed one. After it, such a part's headers end
// and its bytes never reach a delimiter. A closed body never reads it but
// as its epilogue.
const bodyEnd = "\r\n\r\n"

// readMultipart reads every part of a multipart body, then the rest of the
// body: it is complete only when its closing delimiter was read.
func (in *intake) readMultipart(body io.Reader, boundary string) error {
	// A larger buffer than multipart's own 4 KiB: fewer, longer reads of a
	// body that is decoded as it is read.
	br := bufio.NewReaderSize(body, 64<<10)
	mr := multipart.NewReader(io.MultiReader(br, strings.NewReader(bodyEnd)), boundary)
	for i := 1; ; i++ {
		// NextRawPart keeps the bytes as sent: no quoted-printable decoding.
		mp, err := mr.NextRawPart()
		last, err := admit(i, mp, err)
		if err != nil {
			return err
		}
		if last {
			break
		}
		if err := in.readPart(mp, partOf(i, mp)); err != nil {
			return err
		}
	}
	// What follows the closing delimiter is read to the body's end, so that
	// a body cut short in its framing is not acknowledged, and dropped.
	n, err := io.Copy(io.Discard, io.LimitReader(br, maxEpilogue+1))
	if err != nil {
		return bodyError("request body could not be read: malformed or truncated", err)
	}
	if n > maxEpilogue {
		return epilogueTooLarge()
	}
	return nil
}

// admit checks the i-th part a multipart reader returned, with its error:
// last is true after the closing delimiter (io.EOF); the error refuses a
// malformed body, one part too many, or a part's header.
func admit(i int, mp *multipart.Part, err error) (last bool, _ error) {
	switch {
	case err == io.EOF:
		return true, nil
	case err != nil:
		return false, bodyError("malformed or truncated multipart body", err)
	case i > maxParts:
		return false, tooManyParts()
	}
	return false, checkPartHeader(i, mp)
}

func tooManyParts() error {
	return badRequest(fmt.Sprintf("too many parts: at most %d", maxParts), nil)
}

func epilogueTooLarge() error {
	return badRequest(fmt.Sprintf("more than %d bytes after the closing delimiter", maxEpilogue), nil)
}

// partOf is part i of a multipart body, with its names and type as sent.
func partOf(i int, mp *multipart.Part) *part {
	return &part{index: i, formName: mp.FormName(), fileName: mp.FileName(), contentType: mp.Header.Get("Content-Type")}
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
	if len(mp.Header.Get("Content-Type")) > maxContentTypeBytes {
		return badRequest(fmt.Sprintf("part %d: Content-Type too long: at most %d bytes", i, maxContentTypeBytes), nil)
	}
	return nil
}

// readPart reads one attachment to its end, hashing it as the bytes flow,
// then names it.
func (in *intake) readPart(r io.Reader, p *part) error {
	in.parts = append(in.parts, p)
	p.held = &inMemory{}
	src := &sourceReader{r: r}
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(h, &partWriter{in: in, p: p}), src)
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
	return in.name(p)
}

// partWriter takes a part's bytes as they are read: it keeps the head, and
// moves the bytes on when they outgrow where they wait.
type partWriter struct {
	in *intake
	p  *part
	n  int64 // bytes written so far
}

func (w *partWriter) Write(b []byte) (int, error) {
	p, in := w.p, w.in
	if len(p.head) < headLen {
		p.head = append(p.head, b[:min(len(b), headLen-len(p.head))]...)
	}
	w.n += int64(len(b))
	mem, inMemory := p.held.(*inMemory)
	switch {
	case p.large: // where it waits takes all of it
	case w.n > memoryLimit:
		if err := in.outgrow(p); err != nil {
			return 0, err
		}
	case inMemory && int64(len(b)) <= in.budget:
		in.budget -= int64(len(b))
		return mem.Write(b)
	case inMemory: // the callback's memory is spent
		if err := in.move(p, in.spoolFile); err != nil {
			return 0, err
		}
	}
	return p.held.Write(b)
}

// outgrow makes p a large part: classified by its head and named now,
// before the rest of its bytes is read, then streamed to the store when it
// takes uploads, else kept in a temporary file.
func (in *intake) outgrow(p *part) error {
	p.large = true
	if err := in.name(p); err != nil {
		return err
	}
	if _, ok := in.svc.c.Store.(StreamingStore); ok {
		return in.move(p, in.beginUpload)
	}
	if _, ok := p.held.(*inFile); ok {
		return nil
	}
	return in.move(p, in.spoolFile)
}

// move hands what p holds so far to a new holder, and lets the old go.
func (in *intake) move(p *part, next func(p *part) (held, error)) error {
	h, err := next(p)
	if err != nil {
		return err
	}
	if err := replay(p.held, h); err != nil {
		h.release(in.ctx)
		return fmt.Errorf("move part %d: %w", p.index, err)
	}
	if mem, ok := p.held.(*inMemory); ok {
		in.budget += mem.size
	}
	old := p.held
	p.held = h
	return old.release(in.ctx)
}

func (in *intake) spoolFile(*part) (held, error) { return newInFile(in.svc.c.SpoolDir) }

func (in *intake) beginUpload(p *part) (held, error) {
	obj := in.object(p)
	up, err := in.svc.c.Store.(StreamingStore).Begin(in.ctx, obj)
	if err != nil {
		return nil, unavailable("could not store the callback, retry later", fmt.Errorf("begin %s: %w", p.key, err))
	}
	return &inUpload{up: up}, nil
}

// name classifies a part and gives it its key: a part that is not large
// once it is read whole, a large part when it outgrows memory, by its head.
// A large part's hash is settled here once its end is read.
func (in *intake) name(p *part) error {
	if p.content != "" { // a large part, named when it outgrew memory
		p.duplicate = in.keys.settle(relativeKey(p.content, p), p.key, p.sum)
		return nil
	}
	content, err := classify(p)
	if err != nil {
		return unavailable("could not classify the attachment, retry later", err)
	}
	p.content = content
	var sum *[32]byte
	if !p.large {
		sum = &p.sum
	}
	p.key, p.duplicate = in.keys.assign(relativeKey(content, p), sum)
	return nil
}

// object is what the store is told of part p.
func (in *intake) object(p *part) *Object {
	return &Object{
		Key: p.key, ContentType: contentTypeOf(p.content, p.contentType), Size: p.size, SHA256: p.sum,
		JobID: in.ev.JobID, Status: in.ev.Status, Content: p.content,
	}
}

// release lets go of every part's bytes: files are removed and uploads not
// completed are aborted, so that a callback that failed leaves no partial
// object. It runs even when the request's context is done.
func (in *intake) release() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(in.ctx), 30*time.Second)
	defer cancel()
	for _, p := range in.parts {
		if err := p.held.release(ctx); err != nil {
			in.svc.logger().WarnContext(in.ctx, "release attachment", "part", p.index, "key", p.key, "error", err.Error())
		}
	}
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
