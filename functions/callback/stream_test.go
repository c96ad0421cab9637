package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/mototest"
)

// TestServerStreamsLargeMedia sends one media part of STREAM_BYTES (64 MiB
// unless set; `make bench` sends 1 GiB) through the binary in server mode
// into S3 in moto: the part streams from the request to S3 with a multipart
// upload, and the server's peak resident memory stays under 64 MiB whatever
// the size. It prints the throughput.
func TestServerStreamsLargeMedia(t *testing.T) {
	moto := mototest.Get(t)
	size := int64(64 << 20)
	if n, err := strconv.ParseInt(os.Getenv("STREAM_BYTES"), 10, 64); err == nil && n > 0 {
		size = n
	}
	bucket, queueURL := moto.Bucket(t), moto.Queue(t, false)
	s := start(t, append(moto.Env(), "BUCKET_NAME="+bucket, "QUEUE_URL="+queueURL)...)
	elapsed := streamMedia(t, moto, s, bucket, queueURL, size)
	peak := peakRSS(t, s.pid)
	t.Logf("streamed %d MiB in %.1f s: %.0f MiB/s into moto; server peak RSS %d MiB",
		size>>20, elapsed.Seconds(), float64(size>>20)/elapsed.Seconds(), peak>>20)
	if peak >= 64<<20 {
		t.Errorf("server peak RSS %d MiB, want under 64 MiB", peak>>20)
	}
}

// streamMedia sends s, a server storing in bucket and queueing on queueURL
// in moto, one callback with a media part of size bytes, and checks that
// the object holds every byte sent and that the event names its hash. It
// returns how long the callback took.
func streamMedia(t *testing.T, moto *mototest.Server, s *server, bucket, queueURL string, size int64) time.Duration {
	t.Helper()
	// The body is made as it is sent: the test holds no copy of it either.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	sent := sha256.New()
	go func() {
		part, _ := mw.CreatePart(map[string][]string{
			"Content-Disposition": {`form-data; name="data"; filename="big.wav"`},
			"Content-Type":        {"audio/wav"},
		})
		_, err := io.CopyN(io.MultiWriter(part, sent), &pattern{}, size)
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest(http.MethodPost, s.url+"/callback?id=big&status=success", pr)
	req.Header.Set("Authorization", "Bearer e2e-token")
	req.Header.Set("Content-Type", mw.FormDataContentType())
	begin := time.Now()
	resp, err := (&http.Client{Timeout: 30 * time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	elapsed := time.Since(begin)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d %s, want 200", resp.StatusCode, body)
	}

	key := "big/data/big.wav"
	out, err := moto.S3().GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	stored := sha256.New()
	n, _ := io.Copy(stored, out.Body)
	out.Body.Close()
	if n != size || string(stored.Sum(nil)) != string(sent.Sum(nil)) {
		t.Errorf("got %d bytes stored, want the %d sent, byte for byte", n, size)
	}
	msgs := moto.Messages(t, queueURL)
	var ev callback.Event
	if len(msgs) != 1 || json.Unmarshal([]byte(*msgs[0].Body), &ev) != nil || ev.Attachments[0].SHA256 != fmt.Sprintf("%x", sent.Sum(nil)) {
		t.Errorf("got %d events, want one with the media's full SHA-256", len(msgs))
	}
	return elapsed
}

// pattern is an endless stream of bytes that no compressor or dedup helps.
type pattern struct{ n uint64 }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		p.n++
		b[i] = byte(p.n*2654435761>>13) ^ byte(p.n)
	}
	return len(b), nil
}

// peakRSS reads a process's peak resident set size from /proc.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}
