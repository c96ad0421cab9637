// Package auth checks that a callback carries one of the header lines the user
// configured in the auth_headers of Speechmatics' notification_config, such as
// "Authorization: Bearer abc123". Speechmatics signs nothing: a static header
// is all there is to check.
package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"sync/atomic"

	"smcallbacks/internal/callback"
)

// Credential is one accepted header line.
type Credential struct {
	// Name is the header name, in canonical form.
	Name string
	// Value is the whole header value, compared exactly.
	Value string
}

// ParseLines parses newline-separated header lines, each "Name: value" as
// written in auth_headers. Empty lines are ignored. Errors name the line by
// its number, never by its text, which holds a secret.
func ParseLines(s string) ([]Credential, error) {
	var creds []Credential
	var errs []error
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ": ")
		value = strings.Trim(value, " \t")
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("line %d: want \"Name: value\"", i+1))
		case !isToken(name):
			errs = append(errs, fmt.Errorf("line %d: invalid header name", i+1))
		case value == "":
			errs = append(errs, fmt.Errorf("line %d: empty header value", i+1))
		default:
			creds = append(creds, Credential{Name: textproto.CanonicalMIMEHeaderKey(name), Value: value})
		}
	}
	return creds, errors.Join(errs...)
}

// isToken reports whether s is a valid HTTP header name (RFC 9110 token).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// Checker accepts a request that carries any one of its credentials. Its
// credentials can be replaced at any time, as a refreshed secret does; until
// they are first set, every request is refused with ErrAuthUnavailable.
// The zero value is ready to use.
type Checker struct {
	current atomic.Pointer[[]digest]
}

var _ callback.Authenticator = (*Checker)(nil)

// digest is a credential with its value hashed, so that values of any length
// are compared in constant time.
type digest struct {
	name string
	sum  [sha256.Size]byte
}

// NewChecker returns a Checker that accepts the given credentials.
func NewChecker(creds []Credential) *Checker {
	c := &Checker{}
	c.Set(creds)
	return c
}

// Set replaces the accepted credentials.
func (c *Checker) Set(creds []Credential) {
	digests := make([]digest, len(creds))
	for i, cred := range creds {
		digests[i] = digest{name: cred.Name, sum: sha256.Sum256([]byte(cred.Value))}
	}
	c.current.Store(&digests)
}

// Authenticate accepts h when a configured header is present exactly once and
// its value equals the configured one. A header that arrives twice never
// matches: the sender sends each of its lines once.
func (c *Checker) Authenticate(h http.Header) error {
	digests := c.current.Load()
	if digests == nil {
		return fmt.Errorf("no credentials loaded: %w", callback.ErrAuthUnavailable)
	}
	for _, d := range *digests {
		values := h.Values(d.name)
		if len(values) != 1 {
			continue
		}
		sum := sha256.Sum256([]byte(values[0]))
		if subtle.ConstantTimeCompare(sum[:], d.sum[:]) == 1 {
			return nil
		}
	}
	return callback.ErrUnauthorized
}

// loaded reports whether credentials were ever set.
func (c *Checker) loaded() bool { return c.current.Load() != nil }

// Disabled accepts every request. It is for AUTH_DISABLED=true only.
type Disabled struct{}

var _ callback.Authenticator = Disabled{}

// Authenticate accepts h.
func (Disabled) Authenticate(http.Header) error { return nil }
