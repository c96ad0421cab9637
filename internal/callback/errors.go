package callback

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Error is a failure with the HTTP status and the message the caller sees.
// Err, when set, holds the internal detail, which goes to the log only.
type Error struct {
	Code    int
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Message
	}
	return fmt.Sprintf("%s: %v", e.Message, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func badRequest(msg string, err error) error {
	return &Error{Code: http.StatusBadRequest, Message: msg, Err: err}
}

// unavailable marks a failure of a sink: the sender should retry.
func unavailable(msg string, err error) error {
	return &Error{Code: http.StatusServiceUnavailable, Message: msg, Err: err}
}

// answer maps an error to the status code and the message the caller sees.
// It is the one place where errors become HTTP answers; nothing but the
// message chosen here reaches the caller.
func answer(err error) (int, string) {
	var e *Error
	switch {
	case err == nil:
		return http.StatusOK, ""
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// A deadline can hit anywhere, also inside a sink call wrapped in an
		// Error of its own: the sender must retry either way.
		return http.StatusServiceUnavailable, "timed out, retry later"
	case errors.As(err, &e):
		return e.Code, e.Message
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized, "unauthorized"
	case errors.Is(err, ErrAuthUnavailable):
		return http.StatusServiceUnavailable, "authentication is not available yet, retry later"
	default:
		return http.StatusInternalServerError, "internal error"
	}
}

// outcome names an answer's status code for the Callbacks metric, one of
// metrics.Outcomes.
func outcome(code int) string {
	switch {
	case code < 300:
		return "stored"
	case code == http.StatusUnauthorized:
		return "unauthorized"
	case code == http.StatusForbidden:
		return "forbidden"
	case code == http.StatusRequestEntityTooLarge:
		return "too_large"
	case code == http.StatusServiceUnavailable:
		return "unavailable"
	case code < 500:
		return "bad_request"
	default:
		return "error"
	}
}
