package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoadReconcilerDefaults(t *testing.T) {
	env := map[string]string{"SPEECHMATICS_API_KEY": "k-SECRET", "RECONCILE_CALLBACK_URL": "https://cb.example.com/callback"}
	c, err := LoadReconciler(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.APIURL != "https://asr.api.speechmatics.com/v2" || c.Grace != 10*time.Minute || c.Lookback != 144*time.Hour ||
		c.SettledBy != SettledByObjects || !c.Local() || c.LocalDir != ".local" {
		t.Errorf("got %+v, want the defaults", c)
	}
}

// TestLoadReconciler: one error names every bad variable, never the key;
// the receiver's auth settings are not needed.
func TestLoadReconciler(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want []string // each in the error; none: no error
	}{
		{"nothing set", nil, []string{"SPEECHMATICS_API_KEY or SPEECHMATICS_API_KEY_SECRET_ID: required", "RECONCILE_CALLBACK_URL: required"}},
		{"as deployed", map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "BUCKET_NAME": "b", "QUEUE_URL": "q",
			"SPEECHMATICS_API_KEY_SECRET_ID": "arn:s", "RECONCILE_CALLBACK_URL": "https://a.example.com/callback", "RECONCILE_SETTLED_BY": "manifest"}, nil},
		{"replay needs no API", map[string]string{"RECONCILE_REPLAY": "r6sr3jlzjj"}, nil},
		{"every bad variable", map[string]string{
			"SPEECHMATICS_API_KEY": "k-SECRET", "SPEECHMATICS_API_KEY_SECRET_ID": "s", "SPEECHMATICS_API_URL": "asr.example.com",
			"RECONCILE_CALLBACK_URL": "/callback", "RECONCILE_GRACE": "soon", "RECONCILE_LOOKBACK": "1s",
			"RECONCILE_SETTLED_BY": "magic", "RECONCILE_JOB": "../x", "KEY_PREFIX": "/abs", "BUCKET_NAME": "b", "LOG_LEVEL": "loud",
		}, []string{"SPEECHMATICS_API_KEY and SPEECHMATICS_API_KEY_SECRET_ID", "SPEECHMATICS_API_URL", "RECONCILE_CALLBACK_URL",
			"RECONCILE_GRACE", "RECONCILE_LOOKBACK", "RECONCILE_SETTLED_BY", "RECONCILE_JOB", "KEY_PREFIX", "QUEUE_URL", "LOG_LEVEL"}},
		{"manifest without a bucket", map[string]string{"SPEECHMATICS_API_KEY": "k-SECRET", "RECONCILE_CALLBACK_URL": "https://a.example.com/cb",
			"RECONCILE_SETTLED_BY": "manifest"}, []string{"RECONCILE_SETTLED_BY: manifest needs BUCKET_NAME"}},
		{"key in the environment under Lambda", map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "BUCKET_NAME": "b", "QUEUE_URL": "q",
			"SPEECHMATICS_API_KEY": "k-SECRET", "RECONCILE_CALLBACK_URL": "https://a.example.com/cb"}, []string{"SPEECHMATICS_API_KEY: not under Lambda"}},
		{"job and replay", map[string]string{"SPEECHMATICS_API_KEY": "k-SECRET", "RECONCILE_CALLBACK_URL": "https://a.example.com/cb",
			"RECONCILE_JOB": "a1", "RECONCILE_REPLAY": "a1"}, []string{"RECONCILE_JOB and RECONCILE_REPLAY"}},
	}
	for _, c := range cases {
		_, err := LoadReconciler(func(k string) string { return c.env[k] })
		if len(c.want) == 0 {
			if err != nil {
				t.Errorf("%s: got %v, want no error", c.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: got nil, want an error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: got %v, want it to name %q", c.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "k-SECRET") || strings.Contains(err.Error(), "AUTH_") {
			t.Errorf("%s: got %v: it quotes the key or asks for the receiver's auth", c.name, err)
		}
	}
}
