package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"smcallbacks/internal/auth"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"AUTH_HEADERS": "Authorization: Bearer t"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxBodyBytes != 10<<30 {
		t.Errorf("MaxBodyBytes: got %d, want 10 GiB", c.MaxBodyBytes)
	}
	if !c.Local() || c.Lambda || c.LocalDir != ".local" || c.ListenAddr != "127.0.0.1:8080" || c.KeyPrefix != "" || c.LogLevel != slog.LevelInfo || c.AuthDisabled {
		t.Errorf("got %+v, want the local defaults", c)
	}
	if want := []auth.Credential{{Name: "Authorization", Value: "Bearer t"}}; len(c.AuthHeaders) != 1 || c.AuthHeaders[0] != want[0] {
		t.Errorf("AuthHeaders: got %v, want %v", c.AuthHeaders, want)
	}
}

func TestLoad(t *testing.T) {
	const hdr = "Authorization: Bearer t"
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string // each must appear in the error; nil for none
		check   func(*Config) bool
	}{
		{"all set", map[string]string{"AUTH_HEADERS": hdr, "LOCAL_DIR": "/tmp/x", "KEY_PREFIX": "transcripts/", "LISTEN_ADDR": ":9000", "LOG_LEVEL": "debug"}, nil,
			func(c *Config) bool {
				return c.LocalDir == "/tmp/x" && c.KeyPrefix == "transcripts/" && c.ListenAddr == ":9000" && c.LogLevel == slog.LevelDebug
			}},
		{"aws sinks", map[string]string{"AUTH_HEADERS": hdr, "BUCKET_NAME": "b", "QUEUE_URL": "q"}, nil,
			func(c *Config) bool { return !c.Local() && c.BucketName == "b" && c.QueueURL == "q" }},
		{"lambda with aws sinks", map[string]string{"AUTH_HEADERS": hdr, "BUCKET_NAME": "b", "QUEUE_URL": "q", "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}, nil,
			func(c *Config) bool { return c.Lambda }},
		{"auth disabled", map[string]string{"AUTH_DISABLED": "true"}, nil, func(c *Config) bool { return c.AuthDisabled }},
		{"bucket without queue", map[string]string{"AUTH_HEADERS": hdr, "BUCKET_NAME": "b"}, []string{"QUEUE_URL: required with BUCKET_NAME"}, nil},
		{"queue without bucket", map[string]string{"AUTH_HEADERS": hdr, "QUEUE_URL": "q"}, []string{"BUCKET_NAME: required with QUEUE_URL"}, nil},
		{"lambda without sinks", map[string]string{"AUTH_HEADERS": hdr, "AWS_LAMBDA_RUNTIME_API": "x"}, []string{"BUCKET_NAME and QUEUE_URL: required under Lambda"}, nil},
		{"no auth source", map[string]string{}, []string{"AUTH_HEADERS or AUTH_SECRET_ID: no auth source"}, nil},
		{"AUTH_DISABLED=false is not disabled", map[string]string{"AUTH_DISABLED": "false"}, []string{"AUTH_HEADERS or AUTH_SECRET_ID: no auth source"}, nil},
		{"secret alone", map[string]string{"AUTH_SECRET_ID": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cb-AbCdEf", "AUTH_SECRET_REFRESH": "90s"}, nil,
			func(c *Config) bool {
				return c.AuthSecretID != "" && c.AuthSecretRefresh == 90*time.Second && len(c.AuthHeaders) == 0
			}},
		{"secret refresh defaults to 5m", map[string]string{"AUTH_SECRET_ID": "s"}, nil,
			func(c *Config) bool { return c.AuthSecretRefresh == 5*time.Minute }},
		{"bad secret refresh", map[string]string{"AUTH_SECRET_ID": "s", "AUTH_SECRET_REFRESH": "often"}, []string{`AUTH_SECRET_REFRESH: want a duration of at least 1s, such as 5m, got "often"`}, nil},
		{"too short a refresh", map[string]string{"AUTH_SECRET_ID": "s", "AUTH_SECRET_REFRESH": "1ms"}, []string{"AUTH_SECRET_REFRESH"}, nil},
		{"bad AUTH_DISABLED", map[string]string{"AUTH_HEADERS": hdr, "AUTH_DISABLED": "yes"}, []string{`AUTH_DISABLED: want true or false, got "yes"`}, nil},
		{"bad header line", map[string]string{"AUTH_HEADERS": "Authorization:Bearer hunter2"}, []string{`AUTH_HEADERS: line 1: want "Name: value"`}, nil},
		{"body limit", map[string]string{"AUTH_HEADERS": hdr, "MAX_BODY_BYTES": "1048576"}, nil,
			func(c *Config) bool { return c.MaxBodyBytes == 1<<20 }},
		{"bad body limit", map[string]string{"AUTH_HEADERS": hdr, "MAX_BODY_BYTES": "10GB"}, []string{`MAX_BODY_BYTES: want a positive number of bytes, got "10GB"`}, nil},
		{"bad listen address", map[string]string{"AUTH_HEADERS": hdr, "LISTEN_ADDR": "8080"}, []string{`LISTEN_ADDR: want host:port`}, nil},
		{"allowlist", map[string]string{"AUTH_HEADERS": hdr, "ALLOWED_SOURCE_IPS": "eu1, 203.0.113.0/24", "TRUSTED_PROXIES": "10.0.0.0/8", "BODY_IDLE_TIMEOUT": "30s"}, nil,
			func(c *Config) bool {
				return c.AllowedSources.Contains("40.74.41.91") && c.AllowedSources.Contains("203.0.113.9") && !c.AllowedSources.Contains("10.0.0.1") &&
					c.TrustedProxies.Contains("10.0.0.1") && c.BodyIdleTimeout == 30*time.Second
			}},
		{"no allowlist", map[string]string{"AUTH_HEADERS": hdr}, nil,
			func(c *Config) bool {
				return c.AllowedSources.Empty() && c.TrustedProxies.Empty() && c.BodyIdleTimeout == time.Minute
			}},
		{"bad allowlist", map[string]string{"AUTH_HEADERS": hdr, "ALLOWED_SOURCE_IPS": "eu9", "TRUSTED_PROXIES": "eu1", "BODY_IDLE_TIMEOUT": "0"},
			[]string{`ALLOWED_SOURCE_IPS: want a CIDR, an IP, or eu1, eu2, us1, us2, au1, got "eu9"`, `TRUSTED_PROXIES: want a CIDR or an IP, got "eu1"`, "BODY_IDLE_TIMEOUT"}, nil},
		{"bad log level", map[string]string{"AUTH_HEADERS": hdr, "LOG_LEVEL": "loud"}, []string{`LOG_LEVEL: want debug, info, warn or error, got "loud"`}, nil},
		{"metrics namespace and Lambda's names", map[string]string{"AUTH_HEADERS": hdr, "METRICS_NAMESPACE": "Team/Callbacks",
			"AWS_LAMBDA_FUNCTION_NAME": "stack-CallbackFunction-x", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST"}, nil,
			func(c *Config) bool {
				return c.MetricsNamespace == "Team/Callbacks" && c.FunctionName == "stack-CallbackFunction-x" && c.FunctionVersion == "$LATEST"
			}},
		{"default metrics namespace", map[string]string{"AUTH_HEADERS": hdr}, nil,
			func(c *Config) bool { return c.MetricsNamespace == "SpeechmaticsCallbacks" && c.FunctionName == "" }},
		{"bad metrics namespace", map[string]string{"AUTH_HEADERS": hdr, "METRICS_NAMESPACE": ":Callbacks"}, []string{`METRICS_NAMESPACE: want up to 255`}, nil},
		{"namespace too long", map[string]string{"AUTH_HEADERS": hdr, "METRICS_NAMESPACE": strings.Repeat("a", 256)}, []string{`METRICS_NAMESPACE`}, nil},
		{"absolute prefix", map[string]string{"AUTH_HEADERS": hdr, "KEY_PREFIX": "/x/"}, []string{"KEY_PREFIX: must not start with '/'"}, nil},
		{"prefix climbing out", map[string]string{"AUTH_HEADERS": hdr, "KEY_PREFIX": "a/../../"}, []string{"KEY_PREFIX: must not contain '.' or '..'"}, nil},
		{"prefix with backslash", map[string]string{"AUTH_HEADERS": hdr, "KEY_PREFIX": `a\`}, []string{`KEY_PREFIX: must not contain '\'`}, nil},
		{"prefix with newline", map[string]string{"AUTH_HEADERS": hdr, "KEY_PREFIX": "a\n"}, []string{"KEY_PREFIX: must not contain control characters"}, nil},
		{"every problem at once", map[string]string{"BUCKET_NAME": "b", "AUTH_HEADERS": "nope hunter2", "LOG_LEVEL": "x", "KEY_PREFIX": "/"},
			[]string{"QUEUE_URL", "AUTH_HEADERS: line 1", "LOG_LEVEL", "KEY_PREFIX"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.env))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				if !tt.check(c) {
					t.Errorf("got %+v", c)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %+v, want an error", c)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got %q, want it to say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error quotes a secret: %q", err)
			}
		})
	}
}

func TestLoadAssembler(t *testing.T) {
	c, err := LoadAssembler(env(map[string]string{"BUCKET_NAME": "b", "OUTPUT_QUEUE_URL": "q", "KEY_PREFIX": "t/",
		"EXPECTED_CONTENTS": "transcript.json-v2, jobinfo,", "LOG_LEVEL": "warn"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.BucketName != "b" || c.OutputQueueURL != "q" || c.KeyPrefix != "t/" || strings.Join(c.ExpectedContents, ",") != "transcript.json-v2,jobinfo" || c.LogLevel != slog.LevelWarn {
		t.Errorf("got %+v", c)
	}
	_, err = LoadAssembler(env(map[string]string{"EXPECTED_CONTENTS": "transcript,jobinfo", "KEY_PREFIX": "/", "LOG_LEVEL": "x"}))
	for _, want := range []string{"BUCKET_NAME: required", "OUTPUT_QUEUE_URL: required", `unknown content "transcript"`, "KEY_PREFIX", "LOG_LEVEL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want it to say %q", err, want)
		}
	}
}

// TestVariablesListEveryOneRead keeps the usage text's list and Load in
// step: Load reads exactly the listed variables.
func TestVariablesListEveryOneRead(t *testing.T) {
	read := map[string]bool{}
	Load(func(name string) string {
		read[name] = true
		return ""
	})
	listed := map[string]bool{}
	for _, v := range Variables {
		listed[v.Name] = true
		if !read[v.Name] {
			t.Errorf("%s is listed but Load does not read it", v.Name)
		}
	}
	for name := range read {
		if !listed[name] {
			t.Errorf("Load reads %s, which the usage text does not list", name)
		}
	}
	var out strings.Builder
	Usage(&out)
	for _, v := range Variables {
		if !strings.Contains(out.String(), v.Name) {
			t.Errorf("the usage text does not name %s", v.Name)
		}
	}
}
