package assembler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
)

// strictStore is a race-safe Store: a write succeeds only against the version
// it read, as S3's conditional writes promise. It counts the writes that
// changed a job's state.
type strictStore struct {
	mu          sync.Mutex
	manifests   map[string][]byte
	versions    map[string]int
	puts        int
	transitions int
}

func newStrictStore() *strictStore {
	return &strictStore{manifests: map[string][]byte{}, versions: map[string]int{}}
}

func (s *strictStore) Get(_ context.Context, jobID string) (*Manifest, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.manifests[jobID]
	if !ok {
		return nil, "", ErrNotFound
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, "", err
	}
	return &m, strconv.Itoa(s.versions[jobID]), nil
}

func (s *strictStore) Put(_ context.Context, jobID string, m *Manifest, version string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	current := ""
	if _, ok := s.manifests[jobID]; ok {
		current = strconv.Itoa(s.versions[jobID])
	}
	if version != current {
		return "", ErrConflict
	}
	old := StatePending
	if b, ok := s.manifests[jobID]; ok {
		var prev Manifest
		json.Unmarshal(b, &prev)
		old = prev.State
	}
	if old != m.State {
		s.transitions++
	}
	b, _ := json.Marshal(m)
	s.manifests[jobID] = b
	s.versions[jobID]++
	s.puts++
	return strconv.Itoa(s.versions[jobID]), nil
}

type announcements struct {
	mu   sync.Mutex
	msgs []*Message
	err  error
}

func (a *announcements) Announce(_ context.Context, msg *Message) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	a.msgs = append(a.msgs, msg)
	return nil
}

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func event(status string, at time.Duration, contents ...string) *callback.Event {
	ev := &callback.Event{Version: 1, JobID: "r6sr3jlzjj", Status: status, ReceivedAt: t0.Add(at),
		RequestID: fmt.Sprintf("%s-%s", status, at), Attachments: []callback.Attachment{}}
	for _, c := range contents {
		ev.Attachments = append(ev.Attachments, callback.Attachment{Content: c, Bucket: "b", Key: "r6sr3jlzjj/" + c, SHA256: "sha-" + c})
	}
	return ev
}

var expected = []string{"transcript.json-v2", "transcript.srt", "jobinfo", "data"}

// jobEvents are the events of a job's three callbacks: the transcript
// alone, the SRT alone, and the job info with the media.
func jobEvents() []*callback.Event {
	return []*callback.Event{
		event("success", 3*time.Second, "transcript.json-v2"),
		event("success", 1*time.Second, "transcript.srt"),
		event("success", 2*time.Second, "jobinfo", "data"),
	}
}

func newAssembler() (*Assembler, *strictStore, *announcements) {
	store, ann := newStrictStore(), &announcements{}
	return &Assembler{Store: store, Announcer: ann, Expected: expected,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}, store, ann
}

// TestEveryOrder handles a job's three callbacks in every order, each
// delivered twice, the two copies at once: the final manifest is the same
// every time, the state changes exactly once, and every message sent is the
// same job.completed.
func TestEveryOrder(t *testing.T) {
	var first []byte
	// The three callbacks, and the transcript's again, received later.
	events := append(jobEvents(), event("success", 5*time.Second, "transcript.json-v2"))
	for _, order := range callbacktest.Permutations([]int{0, 1, 2, 3}) {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			a, store, ann := newAssembler()
			for _, i := range order {
				var wg sync.WaitGroup
				for range 2 {
					wg.Go(func() {
						if _, err := a.Handle(context.Background(), events[i]); err != nil {
							t.Error(err)
						}
					})
				}
				wg.Wait()
			}
			if store.transitions != 1 {
				t.Errorf("got %d state changes, want 1", store.transitions)
			}
			final := store.manifests["r6sr3jlzjj"]
			if first == nil {
				first = final
			} else if string(final) != string(first) {
				t.Errorf("final manifest differs with this order:\ngot  %s\nwant %s", final, first)
			}
			if len(ann.msgs) == 0 {
				t.Fatal("no job.completed message")
			}
			for _, msg := range ann.msgs {
				// Dated by what had arrived when it was sent: the transcript's
				// retry may come before the transcript itself.
				if msg.Type != "job.completed" || msg.DeduplicationID() != "r6sr3jlzjj:job.completed" || len(msg.Contents) != 4 ||
					!(msg.CompletedAt.Equal(t0.Add(3*time.Second)) || msg.CompletedAt.Equal(t0.Add(5*time.Second))) {
					t.Errorf("got message %+v", msg)
				}
			}
		})
	}
	var m Manifest
	json.Unmarshal(first, &m)
	if m.State != StateCompleted || !m.Announced || len(m.Statuses) != 1 || !m.Statuses[0].ReceivedAt.Equal(t0.Add(time.Second)) ||
		!m.EndedAt.Equal(t0.Add(3*time.Second)) {
		t.Errorf("got manifest %s", first)
	}
}

func TestApply(t *testing.T) {
	tests := []struct {
		name      string
		events    []*callback.Event
		wantState string
	}{
		{"partly", jobEvents()[:2], StatePending},
		{"all", jobEvents(), StateCompleted},
		{"error status fails the job", []*callback.Event{event("success", time.Second, "transcript.srt"), event("error", 2*time.Second, "jobinfo")}, StateFailed},
		{"fetch_error", []*callback.Event{event("fetch_error", time.Second)}, StateFailed},
		{"trim_error", []*callback.Event{event("trim_error", time.Second)}, StateFailed},
		{"unknown status changes no state", []*callback.Event{event("brand_new", time.Second)}, StatePending},
		{"completed stays completed", append(jobEvents(), event("error", 9*time.Second)), StateCompleted},
		{"two errors", []*callback.Event{event("error", 7*time.Second), event("error", 5*time.Second)}, StateFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewManifest("r6sr3jlzjj")
			for _, ev := range tt.events {
				m, _ = Apply(m, ev, expected)
			}
			if m.State != tt.wantState {
				t.Errorf("got %s, want %s", m.State, tt.wantState)
			}
			if again, changed := Apply(m, tt.events[0], expected); changed || !again.equal(m) {
				t.Error("applying an event again changed the manifest")
			}
		})
	}
}

func TestFailedMessage(t *testing.T) {
	a, _, ann := newAssembler()
	for _, ev := range []*callback.Event{event("success", time.Second, "transcript.srt"), event("fetch_error", 2*time.Second)} {
		if _, err := a.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(ann.msgs) != 1 || ann.msgs[0].Type != "job.failed" || ann.msgs[0].Contents["transcript.srt"] != "r6sr3jlzjj/transcript.srt" ||
		ann.msgs[0].DeduplicationID() != "r6sr3jlzjj:job.failed" {
		t.Errorf("got %+v, want one job.failed", ann.msgs)
	}
}

// TestAnnounceRetried fails the message once: the event fails, and handling
// it again sends the message, though the state had already changed.
func TestAnnounceRetried(t *testing.T) {
	a, store, ann := newAssembler()
	events := jobEvents()
	for _, ev := range events[:2] {
		a.Handle(context.Background(), ev)
	}
	ann.err = errors.New("queue down")
	if _, err := a.Handle(context.Background(), events[2]); err == nil {
		t.Fatal("got nil, want the announce error")
	}
	ann.err = nil
	end, err := a.Handle(context.Background(), events[2])
	if err != nil {
		t.Fatal(err)
	}
	// The job's events arrive at 1, 2 and 3 s: it took from the first to the last.
	if want := (Ending{State: StateCompleted, Took: 2 * time.Second}); end == nil || *end != want {
		t.Errorf("got ending %+v, want %+v", end, want)
	}
	if len(ann.msgs) != 1 || store.transitions != 1 {
		t.Errorf("got %d messages and %d state changes, want 1 and 1", len(ann.msgs), store.transitions)
	}
	puts := store.puts
	if end, err := a.Handle(context.Background(), events[0]); err != nil || end != nil || store.puts != puts || len(ann.msgs) != 1 {
		t.Errorf("an old event again: got %v, %+v, %d more writes, %d messages; want nothing done", err, end, store.puts-puts, len(ann.msgs))
	}
}

// TestEndedAtAnyOrder dates the end by the events, whatever order they are
// applied in.
func TestEndedAtAnyOrder(t *testing.T) {
	for _, events := range [][]*callback.Event{
		{event("error", 7*time.Second), event("error", 5*time.Second)},
		{event("success", 5*time.Second, "transcript.json-v2"), event("success", time.Second, "transcript.srt"),
			event("success", 2*time.Second, "jobinfo", "data"), event("success", 3*time.Second, "transcript.json-v2")},
	} {
		var want *time.Time
		for _, order := range callbacktest.Permutations([]int{0, 1, 2, 3}[:len(events)]) {
			m := NewManifest("r6sr3jlzjj")
			for _, i := range order {
				m, _ = Apply(m, events[i], expected)
			}
			if m.EndedAt == nil {
				t.Fatalf("order %v: not ended", order)
			}
			if want == nil {
				want = m.EndedAt
			} else if !m.EndedAt.Equal(*want) {
				t.Errorf("order %v: ended at %s, want %s", order, m.EndedAt, want)
			}
		}
	}
}
