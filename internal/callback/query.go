package callback

import (
	"fmt"
	"net/url"
	"strings"
)

// The rules of the job ID and the status, as the answers state them. They
// are checked by hand (IsJobID, isStatus): compiling the job ID's as a
// regular expression took a third of a millisecond of every cold start.
const (
	jobIDPattern  = `^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`
	statusPattern = `^[a-z_]{1,32}$`
)

// IsJobID reports whether id is a job ID the receiver accepts: the safe
// character set of SaaS and on-premises IDs, which keeps keys inside the
// job's prefix. It matches jobIDPattern.
func IsJobID(id string) bool {
	if len(id) == 0 || len(id) > 128 || !isAlnum(id[0]) {
		return false
	}
	for i := 1; i < len(id); i++ {
		if c := id[i]; !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// isStatus reports whether status matches statusPattern.
func isStatus(status string) bool {
	if len(status) == 0 || len(status) > 32 {
		return false
	}
	for i := range len(status) {
		if c := status[i]; (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// The values Speechmatics documents for the status parameter. Others that
// match statusPattern are accepted and logged, so that a status added by the
// sender is not lost.
const (
	StatusSuccess = "success"
	// StatusError, StatusFetchError (the media could not be fetched) and
	// StatusTrimError (the audio could not be prepared) end a job without a
	// transcript.
	StatusError      = "error"
	StatusFetchError = "fetch_error"
	StatusTrimError  = "trim_error"
)

var knownStatuses = map[string]bool{
	StatusSuccess: true, StatusError: true, StatusFetchError: true, StatusTrimError: true,
}

// IsFailure reports whether a callback's status says that its job failed.
func IsFailure(status string) bool {
	return status == StatusError || status == StatusFetchError || status == StatusTrimError
}

// parseQuery returns the job ID and status of a callback's query string.
// Other parameters are ignored, even malformed ones: the user's own URL may
// carry some.
func parseQuery(raw string) (id, status string, err error) {
	q := url.Values{}
	for _, pair := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil || (key != "id" && key != "status") {
			continue
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return "", "", badRequest(fmt.Sprintf("invalid query parameter %q: bad percent-encoding", key), nil)
		}
		q.Add(key, value)
	}
	if id, err = queryParam(q, "id", jobIDPattern, IsJobID); err != nil {
		return "", "", err
	}
	if status, err = queryParam(q, "status", statusPattern, isStatus); err != nil {
		return "", "", err
	}
	return id, status, nil
}

func queryParam(q url.Values, name, pattern string, valid func(string) bool) (string, error) {
	values := q[name]
	if len(values) == 0 {
		return "", badRequest(fmt.Sprintf("missing query parameter %q", name), nil)
	}
	for _, v := range values[1:] {
		if v != values[0] {
			return "", badRequest(fmt.Sprintf("query parameter %q given twice with different values", name), nil)
		}
	}
	if !valid(values[0]) {
		return "", badRequest(fmt.Sprintf("invalid query parameter %q: must match %s", name, pattern), nil)
	}
	return values[0], nil
}
