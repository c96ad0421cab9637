// Package config loads the callback receiver's settings from the environment.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"smcallbacks/internal/auth"
	"smcallbacks/internal/sourceip"
)

// Config is every setting of the callback receiver.
type Config struct {
	// Lambda is true under the Lambda runtime (AWS_LAMBDA_RUNTIME_API set).
	Lambda bool
	// BucketName and QueueURL select the S3 and SQS sinks; both empty
	// selects the embedded local sinks under LocalDir.
	BucketName string
	QueueURL   string
	LocalDir   string
	// KeyPrefix goes, exactly as given, in front of every object key.
	KeyPrefix string
	// AuthHeaders are the accepted header lines.
	AuthHeaders []auth.Credential
	// AuthSecretID names a Secrets Manager secret of accepted credentials,
	// re-read every AuthSecretRefresh.
	AuthSecretID      string
	AuthSecretRefresh time.Duration
	// AuthDisabled accepts every caller; only AUTH_DISABLED=true sets it.
	AuthDisabled bool
	ListenAddr   string
	// AllowedSources, when not empty, are the only addresses accepted.
	AllowedSources *sourceip.List
	// TrustedProxies are the peers whose X-Forwarded-For is believed, in
	// server mode.
	TrustedProxies *sourceip.List
	// BodyIdleTimeout cuts off a server-mode upload that sends no byte for
	// this long.
	BodyIdleTimeout time.Duration
	// KeepAliveTimeout is how long server mode keeps a connection that
	// is idle between requests: behind a load balancer, longer than its.
	KeepAliveTimeout time.Duration
	// MaxBodyBytes bounds a callback's body in server mode (API Gateway
	// bounds it under Lambda).
	MaxBodyBytes int64
	Observability
}

// Local reports whether the embedded local sinks are in use.
func (c *Config) Local() bool { return c.BucketName == "" && c.QueueURL == "" }

// Load reads the configuration through getenv, usually os.Getenv. Its error
// names every missing or invalid variable at once, and never quotes a secret.
func Load(getenv func(string) string) (*Config, error) {
	c := &Config{
		Lambda:     getenv("AWS_LAMBDA_RUNTIME_API") != "",
		BucketName: getenv("BUCKET_NAME"),
		QueueURL:   getenv("QUEUE_URL"),
		LocalDir:   orDefault(getenv("LOCAL_DIR"), ".local"),
		KeyPrefix:  getenv("KEY_PREFIX"),
		ListenAddr: orDefault(getenv("LISTEN_ADDR"), "127.0.0.1:8080"),

		AuthSecretID:      getenv("AUTH_SECRET_ID"),
		AuthSecretRefresh: 5 * time.Minute,
		MaxBodyBytes:      10 << 30,
		BodyIdleTimeout:   time.Minute,
		KeepAliveTimeout:  10 * time.Second,
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	checkSinks(c.BucketName, c.QueueURL, c.KeyPrefix, c.Lambda, bad)

	var err error
	if c.AuthHeaders, err = auth.ParseLines(getenv("AUTH_HEADERS")); err != nil {
		bad("AUTH_HEADERS: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	switch v := getenv("AUTH_DISABLED"); v {
	case "", "false":
	case "true":
		c.AuthDisabled = true
	default:
		bad("AUTH_DISABLED: want true or false, got %q", v)
	}
	if !c.AuthDisabled && len(c.AuthHeaders) == 0 && c.AuthSecretID == "" && err == nil {
		bad("AUTH_HEADERS or AUTH_SECRET_ID: no auth source: set the header lines to accept, a secret that holds them, or AUTH_DISABLED=true")
	}
	if v := getenv("AUTH_SECRET_REFRESH"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			bad("AUTH_SECRET_REFRESH: want a duration of at least 1s, such as 5m, got %q", v)
		}
		c.AuthSecretRefresh = d
	}

	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		bad("LISTEN_ADDR: want host:port, such as 127.0.0.1:8080 or :8080, got %q", c.ListenAddr)
	}
	if v := getenv("MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			bad("MAX_BODY_BYTES: want a positive number of bytes, got %q", v)
		}
		c.MaxBodyBytes = n
	}
	if c.AllowedSources, err = sourceip.Parse(getenv("ALLOWED_SOURCE_IPS"), true); err != nil {
		bad("ALLOWED_SOURCE_IPS: %v", err)
	}
	if c.TrustedProxies, err = sourceip.Parse(getenv("TRUSTED_PROXIES"), false); err != nil {
		bad("TRUSTED_PROXIES: %v", err)
	}
	if v := getenv("BODY_IDLE_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			bad("BODY_IDLE_TIMEOUT: want a duration of at least 1s, such as 1m, got %q", v)
		}
		c.BodyIdleTimeout = d
	}
	if v := getenv("KEEPALIVE_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			bad("KEEPALIVE_TIMEOUT: want a duration of at least 1s, such as 10s, got %q", v)
		}
		c.KeepAliveTimeout = d
	}
	c.Observability = loadObservability(getenv, bad)
	if len(problems) > 0 {
		return nil, errors.New("invalid configuration:\n  " + strings.Join(problems, "\n  "))
	}
	return c, nil
}

// checkSinks checks the settings of the sinks: S3 and SQS together, or
// neither for the local sinks (not under Lambda), and a safe key prefix.
func checkSinks(bucket, queueURL, keyPrefix string, lambda bool, bad func(string, ...any)) {
	switch {
	case bucket != "" && queueURL == "":
		bad("QUEUE_URL: required with BUCKET_NAME")
	case bucket == "" && queueURL != "":
		bad("BUCKET_NAME: required with QUEUE_URL")
	case lambda && bucket == "" && queueURL == "":
		bad("BUCKET_NAME and QUEUE_URL: required under Lambda")
	}
	if err := checkKeyPrefix(keyPrefix); err != nil {
		bad("KEY_PREFIX: %v", err)
	}
}

// logLevel reads LOG_LEVEL, info when unset.
func logLevel(getenv func(string) string, bad func(string, ...any)) slog.Level {
	var level slog.Level
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			bad("LOG_LEVEL: want debug, info, warn or error, got %q", v)
		}
	}
	return level
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// checkKeyPrefix keeps keys inside the bucket's or directory's tree: the
// prefix is used exactly as given, so it must be safe as it is.
func checkKeyPrefix(p string) error {
	if strings.HasPrefix(p, "/") {
		return errors.New("must not start with '/'")
	}
	if strings.ContainsAny(p, `\`) {
		return errors.New("must not contain '\\'")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return errors.New("must not contain control characters")
		}
	}
	for _, elem := range strings.Split(p, "/") {
		if elem == "." || elem == ".." {
			return errors.New("must not contain '.' or '..' path elements")
		}
	}
	return nil
}
