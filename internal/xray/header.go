package xray

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ContextKey is the context key under which aws-lambda-go puts the
// invocation's trace header, a string.
const ContextKey = "x-amzn-trace-id"

// ErrMalformedHeader is wrapped by the errors of ParseHeader.
var ErrMalformedHeader = errors.New("malformed X-Ray trace header")

// Header is an X-Ray trace header: Root=1-…;Parent=…;Sampled=1.
type Header struct {
	// Root is the trace ID, such as 1-5759e988-bd862e3fe1be46a994272793.
	Root string
	// Parent is the ID of the segment or subsegment the header came from,
	// 16 hexadecimal digits, or empty when the header names none.
	Parent string
	// Sampled says that the trace is recorded (Sampled=1). Not sampled
	// (Sampled=0), undecided (Sampled=?) and absent are all false.
	Sampled bool
}

// ParseHeader parses an X-Ray trace header. Fields it does not know (Self,
// Lineage) are ignored; a missing or malformed Root, a malformed Parent, or a
// Sampled other than 0, 1 or ? is an error wrapping ErrMalformedHeader.
func ParseHeader(s string) (Header, error) {
	var h Header
	for rest := s; rest != ""; {
		var field string
		field, rest, _ = strings.Cut(rest, ";")
		key, value, _ := strings.Cut(strings.TrimSpace(field), "=")
		if err := h.set(key, value); err != nil {
			return Header{}, err
		}
	}
	if h.Root == "" {
		return Header{}, fmt.Errorf("%w: no Root", ErrMalformedHeader)
	}
	return h, nil
}

// set records one key=value field of a header.
func (h *Header) set(key, value string) error {
	switch key {
	case "Root":
		if !validRoot(value) {
			return fmt.Errorf("%w: Root %q is not 1-<8 hex>-<24 hex>", ErrMalformedHeader, value)
		}
		h.Root = value
	case "Parent":
		if !isHex(value, 16) {
			return fmt.Errorf("%w: Parent %q is not 16 hex digits", ErrMalformedHeader, value)
		}
		h.Parent = value
	case "Sampled":
		switch value {
		case "1":
			h.Sampled = true
		case "0", "?":
			h.Sampled = false
		default:
			return fmt.Errorf("%w: Sampled %q is not 0, 1 or ?", ErrMalformedHeader, value)
		}
	}
	return nil
}

// validRoot reports whether s is an X-Ray trace ID: version 1, the start time
// as 8 hexadecimal digits, 24 more.
func validRoot(s string) bool {
	version, rest, ok1 := strings.Cut(s, "-")
	epoch, unique, ok2 := strings.Cut(rest, "-")
	return ok1 && ok2 && version == "1" && isHex(epoch, 8) && isHex(unique, 24)
}

// isHex reports whether s is n lower- or upper-case hexadecimal digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// String returns the header as sent on: Root=…;Parent=…;Sampled=1 (or 0),
// without Parent when it has none.
func (h Header) String() string {
	sampled := "0"
	if h.Sampled {
		sampled = "1"
	}
	if h.Parent == "" {
		return "Root=" + h.Root + ";Sampled=" + sampled
	}
	return "Root=" + h.Root + ";Parent=" + h.Parent + ";Sampled=" + sampled
}

// HeaderFromContext returns the trace header that aws-lambda-go put in the
// invocation's context, and whether there is a well-formed one.
func HeaderFromContext(ctx context.Context) (Header, bool) {
	s, _ := ctx.Value(ContextKey).(string)
	if s == "" {
		return Header{}, false
	}
	h, err := ParseHeader(s)
	return h, err == nil
}

// ContextWithHeader returns a copy of ctx that carries the trace header s
// as aws-lambda-go's invocation contexts do, for code that gets the header
// some other way (and for tests).
func ContextWithHeader(ctx context.Context, s string) context.Context {
	return context.WithValue(ctx, ContextKey, s) // aws-lambda-go's key: a plain string
}
