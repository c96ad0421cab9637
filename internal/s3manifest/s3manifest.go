// Package s3manifest keeps the assembler's job manifests in S3.
package s3manifest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"smcallbacks/internal/assembler"
	"smcallbacks/internal/callback"
	"smcallbacks/internal/s3store"
)

// ManifestAPI is the part of the S3 client that Manifests uses.
type ManifestAPI interface {
	s3store.GetObjectAPI
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
	b, version, err := s3store.ReadVersioned(ctx, s.client, s.bucket, key)
	if err != nil {
		return nil, "", err
	}
	if b == nil {
		return nil, "", assembler.ErrNotFound
	}
	var m assembler.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, "", fmt.Errorf("s3://%s/%s: %w", s.bucket, key, err)
	}
	return &m, version, nil
}

// Put writes the manifest if it is still at version ("" for none yet).
func (s *Manifests) Put(ctx context.Context, jobID string, m *assembler.Manifest, version string) (string, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", err
	}
	etag, err := s3store.WriteVersioned(ctx, s.client, s.bucket, s.key(jobID), b, version)
	if errors.Is(err, callback.ErrStale) {
		return "", assembler.ErrConflict
	}
	return etag, err
}
