package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"smcallbacks/internal/callback"
)

func object(key string, b []byte) *callback.Object {
	return &callback.Object{Key: key, Size: int64(len(b)), SHA256: sha256.Sum256(b), Body: bytes.NewReader(b)}
}

func TestStorePut(t *testing.T) {
	dir := t.TempDir()
	s, err := NewStore(filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range [][]byte{[]byte("first"), []byte("second, longer")} {
		if err := s.Put(context.Background(), object("job/data/a.wav", data)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, "objects", "job", "data", "a.wav"))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("got %q, %v, want %q", got, err, data)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "objects", "job", "data"))
	if len(entries) != 1 {
		t.Errorf("got %d files, want 1: no temporary file left behind", len(entries))
	}
}

func TestStoreRefusesUnsafeKeys(t *testing.T) {
	dir := t.TempDir()
	s, _ := NewStore(filepath.Join(dir, "objects"))
	for _, key := range []string{"", "../escape", "a/../../escape", "/abs", `a\b`} {
		if err := s.Put(context.Background(), object(key, []byte("x"))); err == nil {
			t.Errorf("%q: got nil, want an error", key)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "escape")); err == nil {
		t.Error("a key escaped the directory")
	}
}

func TestStorePutCanceled(t *testing.T) {
	s, _ := NewStore(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Put(ctx, object("job/x", []byte("x"))); err == nil {
		t.Error("got nil, want the context's error")
	}
}

func TestQueueSend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	q, err := NewQueue(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			ev := &callback.Event{Version: 1, JobID: "job", Status: "success", RequestID: strings.Repeat("r", i*100), Attachments: []callback.Attachment{}}
			if err := q.Send(context.Background(), ev); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 50 {
		t.Fatalf("got %d lines, want 50", len(lines))
	}
	seen := map[int]bool{}
	for _, line := range lines {
		var ev callback.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		seen[len(ev.RequestID)] = true
	}
	if len(seen) != 50 {
		t.Errorf("got %d distinct events, want 50", len(seen))
	}
}

func TestStoreUpload(t *testing.T) {
	dir := t.TempDir()
	s, _ := NewStore(dir)
	for _, complete := range []bool{true, false} {
		up, err := s.Begin(context.Background(), &callback.Object{Key: "job/data/big.wav"})
		if err != nil {
			t.Fatal(err)
		}
		up.Write([]byte("streamed"))
		if complete {
			if err := up.Complete(context.Background(), sha256.Sum256([]byte("streamed")), 8); err != nil {
				t.Fatal(err)
			}
		} else if err := up.Abort(context.Background()); err != nil {
			t.Fatal(err)
		}
		entries, _ := os.ReadDir(filepath.Join(dir, "job", "data"))
		if len(entries) != 1 || entries[0].Name() != "big.wav" {
			t.Errorf("complete %v: got %v, want big.wav alone", complete, entries)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "job", "data", "big.wav")); string(b) != "streamed" {
		t.Errorf("got %q, want the completed upload's bytes", b)
	}
}
