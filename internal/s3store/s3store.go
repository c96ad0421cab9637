// Package s3store stores callback attachments in Amazon S3.
package s3store

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"smcallbacks/internal/callback"
)

// PutObjectAPI is the part of the S3 client that a Store uses.
type PutObjectAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

var _ PutObjectAPI = (*s3.Client)(nil)

// Store puts each object into one bucket.
type Store struct {
	client PutObjectAPI
	bucket string
}

var _ callback.ObjectStore = (*Store)(nil)

// New returns a Store that writes to bucket through client.
func New(client PutObjectAPI, bucket string) *Store {
	return &Store{client: client, bucket: bucket}
}

// Put uploads the object in one request, with its Content-Type, the user
// metadata job-id, status and content, and its SHA-256, which S3 checks
// against the bytes it receives and refuses the upload on a mismatch.
func (s *Store) Put(ctx context.Context, obj *callback.Object) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           &obj.Key,
		Body:          obj.Body,
		ContentLength: &obj.Size,
		ContentType:   &obj.ContentType,
		// The algorithm with its precomputed value: the SDK sends the value
		// as it is instead of hashing the body again.
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		ChecksumSHA256:    ptr(base64.StdEncoding.EncodeToString(obj.SHA256[:])),
		Metadata: map[string]string{
			"job-id":  obj.JobID,
			"status":  obj.Status,
			"content": obj.Content,
		},
	})
	if err != nil {
		// The SDK's error names the operation, the HTTP status and AWS's
		// request ID.
		return fmt.Errorf("bucket %s: %w", s.bucket, err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
