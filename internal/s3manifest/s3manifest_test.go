package s3manifest

import (
	"context"
	"errors"
	"testing"

	"smcallbacks/internal/assembler"
	"smcallbacks/internal/mototest"
)

// TestManifestsAgainstMoto checks the conditional writes over the real S3
// protocol: create only if absent, replace only at the version read.
func TestManifestsAgainstMoto(t *testing.T) {
	moto := mototest.Get(t)
	store := New(moto.S3(), moto.Bucket(t), "transcripts/")
	ctx := context.Background()

	if _, _, err := store.Get(ctx, "job1"); !errors.Is(err, assembler.ErrNotFound) {
		t.Fatalf("get before any put: got %v, want ErrNotFound", err)
	}
	m := assembler.NewManifest("job1")
	v1, err := store.Put(ctx, "job1", m, "")
	if err != nil || v1 == "" {
		t.Fatalf("create: got %q, %v", v1, err)
	}
	if _, err := store.Put(ctx, "job1", m, ""); !errors.Is(err, assembler.ErrConflict) {
		t.Errorf("create again: got %v, want ErrConflict", err)
	}
	m.State = assembler.StateCompleted
	v2, err := store.Put(ctx, "job1", m, v1)
	if err != nil || v2 == "" || v2 == v1 {
		t.Fatalf("replace: got %q, %v, want a new version", v2, err)
	}
	if _, err := store.Put(ctx, "job1", m, v1); !errors.Is(err, assembler.ErrConflict) {
		t.Errorf("replace at a stale version: got %v, want ErrConflict", err)
	}
	got, version, err := store.Get(ctx, "job1")
	if err != nil || version != v2 || got.State != assembler.StateCompleted || got.JobID != "job1" {
		t.Errorf("get: got %+v, %q, %v, want the completed manifest at %q", got, version, err, v2)
	}
}
