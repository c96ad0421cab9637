package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/mototest"
	"smcallbacks/internal/reconcile"
	"smcallbacks/internal/reconcile/reconciletest"
)

// TestIndexAgainstMoto: Exists, Stat and List over objects the Store wrote,
// one in a single PutObject (its checksum is its SHA-256) and one in a
// multipart upload (a composite checksum: the object is read and hashed).
func TestIndexAgainstMoto(t *testing.T) {
	moto := mototest.Get(t)
	bucket := moto.Bucket(t)
	store, index := New(moto.S3(), bucket), NewIndex(moto.S3(), bucket)
	ctx := context.Background()
	small := []byte(`{"format":"2.9","results":[]}`)
	put := &callback.Object{Key: "p/j1/transcript.json", ContentType: "application/json", Size: int64(len(small)),
		SHA256: sha256.Sum256(small), JobID: "j1", Status: "success", Content: callback.ContentTranscript, Body: bytes.NewReader(small)}
	if err := store.Put(ctx, put); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("SPEAKER S1: hello. "), 500_000) // 9.5 MB: two parts
	up, err := store.Begin(ctx, &callback.Object{Key: "p/j1/transcript.txt", ContentType: "text/plain", JobID: "j1", Status: "success", Content: callback.ContentTxt})
	if err != nil {
		t.Fatal(err)
	}
	up.Write(big)
	if err := up.Complete(ctx, sha256.Sum256(big), int64(len(big))); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		key     string
		body    []byte
		content string
		typ     string
	}{
		{"p/j1/transcript.json", small, callback.ContentTranscript, "application/json"},
		{"p/j1/transcript.txt", big, callback.ContentTxt, "text/plain"},
	}
	for _, c := range cases {
		obj, err := index.Stat(ctx, c.key)
		if err != nil {
			t.Fatal(err)
		}
		want := reconcile.StoredObject{Key: c.key, Size: int64(len(c.body)), SHA256: sha256.Sum256(c.body), ContentType: c.typ, Content: c.content, Status: "success"}
		if *obj != want {
			t.Errorf("%s: got %+v, want %+v", c.key, *obj, want)
		}
		if ok, err := index.Exists(ctx, c.key); !ok || err != nil {
			t.Errorf("%s: Exists got %v, %v, want true", c.key, ok, err)
		}
	}
	if ok, err := index.Exists(ctx, "p/j1/jobinfo.json"); ok || err != nil {
		t.Errorf("missing object: got %v, %v, want false, nil", ok, err)
	}
	if _, err := index.Stat(ctx, "p/j1/jobinfo.json"); !errors.Is(err, reconcile.ErrNoObject) {
		t.Errorf("missing object: got %v, want ErrNoObject", err)
	}
	keys, err := index.List(ctx, "p/j1/")
	if err != nil || !slices.Equal(keys, []string{"p/j1/transcript.json", "p/j1/transcript.txt"}) {
		t.Errorf("got %v, %v, want both keys", keys, err)
	}
}

func TestBlobAgainstMoto(t *testing.T) {
	moto := mototest.Get(t)
	reconciletest.CheckStateStore(t, NewBlob(moto.S3(), moto.Bucket(t), "p/.reconciler/state.json"))
	if _, _, err := NewBlob(moto.S3(), "no-such-bucket", "k").Load(context.Background()); err == nil {
		t.Error("missing bucket: got nil, want an error")
	}
}

// TestFullSHA256: only a whole-object checksum is taken for the SHA-256.
func TestFullSHA256(t *testing.T) {
	sum := sha256.Sum256([]byte("x"))
	b64 := base64.StdEncoding.EncodeToString(sum[:])
	cases := []struct {
		name string
		head s3.HeadObjectOutput
		ok   bool
	}{
		{"PutObject", s3.HeadObjectOutput{ChecksumSHA256: &b64, ETag: ptr(`"9dd4e461268c8034f5c8564e155c67a6"`)}, true},
		{"no checksum", s3.HeadObjectOutput{ETag: ptr(`"9dd4e461268c8034f5c8564e155c67a6"`)}, false},
		{"S3 composite", s3.HeadObjectOutput{ChecksumSHA256: ptr(b64 + "-2"), ChecksumType: types.ChecksumTypeComposite, ETag: ptr(`"abc-2"`)}, false},
		{"multipart ETag, unmarked checksum", s3.HeadObjectOutput{ChecksumSHA256: &b64, ETag: ptr(`"abc-2"`)}, false},
		{"multipart, full-object checksum", s3.HeadObjectOutput{ChecksumSHA256: &b64, ChecksumType: types.ChecksumTypeFullObject, ETag: ptr(`"abc-2"`)}, true},
		{"not base64", s3.HeadObjectOutput{ChecksumSHA256: ptr("!!"), ETag: ptr(`"abc"`)}, false},
	}
	for _, c := range cases {
		got, ok := fullSHA256(&c.head)
		if ok != c.ok || (ok && got != sum) {
			t.Errorf("%s: got %x, %v, want %v", c.name, got, ok, c.ok)
		}
	}
}
