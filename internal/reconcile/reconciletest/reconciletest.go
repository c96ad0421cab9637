// Package reconciletest holds what the tests of the reconciler's adapters
// share.
package reconciletest

import (
	"context"
	"errors"
	"testing"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/reconcile"
)

// CheckStateStore checks that s, which must hold no state yet, keeps the
// state and saves it only over the version it was loaded at: a run that
// overlaps another cannot overwrite what that one saved.
func CheckStateStore(t *testing.T, s reconcile.StateStore) {
	t.Helper()
	ctx := context.Background()
	load := func(want string) string {
		t.Helper()
		b, v, err := s.Load(ctx)
		if err != nil || string(b) != want || (want == "") != (v == "") {
			t.Fatalf("Load: got %q, version %q, %v, want %q and a version with it", b, v, err, want)
		}
		return v
	}
	save := func(b, version string, want error) {
		t.Helper()
		if err := s.Save(ctx, []byte(b), version); !errors.Is(err, want) {
			t.Fatalf("Save %q over version %q: got %v, want %v", b, version, err, want)
		}
	}
	if b, v, err := s.Load(ctx); b != nil || v != "" || err != nil {
		t.Fatalf("before any save: got %q, %q, %v, want nil, \"\", nil", b, v, err)
	}
	save(`{"run":1}`, "", nil)
	save(`{"run":2}`, "", callback.ErrStale) // there is one now
	v1 := load(`{"run":1}`)
	save(`{"run":3}`, v1, nil)
	v3 := load(`{"run":3}`)
	if v3 == v1 {
		t.Errorf("got version %q before and after a save, want a new one", v1)
	}
	save(`{"run":4}`, v1, callback.ErrStale) // loaded before run 3 saved
	load(`{"run":3}`)
}
