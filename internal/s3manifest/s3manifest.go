// Package s3manifest keeps the assembler's job manifests in S3.
package s3manifest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"smcallbacks/internal/assembler"
	"smcallbacks/internal/s3store"
)

// ManifestAPI is the part of the S3 client that Manifests uses.
type ManifestAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	s3store.PutObjectAPI
}

var _ ManifestAPI = (*s3.Client)(nil)

// Manifests keeps each job's manifest at <prefix><job id>/manifest.json,
// with S3's conditional writes: If-None-Match: * creates it, If-Match on its
// ETag replaces it, and a write against a stale ETag fails.
type Manifests struct {
	client ManifestAPI
	bucket string
	prefix string
}

var _ assembler.Store = (*Manifests)(nil)

// New returns the manifest store in bucket, under prefix.
func New(client ManifestAPI, bucket, prefix string) *Manifests {
	return &Manifests{client: client, bucket: bucket, prefix: prefix}
}

func (s *Manifests) key(jobID string) string { return s.prefix + jobID + "/manifest.json" }

// Get returns the job's manifest, with its ETag as the version.
func (s *Manifests) Get(ctx context.Context, jobID string) (*assembler.Manifest, string, error) {
	key := s.key(jobID)
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	var noKey *types.NoSuchKey
	if errors.As(err, &noKey) {
		return nil, "", assembler.ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("bucket %s: %w", s.bucket, err)
	}
	defer out.Body.Close()
	var m assembler.Manifest
	if err := json.NewDecoder(out.Body).Decode(&m); err != nil {
		return nil, "", fmt.Errorf("s3://%s/%s: %w", s.bucket, key, err)
	}
	return &m, deref(out.ETag), nil
}

// Put writes the manifest if it is still at version ("" for none yet).
func (s *Manifests) Put(ctx context.Context, jobID string, m *assembler.Manifest, version string) (string, error) {
	key := s.key(jobID)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	in := &s3.PutObjectInput{
		Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(b), ContentType: ptr("application/json"),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		ChecksumSHA256:    ptr(base64.StdEncoding.EncodeToString(sum[:])),
	}
	if version == "" {
		in.IfNoneMatch = ptr("*")
	} else {
		in.IfMatch = &version
	}
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		// 412: the precondition failed; 409: another conditional write to
		// the key was under way.
		var resp *awshttp.ResponseError
		if errors.As(err, &resp) && (resp.HTTPStatusCode() == http.StatusPreconditionFailed || resp.HTTPStatusCode() == http.StatusConflict) {
			return "", assembler.ErrConflict
		}
		return "", fmt.Errorf("bucket %s: %w", s.bucket, err)
	}
	return deref(out.ETag), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func ptr[T any](v T) *T { return &v }
