package local

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"smcallbacks/internal/reconcile"
	"smcallbacks/internal/reconcile/reconciletest"
)

func TestIndex(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "objects")
	s, _ := NewStore(dir)
	ctx := context.Background()
	for key, body := range map[string]string{"p/j1/transcript.json": "{}", "p/j1/data/a.wav": "RIFF", "p/j10/transcript.txt": "x"} {
		if err := s.Put(ctx, object(key, []byte(body))); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "p", "j1", ".put-123"), []byte("partial"), 0o644) // a write in progress
	x := NewIndex(dir)
	obj, err := x.Stat(ctx, "p/j1/transcript.json")
	if want := (reconcile.StoredObject{Key: "p/j1/transcript.json", Size: 2, SHA256: sha256.Sum256([]byte("{}"))}); err != nil || *obj != want {
		t.Errorf("got %+v, %v, want %+v", obj, err, want)
	}
	if _, err := x.Stat(ctx, "p/j1/jobinfo.json"); !errors.Is(err, reconcile.ErrNoObject) {
		t.Errorf("got %v, want ErrNoObject", err)
	}
	for key, want := range map[string]bool{"p/j1/transcript.json": true, "p/j1/jobinfo.json": false, "p/j1": false} {
		if got, err := x.Exists(ctx, key); got != want || err != nil {
			t.Errorf("Exists(%s): got %v, %v, want %v", key, got, err, want)
		}
	}
	keys, err := x.List(ctx, "p/j1/")
	if err != nil || !slices.Equal(keys, []string{"p/j1/data/a.wav", "p/j1/transcript.json"}) {
		t.Errorf("got %v, %v, want j1's two objects and nothing of j10", keys, err)
	}
	if keys, err := x.List(ctx, "p/none/"); len(keys) != 0 || err != nil {
		t.Errorf("got %v, %v, want nothing", keys, err)
	}
	if _, err := x.Stat(ctx, "../escape"); err == nil {
		t.Error("unsafe key: got nil, want an error")
	}
}

func TestBlob(t *testing.T) {
	reconciletest.CheckStateStore(t, NewBlob(filepath.Join(t.TempDir(), "sub", "state.json")))
}
