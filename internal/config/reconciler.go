package config

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"smcallbacks/internal/callback"
)

// Settled-by rules of the reconciler.
const (
	// SettledByManifest: a job is settled when the assembler's manifest
	// lists every expected content (or says it failed).
	SettledByManifest = "manifest"
	// SettledByObjects: a job is settled when every expected object exists.
	SettledByObjects = "objects"
)

// Reconciler is every setting of the reconciler. It needs none of the
// receiver's auth settings: it receives no callbacks.
type Reconciler struct {
	// Lambda is true under the Lambda runtime.
	Lambda     bool
	BucketName string
	QueueURL   string
	LocalDir   string
	KeyPrefix  string
	// APIURL is the Jobs API's base URL.
	APIURL string
	// APIKey is the Speechmatics API key, or APIKeySecretID names the
	// Secrets Manager secret that holds it. Never printed.
	APIKey         string
	APIKeySecretID string
	// CallbackURL is the receiver's URL that our jobs notify.
	CallbackURL string
	Grace       time.Duration
	Lookback    time.Duration
	SettledBy   string
	// Job limits a run to one job, whatever its grace; Replay re-sends the
	// event of one job's stored objects and does nothing else.
	Job    string
	Replay string
	Observability
}

// Local reports whether the embedded local sinks are in use.
func (c *Reconciler) Local() bool { return c.BucketName == "" && c.QueueURL == "" }

// LoadReconciler reads the reconciler's configuration through getenv. Its
// error names every missing or invalid variable at once, and never quotes
// the API key.
func LoadReconciler(getenv func(string) string) (*Reconciler, error) {
	c := &Reconciler{
		Lambda: getenv("AWS_LAMBDA_RUNTIME_API") != "", BucketName: getenv("BUCKET_NAME"),
		QueueURL: getenv("QUEUE_URL"), LocalDir: orDefault(getenv("LOCAL_DIR"), ".local"),
		KeyPrefix: getenv("KEY_PREFIX"), APIURL: orDefault(getenv("SPEECHMATICS_API_URL"), "https://asr.api.speechmatics.com/v2"),
		APIKey: getenv("SPEECHMATICS_API_KEY"), APIKeySecretID: getenv("SPEECHMATICS_API_KEY_SECRET_ID"),
		CallbackURL: getenv("RECONCILE_CALLBACK_URL"), Job: getenv("RECONCILE_JOB"), Replay: getenv("RECONCILE_REPLAY"),
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	checkSinks(c.BucketName, c.QueueURL, c.KeyPrefix, c.Lambda, bad)
	c.checkAPI(bad)
	c.Grace = duration(getenv, "RECONCILE_GRACE", 10*time.Minute, 0, bad)
	c.Lookback = duration(getenv, "RECONCILE_LOOKBACK", 144*time.Hour, time.Minute, bad)
	c.SettledBy = orDefault(getenv("RECONCILE_SETTLED_BY"), SettledByObjects)
	switch {
	case c.SettledBy != SettledByManifest && c.SettledBy != SettledByObjects:
		bad("RECONCILE_SETTLED_BY: want manifest or objects, got %q", c.SettledBy)
	case c.SettledBy == SettledByManifest && c.Local():
		bad("RECONCILE_SETTLED_BY: manifest needs BUCKET_NAME: the assembler's manifests are in S3")
	}
	for name, v := range map[string]string{"RECONCILE_JOB": c.Job, "RECONCILE_REPLAY": c.Replay} {
		if v != "" && !callback.IsJobID(v) {
			bad("%s: want a job ID (letters, digits, '-' and '_'), got %q", name, v)
		}
	}
	if c.Job != "" && c.Replay != "" {
		bad("RECONCILE_JOB and RECONCILE_REPLAY: set one or the other")
	}
	c.Observability = loadObservability(getenv, bad)
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, errors.New("invalid configuration:\n  " + strings.Join(problems, "\n  "))
	}
	return c, nil
}

// checkAPI checks the Jobs API's settings; a replay needs none of them.
func (c *Reconciler) checkAPI(bad func(string, ...any)) {
	if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		bad("SPEECHMATICS_API_URL: want an absolute URL such as https://eu1.asr.api.speechmatics.com/v2, got %q", c.APIURL)
	}
	if c.Replay != "" {
		return
	}
	switch {
	case c.APIKey != "" && c.APIKeySecretID != "":
		bad("SPEECHMATICS_API_KEY and SPEECHMATICS_API_KEY_SECRET_ID: set one or the other")
	case c.APIKey == "" && c.APIKeySecretID == "":
		bad("SPEECHMATICS_API_KEY or SPEECHMATICS_API_KEY_SECRET_ID: required: the API key, or the secret that holds it")
	case c.Lambda && c.APIKey != "":
		bad("SPEECHMATICS_API_KEY: not under Lambda: keep the key in Secrets Manager (SPEECHMATICS_API_KEY_SECRET_ID)")
	}
	if u, err := url.Parse(c.CallbackURL); c.CallbackURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("RECONCILE_CALLBACK_URL: required: the receiver's URL as notification_config gives it, such as https://abc.execute-api.eu-west-1.amazonaws.com/callback, got %q", c.CallbackURL)
	}
}

// duration reads a Go duration of at least floor, def when unset.
func duration(getenv func(string) string, name string, def, floor time.Duration, bad func(string, ...any)) time.Duration {
	v := getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < floor {
		bad("%s: want a duration of at least %s, such as %s, got %q", name, floor, def, v)
		return def
	}
	return d
}
