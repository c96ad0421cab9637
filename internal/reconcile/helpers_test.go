package reconcile_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"smcallbacks/internal/assembler"
	"smcallbacks/internal/auth"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/jobsapi"
	"smcallbacks/internal/jobsapi/jobsapitest"
	"smcallbacks/internal/local"
	"smcallbacks/internal/reconcile"
)

// Secrets that must appear in no log line, event or object.
const (
	apiKey      = "sm-api-key-0123456789-SECRET"
	cbToken     = "Authorization: Bearer cb-token-9876543210-SECRET"
	callbackURL = "https://abc123.execute-api.eu-west-1.amazonaws.com/callback"
)

// fixture is a reconciler over the local sinks, or S3 and SQS in moto,
// and the fake Jobs API, with a clock the test moves.
type fixture struct {
	t    *testing.T
	api  *jobsapitest.Server
	dir  string
	aws  *awsSinks // nil for the local sinks
	core *callback.Service
	logs *callbacktest.SyncBuffer
	now  time.Time
	cfg  reconcile.Config
}

// Where a fixture stores and queues.
const (
	onLocal = "local sinks"
	onMoto  = "S3 and SQS in moto"
)

func newFixture(t *testing.T) *fixture { return newFixtureOn(t, onLocal) }

func newFixtureOn(t *testing.T, sinks string) *fixture {
	f := &fixture{t: t, api: jobsapitest.New(t, apiKey), dir: t.TempDir(), logs: &callbacktest.SyncBuffer{},
		now: time.Now().UTC().Truncate(time.Millisecond)}
	logger := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	core := callback.Config{Auth: auth.Disabled{}, KeyPrefix: "tx/", Logger: logger, Now: func() time.Time { return f.now }}
	var index reconcile.ObjectIndex
	var state reconcile.StateStore
	if sinks == onMoto {
		f.aws = newAWSSinks(t)
		core.Store, core.Queue, core.Bucket = f.aws.store, f.aws.queue, f.aws.bucket
		index, state = f.aws.index, f.aws.state
	} else {
		store, err := local.NewStore(filepath.Join(f.dir, "objects"))
		if err != nil {
			t.Fatal(err)
		}
		queue, err := local.NewQueue(filepath.Join(f.dir, "events.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		core.Store, core.Queue = store, queue
		index, state = local.NewIndex(filepath.Join(f.dir, "objects")), local.NewBlob(filepath.Join(f.dir, "state.json"))
	}
	f.core = callbacktest.NewService(t, core)
	client, err := jobsapi.New(jobsapi.Config{BaseURL: f.api.URL, APIKey: apiKey, BaseDelay: 5 * time.Millisecond, MaxDelay: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f.cfg = reconcile.Config{API: client, Index: index, State: state, Core: f.core, KeyPrefix: "tx/",
		CallbackURL: callbackURL, Grace: 10 * time.Minute, Lookback: 144 * time.Hour,
		Now: func() time.Time { return f.now }, Logger: logger}
	t.Cleanup(func() { f.checkNoSecrets() })
	return f
}

func (f *fixture) reconciler() *reconcile.Reconciler {
	r, err := reconcile.New(f.cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// run runs one pass and fails the test on an error.
func (f *fixture) run() *reconcile.Summary {
	f.t.Helper()
	sum, err := f.reconciler().Run(context.Background())
	if err != nil {
		f.t.Fatalf("run: %v", err)
	}
	return sum
}

// events returns the events queued so far.
func (f *fixture) events() []*callback.Event {
	f.t.Helper()
	if f.aws != nil {
		return f.aws.events(f.t)
	}
	file, err := os.Open(filepath.Join(f.dir, "events.jsonl"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		f.t.Fatal(err)
	}
	defer file.Close()
	var evs []*callback.Event
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		callbacktest.CheckEventSchema(f.t, sc.Bytes())
		var ev callback.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			f.t.Fatal(err)
		}
		evs = append(evs, &ev)
	}
	return evs
}

// object returns the stored bytes at key, nil when there are none.
func (f *fixture) object(key string) []byte {
	if f.aws != nil {
		return f.aws.object(f.t, key)
	}
	b, err := os.ReadFile(filepath.Join(f.dir, "objects", filepath.FromSlash(key)))
	if err != nil {
		return nil
	}
	return b
}

// callback delivers a real callback through the core: what Speechmatics
// would have sent.
func (f *fixture) callback(jobID, status, content string, body []byte) {
	f.t.Helper()
	h := map[string][]string{"Content-Type": {"application/json"}, "User-Agent": {"Speechmatics-API/2.0"}}
	switch content {
	case callback.ContentTxt:
		h["Content-Type"] = []string{"text/plain"}
	case callback.ContentData:
		h["Content-Type"] = []string{"audio/wav"}
	}
	resp := f.core.Handle(context.Background(), &callback.Request{Method: "POST", RawQuery: "id=" + jobID + "&status=" + status,
		Header: h, Body: bytes.NewReader(body), SourceIP: "40.74.41.91", RequestID: "cb-" + jobID})
	if resp.StatusCode != 200 {
		f.t.Fatalf("callback: got %d %s", resp.StatusCode, resp.Body)
	}
}

// checkNoSecrets fails the test if the API key or a callback token is in a
// log line, an event or an object.
func (f *fixture) checkNoSecrets() {
	var found []string
	filepath.WalkDir(f.dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(path)
			if containsSecret(string(b)) {
				found = append(found, path)
			}
		}
		return nil
	})
	if containsSecret(f.logs.String()) {
		found = append(found, "the log")
	}
	if f.aws != nil {
		found = append(found, f.aws.secretsFound(f.t)...)
	}
	if len(found) > 0 {
		f.t.Errorf("a secret is in %v", found)
	}
}

func containsSecret(s string) bool {
	return strings.Contains(s, apiKey) || strings.Contains(s, "cb-token-9876543210")
}

// ours is a notification entry to the receiver, with the callback token.
func ours(contents ...string) jobsapitest.Notification {
	if contents == nil {
		contents = []string{}
	}
	return jobsapitest.Notification{URL: callbackURL + "?token=x", Contents: contents, AuthHeaders: []string{cbToken}}
}

// transcripts are the Jobs API's answers for a done job.
func transcripts(t *testing.T) map[string][]byte {
	return map[string][]byte{
		"json-v2": callbacktest.Fixture(t, "transcript-json-v2-example.json"),
		"txt":     callbacktest.Fixture(t, "transcript-txt-example.txt"),
		"srt":     callbacktest.Fixture(t, "transcript-srt-excerpt.srt"),
	}
}

var gaveUp = []string{
	"Error in sending notification: unable to send notification: Response status: 500, retrying",
	"unable to send notification: unable to send notification: Response status: 500",
	"Sending notification failed",
}

// memManifests is the assembler's store in memory, with versions.
type memManifests struct {
	mu sync.Mutex
	m  map[string]*assembler.Manifest
	v  map[string]int
}

func newMemManifests() *memManifests {
	return &memManifests{m: map[string]*assembler.Manifest{}, v: map[string]int{}}
}

func (s *memManifests) Get(_ context.Context, id string) (*assembler.Manifest, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.m[id]
	if !ok {
		return nil, "", assembler.ErrNotFound
	}
	b, _ := json.Marshal(m)
	var c assembler.Manifest
	json.Unmarshal(b, &c)
	return &c, strconv.Itoa(s.v[id]), nil
}

func (s *memManifests) Put(_ context.Context, id string, m *assembler.Manifest, version string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[id]; (version == "" && ok) || (version != "" && version != strconv.Itoa(s.v[id])) {
		return "", assembler.ErrConflict
	}
	s.m[id], s.v[id] = m, s.v[id]+1
	return strconv.Itoa(s.v[id]), nil
}

// announcements counts the assembler's messages per job.
type announcements struct {
	mu  sync.Mutex
	got map[string][]string
}

func (a *announcements) Announce(_ context.Context, msg *assembler.Message) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.got == nil {
		a.got = map[string][]string{}
	}
	a.got[msg.JobID] = append(a.got[msg.JobID], msg.Type)
	return nil
}

// assemble feeds events to an assembler expecting transcript and jobinfo.
func assemble(t *testing.T, store *memManifests, ann *announcements, evs []*callback.Event) {
	t.Helper()
	a := &assembler.Assembler{Store: store, Announcer: ann, Logger: slog.New(slog.DiscardHandler),
		Expected: []string{callback.ContentTranscript, callback.ContentJobInfo}}
	for _, ev := range evs {
		if _, err := a.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
}
