package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/mototest"
)

func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }

func object(key, contentType string, b []byte) *callback.Object {
	return &callback.Object{
		Key: key, ContentType: contentType, Size: int64(len(b)), SHA256: sha256.Sum256(b),
		JobID: "r6sr3jlzjj", Status: "success", Content: "transcript.json-v2", Body: bytes.NewReader(b),
	}
}

// TestPutAgainstMoto uploads through the real S3 protocol and reads back the
// object, its metadata and the checksum that was sent.
func TestPutAgainstMoto(t *testing.T) {
	moto := mototest.Get(t)
	bucket := moto.Bucket(t)
	client := moto.S3()
	store := New(client, bucket)
	tests := []struct {
		name, key, contentType string
		data                   []byte
	}{
		{"json", "transcripts/r6sr3jlzjj/transcript.json", "application/json", []byte(`{"format":"2.9","results":[]}`)},
		{"media", "r6sr3jlzjj/data/meeting.wav", "audio/wav", bytes.Repeat([]byte{1, 2, 3, 250}, 100_000)},
		{"empty", "r6sr3jlzjj/transcript.txt", "text/plain; charset=utf-8", []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := store.Put(context.Background(), object(tt.key, tt.contentType, tt.data)); err != nil {
				t.Fatal(err)
			}
			out, err := client.GetObject(context.Background(), &s3.GetObjectInput{
				Bucket: &bucket, Key: &tt.key, ChecksumMode: types.ChecksumModeEnabled,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer out.Body.Close()
			got, _ := io.ReadAll(out.Body)
			if !bytes.Equal(got, tt.data) {
				t.Errorf("got %d bytes, want the %d sent", len(got), len(tt.data))
			}
			sum := sha256.Sum256(tt.data)
			if want := base64.StdEncoding.EncodeToString(sum[:]); out.ChecksumSHA256 == nil || *out.ChecksumSHA256 != want {
				t.Errorf("ChecksumSHA256: got %v, want %s", show(out.ChecksumSHA256), want)
			}
			if show(out.ContentType) != tt.contentType {
				t.Errorf("ContentType: got %q, want %q", show(out.ContentType), tt.contentType)
			}
			want := map[string]string{"job-id": "r6sr3jlzjj", "status": "success", "content": "transcript.json-v2"}
			for k, v := range want {
				if out.Metadata[k] != v {
					t.Errorf("metadata %s: got %q, want %q (all: %v)", k, out.Metadata[k], v, out.Metadata)
				}
			}
		})
	}
}

func TestPutErrorAgainstMoto(t *testing.T) {
	moto := mototest.Get(t)
	store := New(moto.S3(), "no-such-bucket")
	err := store.Put(context.Background(), object("a/b", "text/plain", []byte("x")))
	if err == nil {
		t.Fatal("got nil, want an error")
	}
	for _, want := range []string{"bucket no-such-bucket", "NoSuchBucket", "RequestID"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to say %q", err, want)
		}
	}
}

// fakeS3 records the input of PutObject and reads the body, as S3 would.
type fakeS3 struct {
	in   *s3.PutObjectInput
	body []byte
	err  error
}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.in = in
	f.body, _ = io.ReadAll(in.Body)
	return &s3.PutObjectOutput{}, f.err
}

func TestPutInput(t *testing.T) {
	f := &fakeS3{}
	data := []byte("SPEAKER S1: hello")
	if err := New(f, "bkt").Put(context.Background(), object("id/transcript.txt", "text/plain", data)); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if show(f.in.Bucket) != "bkt" || show(f.in.Key) != "id/transcript.txt" || *f.in.ContentLength != int64(len(data)) ||
		show(f.in.ChecksumSHA256) != base64.StdEncoding.EncodeToString(sum[:]) || !bytes.Equal(f.body, data) {
		t.Errorf("got %+v with body %q", f.in, f.body)
	}

	f.err = errors.New("boom")
	if err := New(f, "bkt").Put(context.Background(), object("k", "", data)); !errors.Is(err, f.err) {
		t.Errorf("got %v, want it to wrap %v", err, f.err)
	}
}

func show(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
