package s3store

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/mototest"
)

// TestUploadAgainstMoto streams 20 MiB in uneven writes: three parts, then
// one object with the bytes written; an aborted upload leaves nothing.
func TestUploadAgainstMoto(t *testing.T) {
	moto := mototest.Get(t)
	bucket := moto.Bucket(t)
	store := New(moto.S3(), bucket)
	data := make([]byte, 20<<20)
	for i := range data {
		data[i] = byte(i * 7 % 253)
	}
	ctx := context.Background()
	obj := &callback.Object{Key: "job/data/big.mp4", ContentType: "video/mp4", JobID: "job", Status: "success", Content: "data"}
	up, err := store.Begin(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 3<<20+17)
		if _, err := up.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := up.Complete(ctx, sha256.Sum256(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	out, err := moto.S3().GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &obj.Key})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, _ := io.Copy(h, out.Body)
	out.Body.Close()
	if n != int64(len(data)) || [32]byte(h.Sum(nil)) != sha256.Sum256(data) || show(out.ContentType) != "video/mp4" || out.Metadata["job-id"] != "job" {
		t.Errorf("got %d bytes of %s with metadata %v, want the %d written", n, show(out.ContentType), out.Metadata, len(data))
	}

	up, err = store.Begin(ctx, &callback.Object{Key: "job/data/aborted.mp4", ContentType: "video/mp4"})
	if err != nil {
		t.Fatal(err)
	}
	up.Write(data[:9<<20])
	if err := up.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	var noKey *types.NoSuchKey
	key := "job/data/aborted.mp4"
	if _, err := moto.S3().GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key}); !errors.As(err, &noKey) {
		t.Errorf("after Abort: got %v, want NoSuchKey", err)
	}
}
