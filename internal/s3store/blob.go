package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"smcallbacks/internal/callback"
)

// GetObjectAPI is the part of the S3 client that ReadVersioned uses.
type GetObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// BlobAPI is the part of the S3 client that a Blob uses.
type BlobAPI interface {
	GetObjectAPI
	PutObjectAPI
}

// Blob is one small JSON object at a fixed key, such as the reconciler's
// state.
type Blob struct {
	client BlobAPI
	bucket string
	key    string
}

// NewBlob returns the Blob at key in bucket.
func NewBlob(client BlobAPI, bucket, key string) *Blob {
	return &Blob{client: client, bucket: bucket, key: key}
}

// Load returns the object's bytes and its ETag as their version, or nil
// and "" when there is no object.
func (b *Blob) Load(ctx context.Context) ([]byte, string, error) {
	return ReadVersioned(ctx, b.client, b.bucket, b.key)
}

// Save replaces the object with data if it is still at version (its ETag;
// "" for no object), else returns an error wrapping callback.ErrStale.
func (b *Blob) Save(ctx context.Context, data []byte, version string) error {
	_, err := WriteVersioned(ctx, b.client, b.bucket, b.key, data, version)
	return err
}

// ReadVersioned returns the small object at key and its ETag, its version,
// or nil and "" when there is no object.
func ReadVersioned(ctx context.Context, client GetObjectAPI, bucket, key string) ([]byte, string, error) {
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	var noKey *types.NoSuchKey
	if errors.As(err, &noKey) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("bucket %s: %w", bucket, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, "", fmt.Errorf("s3://%s/%s: read: %w", bucket, key, err)
	}
	return data, derefString(out.ETag), nil
}

// WriteVersioned writes data, a JSON document, at key, checked by its
// SHA-256, if the object is still at version (its ETag; "" for none yet:
// If-None-Match: *, else If-Match), and returns its new ETag. A write that
// another writer's got ahead of fails with an error wrapping
// callback.ErrStale.
func WriteVersioned(ctx context.Context, client PutObjectAPI, bucket, key string, data []byte, version string) (string, error) {
	sum := sha256.Sum256(data)
	in := &s3.PutObjectInput{
		Bucket: &bucket, Key: &key, Body: bytes.NewReader(data), ContentType: ptr("application/json"),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		ChecksumSHA256:    ptr(base64.StdEncoding.EncodeToString(sum[:])),
	}
	if version == "" {
		in.IfNoneMatch = ptr("*")
	} else {
		in.IfMatch = &version
	}
	out, err := client.PutObject(ctx, in)
	// 412: the precondition failed; 409: another conditional write to the
	// key was under way.
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) && (resp.HTTPStatusCode() == http.StatusPreconditionFailed || resp.HTTPStatusCode() == http.StatusConflict) {
		return "", fmt.Errorf("s3://%s/%s: %w", bucket, key, callback.ErrStale)
	}
	if err != nil {
		return "", fmt.Errorf("bucket %s: %w", bucket, err)
	}
	return derefString(out.ETag), nil
}
