package callbacktest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
)

// SampleEvent is one of the sample Lambda events in the repository's events
// folder, with what the receiver should do with it.
type SampleEvent struct {
	Name    string // file name, such as "http-api-multipart.json"
	Payload []byte
	// StatusCode is the answer; JobID, Status and RequestID are those of the
	// queued event, when there is one.
	StatusCode int    `json:"status_code"`
	JobID      string `json:"job_id"`
	Status     string `json:"status"`
	RequestID  string `json:"request_id"`
	// Objects maps each stored key to the fixture whose bytes it must hold.
	Objects map[string]string `json:"objects"`
}

// Root is the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Fixture returns the bytes of a file in internal/callback/testdata.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(), "internal", "callback", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// SampleEvents returns every sample event of the receiver (events/*.json),
// sorted by name. It fails the test if an event has no expectation in
// events/expected/outcomes.json, or the reverse.
func SampleEvents(t testing.TB) []SampleEvent {
	t.Helper()
	dir := filepath.Join(Root(), "events")
	b, err := os.ReadFile(filepath.Join(dir, "expected", "outcomes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var expected map[string]SampleEvent
	if err := json.Unmarshal(b, &expected); err != nil {
		t.Fatalf("events/expected/outcomes.json: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	var events []SampleEvent
	for _, file := range files {
		name := filepath.Base(file)
		ev, ok := expected[name]
		if !ok {
			t.Fatalf("events/%s has no expectation in events/expected/outcomes.json", name)
		}
		delete(expected, name)
		ev.Name = name
		if ev.Payload, err = os.ReadFile(file); err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}
	for name := range expected {
		t.Fatalf("events/expected/outcomes.json names %s, which is not in events/", name)
	}
	sort.Slice(events, func(i, j int) bool { return events[i].Name < events[j].Name })
	return events
}
