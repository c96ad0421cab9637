package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"smcallbacks/internal/callback"
)

// MultipartAPI is the part of the S3 client that streamed uploads use.
type MultipartAPI interface {
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

var _ MultipartAPI = (*s3.Client)(nil)

var _ callback.StreamingStore = (*Store)(nil)

// partSize is the size of each part of a streamed upload, and so the memory
// one upload holds; S3 wants at least 5 MiB but for the last.
const partSize = 8 << 20

// Begin starts a multipart upload of an object whose size and hash are known
// only at its end. Each part is sent with its own SHA-256, which S3 checks;
// the object's checksum is then S3's composite of them, while the event
// carries the SHA-256 of the whole.
func (s *Store) Begin(ctx context.Context, obj *callback.Object) (callback.Upload, error) {
	client, ok := s.client.(MultipartAPI)
	if !ok {
		return nil, errors.New("the S3 client cannot do multipart uploads")
	}
	out, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &s.bucket, Key: &obj.Key, ContentType: &obj.ContentType,
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		Metadata:          map[string]string{"job-id": obj.JobID, "status": obj.Status, "content": obj.Content},
	})
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", s.bucket, err)
	}
	return &upload{client: client, ctx: ctx, bucket: s.bucket, key: obj.Key, id: out.UploadId, buf: make([]byte, 0, partSize)}, nil
}

// upload sends a part each time partSize bytes are written.
type upload struct {
	client MultipartAPI
	ctx    context.Context // the request's: Write has none of its own
	bucket string
	key    string
	id     *string
	buf    []byte
	parts  []types.CompletedPart
}

func (u *upload) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := copy(u.buf[len(u.buf):cap(u.buf)], p)
		u.buf, p = u.buf[:len(u.buf)+k], p[k:]
		if len(u.buf) == cap(u.buf) {
			if err := u.flush(u.ctx); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (u *upload) flush(ctx context.Context) error {
	number := int32(len(u.parts) + 1)
	sum := sha256.Sum256(u.buf)
	checksum := base64.StdEncoding.EncodeToString(sum[:])
	out, err := u.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: &u.bucket, Key: &u.key, UploadId: u.id, PartNumber: &number,
		Body: bytes.NewReader(u.buf), ContentLength: ptr(int64(len(u.buf))),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumSHA256: &checksum,
	})
	if err != nil {
		return fmt.Errorf("bucket %s: part %d of %s: %w", u.bucket, number, u.key, err)
	}
	u.parts = append(u.parts, types.CompletedPart{ETag: out.ETag, PartNumber: &number, ChecksumSHA256: &checksum})
	u.buf = u.buf[:0]
	return nil
}

// Complete sends the last part and makes the object visible.
func (u *upload) Complete(ctx context.Context, _ [32]byte, _ int64) error {
	if len(u.buf) > 0 || len(u.parts) == 0 {
		if err := u.flush(ctx); err != nil {
			return err
		}
	}
	_, err := u.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &u.bucket, Key: &u.key, UploadId: u.id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: u.parts},
	})
	if err != nil {
		return fmt.Errorf("bucket %s: complete %s: %w", u.bucket, u.key, err)
	}
	return nil
}

// Abort drops the parts sent.
func (u *upload) Abort(ctx context.Context) error {
	_, err := u.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &u.bucket, Key: &u.key, UploadId: u.id})
	return err
}
