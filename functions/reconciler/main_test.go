package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/jobsapi/jobsapitest"
)

// TestOnePass runs the binary outside Lambda with the local sinks: one pass,
// exit 0, the JSON summary the last line of stderr with the other logs; a
// refused key exits 1 with the error in that line; bad settings exit 2.
func TestOnePass(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "reconciler")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const key, cbURL = "sm-api-key-0123456789-SECRET", "https://cb.example.com/callback"
	api := jobsapitest.New(t, key)
	api.Add(jobsapitest.Job{ID: "lost1", CreatedAt: time.Now().Add(-time.Hour), Status: "done", Errors: []string{"Sending notification failed"},
		Notifications: []jobsapitest.Notification{{URL: cbURL, Contents: []string{"transcript.txt"}, AuthHeaders: []string{"Authorization: Bearer cb-SECRET"}}},
		Transcripts:   map[string][]byte{"txt": callbacktest.Fixture(t, "transcript-txt-example.txt")}})
	dir := t.TempDir()
	cases := []struct {
		name    string
		key     string
		code    int
		summary map[string]any
	}{
		{"recovers", key, 0, map[string]any{"msg": "reconcile run", "jobs_listed": 1.0, "jobs_ours": 1.0, "jobs_reconciled": 1.0,
			"contents_recovered": 1.0, "contents_unrecoverable": 0.0, "jobs_waiting": 0.0, "pages": 1.0}},
		{"again: nothing to do", key, 0, map[string]any{"msg": "reconcile run", "jobs_reconciled": 0.0}},
		{"refused key", "wrong-SECRET", 1, map[string]any{"msg": "reconcile run", "level": "ERROR"}},
		{"bad settings", "", 2, nil},
	}
	for _, c := range cases {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "LOCAL_DIR="+dir, "BUCKET_NAME=", "QUEUE_URL=", "AWS_LAMBDA_RUNTIME_API=", "AUTH_HEADERS=",
			"SPEECHMATICS_API_URL="+api.URL, "SPEECHMATICS_API_KEY="+c.key, "RECONCILE_CALLBACK_URL="+cbURL)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		var exit *exec.ExitError
		code := 0
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		}
		if code != c.code || len(out) != 0 || leaks(stderr.String()) {
			t.Errorf("%s: got exit %d, stdout %q, stderr %s, want exit %d, nothing on stdout, no secret", c.name, code, out, stderr.String(), c.code)
			continue
		}
		if c.summary == nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		var last map[string]any
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
			t.Fatalf("%s: last line %q: %v", c.name, lines[len(lines)-1], err)
		}
		for k, v := range c.summary {
			if last[k] != v {
				t.Errorf("%s: got %s = %v in the last line %s, want %v", c.name, k, last[k], lines[len(lines)-1], v)
			}
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "objects", "lost1", "transcript.txt")); string(b) != string(callbacktest.Fixture(t, "transcript-txt-example.txt")) {
		t.Errorf("got %q stored, want the txt transcript", b)
	}
}

func leaks(s string) bool {
	for _, secret := range []string{"sm-api-key-0123456789-SECRET", "wrong-SECRET", "cb-SECRET"} {
		if strings.Contains(s, secret) {
			return true
		}
	}
	return false
}
