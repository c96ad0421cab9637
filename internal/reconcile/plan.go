package reconcile

import (
	"net/url"
	"slices"
	"strings"

	"smcallbacks/internal/callback"
)

// fetchable are the contents the Jobs API can give back, in the order a
// reconciliation fetches them, with the transcript format of each.
var fetchable = []struct{ content, format string }{
	{callback.ContentTranscript, FormatJSON},
	{callback.ContentTxt, FormatTxt},
	{callback.ContentSRT, FormatSRT},
	{callback.ContentJobInfo, ""},
}

func isFetchable(content string) bool {
	return slices.ContainsFunc(fetchable, func(f struct{ content, format string }) bool { return f.content == content })
}

// formatOf is the transcript format of a content, "" for jobinfo.
func formatOf(content string) string {
	for _, f := range fetchable {
		if f.content == content {
			return f.format
		}
	}
	return ""
}

// sameURL compares a notification URL with the callback URL, both without
// their query strings and fragments.
func sameURL(notification, callbackURL string) bool {
	a, err1 := url.Parse(notification)
	b, err2 := url.Parse(callbackURL)
	if err1 != nil || err2 != nil {
		return false
	}
	a.RawQuery, a.Fragment, a.ForceQuery = "", "", false
	b.RawQuery, b.Fragment, b.ForceQuery = "", "", false
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host) && a.EscapedPath() == b.EscapedPath()
}

// ours returns the job's notification entries that call callbackURL.
func ours(job *Job, callbackURL string) []Notification {
	var mine []Notification
	for _, n := range job.Notifications {
		if sameURL(n.URL, callbackURL) {
			mine = append(mine, n)
		}
	}
	return mine
}

// expected splits the contents our entries ask for into those the Jobs API
// can give back and those it cannot (such as data and text), each sorted.
// "transcript" means transcript.json-v2, and an entry without contents the
// legacy transcript. A rejected job expects its jobinfo alone: its
// transcripts never come.
func expected(job *Job, mine []Notification) (want, unrecoverable []string) {
	set := map[string]bool{}
	for _, n := range mine {
		if !n.HasContents {
			set[callback.ContentTranscript] = true
		}
		for _, c := range n.Contents {
			if c == "transcript" {
				c = callback.ContentTranscript
			}
			set[c] = true
		}
	}
	for c := range set {
		switch {
		case job.Status == JobRejected && c != callback.ContentJobInfo:
		case isFetchable(c):
			want = append(want, c)
		default:
			unrecoverable = append(unrecoverable, c)
		}
	}
	slices.Sort(want)
	slices.Sort(unrecoverable)
	return want, unrecoverable
}

// gaveUp reports whether the job's errors show that a notification failed
// for good: "Sending notification failed", or "unable to send notification"
// without "retrying".
func gaveUp(job *Job) bool {
	for _, e := range job.Errors {
		m := strings.ToLower(e.Message)
		if strings.Contains(m, "sending notification failed") ||
			(strings.Contains(m, "unable to send notification") && !strings.Contains(m, "retrying")) {
			return true
		}
	}
	return false
}

// statusOf is the callback status a finished job's callback carries.
func statusOf(job *Job) string {
	if job.Status == JobRejected {
		return callback.StatusError
	}
	return callback.StatusSuccess
}

// contentOfKey names the content of a key below a job's prefix, for a store
// that keeps no metadata: the fixed names, data/ and other/.
func contentOfKey(rel string) string {
	for _, c := range callback.Contents() {
		if k, ok := callback.FixedKey(c); ok && k == rel {
			return c
		}
	}
	if strings.HasPrefix(rel, "data/") {
		return callback.ContentData
	}
	return callback.ContentOther
}
