package s3store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"smcallbacks/internal/callback"
)

// IndexAPI is the part of the S3 client that an Index uses.
type IndexAPI interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

var _ IndexAPI = (*s3.Client)(nil)

// Index reads what a bucket holds, for the reconciler.
type Index struct {
	client IndexAPI
	bucket string
}

// NewIndex returns the Index of bucket.
func NewIndex(client IndexAPI, bucket string) *Index {
	return &Index{client: client, bucket: bucket}
}

// Exists reports whether an object is at key (one HeadObject).
func (x *Index) Exists(ctx context.Context, key string) (bool, error) {
	_, err := x.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &x.bucket, Key: &key})
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("bucket %s: %w", x.bucket, err)
	}
	return true, nil
}

// Stat describes the object at key from one HeadObject with its checksum:
// its SHA-256 is the checksum of an object written in one PutObject. A
// multipart upload's checksum is a composite of its parts' ("…-N"), not the
// hash of the whole, so such an object is read once and hashed.
func (x *Index) Stat(ctx context.Context, key string) (*callback.StoredObject, error) {
	head, err := x.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &x.bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled})
	if isNotFound(err) {
		return nil, fmt.Errorf("s3://%s/%s: %w", x.bucket, key, callback.ErrNoObject)
	}
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", x.bucket, err)
	}
	obj := &callback.StoredObject{Key: key, Size: deref(head.ContentLength), ContentType: derefString(head.ContentType),
		Content: head.Metadata["content"], Status: head.Metadata["status"]}
	if sum, ok := fullSHA256(head); ok {
		obj.SHA256 = sum
		return obj, nil
	}
	if obj.SHA256, obj.Size, err = x.hash(ctx, key); err != nil {
		return nil, err
	}
	return obj, nil
}

// multipartETag matches the ETag of an object made by a multipart upload:
// "<hex>-<number of parts>".
var multipartETag = regexp.MustCompile(`-[0-9]+"?$`)

// fullSHA256 is the object's SHA-256 when its checksum is one of the whole
// object: not a multipart upload's, which S3 gives as a composite of the
// parts' ("…-N", type COMPOSITE) and some S3 implementations without a
// sign, so the ETag's "-N" counts too.
func fullSHA256(head *s3.HeadObjectOutput) ([32]byte, bool) {
	var sum [32]byte
	cs := derefString(head.ChecksumSHA256)
	composite := strings.Contains(cs, "-") || head.ChecksumType == types.ChecksumTypeComposite ||
		(head.ChecksumType != types.ChecksumTypeFullObject && multipartETag.MatchString(derefString(head.ETag)))
	if cs == "" || composite {
		return sum, false
	}
	b, err := base64.StdEncoding.DecodeString(cs)
	if err != nil || len(b) != len(sum) {
		return sum, false
	}
	copy(sum[:], b)
	return sum, true
}

// hash reads the object and returns its SHA-256 and size.
func (x *Index) hash(ctx context.Context, key string) ([32]byte, int64, error) {
	out, err := x.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &x.bucket, Key: &key})
	if err != nil {
		return [32]byte{}, 0, fmt.Errorf("bucket %s: %w", x.bucket, err)
	}
	defer out.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, out.Body)
	if err != nil {
		return [32]byte{}, 0, fmt.Errorf("s3://%s/%s: read: %w", x.bucket, key, err)
	}
	return [32]byte(h.Sum(nil)), n, nil
}

// List returns the keys below prefix, every page of them.
func (x *Index) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(x.client, &s3.ListObjectsV2Input{Bucket: &x.bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("bucket %s: %w", x.bucket, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, derefString(o.Key))
		}
	}
	return keys, nil
}

// isNotFound tells a missing object: HeadObject answers a bare 404.
func isNotFound(err error) bool {
	var nf *types.NotFound
	var nk *types.NoSuchKey
	var resp *awshttp.ResponseError
	return errors.As(err, &nf) || errors.As(err, &nk) ||
		(errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusNotFound)
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func derefString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
