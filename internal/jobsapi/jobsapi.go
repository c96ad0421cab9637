// Package jobsapi is a client of the Speechmatics batch Jobs API (GET
// /jobs, /jobs/{id}, /jobs/{id}/transcript), the reconciler's adapter.
//
// The API key goes into the Authorization header and nowhere else: never
// into a URL, an error or a log. Job details are decoded without their
// notification auth_headers, which hold the callback token in clear.
package jobsapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"smcallbacks/internal/reconcile"
)

// DefaultURL is the API's global base URL; regional ones are
// https://<region>.asr.api.speechmatics.com/v2.
const DefaultURL = "https://asr.api.speechmatics.com/v2"

// Config is what a Client is built from.
type Config struct {
	// BaseURL is the API's base, such as DefaultURL.
	BaseURL string
	// APIKey is the Speechmatics API key.
	APIKey string
	// HTTPClient makes the requests; nil means one with a 60s time-out.
	HTTPClient *http.Client
	// MaxAttempts bounds the tries of a request answered 429 or 5xx; 0
	// means 4.
	MaxAttempts int
	// BaseDelay and MaxDelay bound the back-off between tries: exponential
	// from BaseDelay with full jitter, at most MaxDelay. A Retry-After
	// longer than MaxDelay is honoured by giving up. 0 means 500ms and 20s.
	BaseDelay, MaxDelay time.Duration
	// UserAgent is sent with each request.
	UserAgent string
}

// Client calls the Jobs API. It is safe for concurrent use.
type Client struct {
	c    Config
	base *url.URL
}

var _ reconcile.JobsAPI = (*Client)(nil)

// New returns a Client, or an error when the base URL is not an absolute
// http(s) URL.
func New(c Config) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(c.BaseURL, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("jobs API: base URL %q: want an absolute http(s) URL", c.BaseURL)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: time.Minute}
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 4
	}
	if c.BaseDelay <= 0 {
		c.BaseDelay = 500 * time.Millisecond
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = 20 * time.Second
	}
	if c.UserAgent == "" {
		c.UserAgent = reconcile.UserAgent
	}
	return &Client{c: c, base: base}, nil
}

// StatusError is an answer other than 2xx.
type StatusError struct {
	Method, Path string
	Code         int
	// RetryAfter is the wait the answer asked for, 0 when it named none.
	RetryAfter time.Duration
	kind       error
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d %s", e.Method, e.Path, e.Code, http.StatusText(e.Code))
}

// Unwrap gives the reconcile error the status means, if any.
func (e *StatusError) Unwrap() error { return e.kind }

func kindOf(code int) error {
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return reconcile.ErrUnauthorized
	case code == http.StatusNotFound || code == http.StatusGone:
		return reconcile.ErrGone
	case code == http.StatusTooManyRequests || code >= 500:
		return reconcile.ErrUnavailable
	}
	return nil
}

// get sends GET path?query, retrying 429, 5xx and network failures with
// back-off, and returns the body of a 2xx answer.
func (c *Client) get(ctx context.Context, path string, query url.Values) ([]byte, string, error) {
	for attempt := 1; ; attempt++ {
		body, typ, err := c.once(ctx, path, query)
		if err == nil || !errors.Is(err, reconcile.ErrUnavailable) || ctx.Err() != nil {
			return body, typ, err
		}
		if attempt == c.c.MaxAttempts {
			return nil, "", fmt.Errorf("%w (after %d attempts)", err, attempt)
		}
		wait := c.backoff(attempt)
		var se *StatusError
		if errors.As(err, &se) && se.RetryAfter > 0 {
			if se.RetryAfter > c.c.MaxDelay {
				return nil, "", fmt.Errorf("%w (Retry-After %s: left for later)", err, se.RetryAfter)
			}
			wait = se.RetryAfter
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return nil, "", fmt.Errorf("%w (no time left to wait %s)", err, wait.Round(time.Millisecond))
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, "", err
		}
	}
}

// backoff is the wait after the given failed attempt: exponential, full
// jitter, at most MaxDelay.
func (c *Client) backoff(attempt int) time.Duration {
	ceiling := c.c.BaseDelay << min(attempt-1, 20)
	if ceiling > c.c.MaxDelay || ceiling <= 0 {
		ceiling = c.c.MaxDelay
	}
	return time.Duration(rand.Int64N(int64(ceiling)) + 1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// maxBody bounds an answer held in memory: a long json-v2 transcript is
// tens of MiB.
const maxBody = 512 << 20

// once sends one request.
func (c *Client) once(ctx context.Context, path string, query url.Values) ([]byte, string, error) {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.c.APIKey)
	req.Header.Set("User-Agent", c.c.UserAgent)
	resp, err := c.c.HTTPClient.Do(req)
	if err != nil {
		// The error names the URL, which holds no secret.
		return nil, "", fmt.Errorf("%w: %w", reconcile.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
		return nil, "", &StatusError{Method: http.MethodGet, Path: path, Code: resp.StatusCode,
			RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()), kind: kindOf(resp.StatusCode)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, "", fmt.Errorf("%w: GET %s: read the answer: %w", reconcile.ErrUnavailable, path, err)
	}
	if len(body) > maxBody {
		return nil, "", fmt.Errorf("GET %s: answer over %d bytes", path, maxBody)
	}
	return body, resp.Header.Get("Content-Type"), nil
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
