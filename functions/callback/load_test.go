package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/mototest"
)

// TestLoad sends many callbacks at once to the real binary in server mode,
// storing in S3 and queueing in SQS served by moto: mixed single and
// multipart bodies, with corrupt and unauthorized ones among them. Afterwards
// every callback answered 200 has all its objects and exactly one event, and
// no other callback left anything. LOAD_REQUESTS sets the count (`make load`
// sends more); it prints throughput and latency percentiles.
func TestLoad(t *testing.T) {
	moto := mototest.Get(t)
	total, workers := 200, 16
	if n, err := strconv.Atoi(os.Getenv("LOAD_REQUESTS")); err == nil && n > 0 {
		total = n
	}
	bucket, queueURL := moto.Bucket(t), moto.Queue(t, false)
	s := start(t, append(moto.Env(), "BUCKET_NAME="+bucket, "QUEUE_URL="+queueURL)...)

	kinds := loadKinds(t)
	type result struct {
		job     string
		kind    int
		code    int
		latency time.Duration
	}
	results := make([]result, total)
	jobs := make(chan int)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: time.Minute}
	begin := time.Now()
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				k := kinds[i%len(kinds)]
				job := fmt.Sprintf("load%06d", i)
				req, _ := http.NewRequest(http.MethodPost, s.url+"/callback?id="+job+"&status=success", bytes.NewReader(k.body))
				req.Header.Set("Content-Type", k.contentType)
				req.Header.Set("Authorization", k.auth)
				start := time.Now()
				code := 0
				if resp, err := client.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				results[i] = result{job, i % len(kinds), code, time.Since(start)}
			}
		})
	}
	for i := range total {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(begin)

	// What the sender saw.
	accepted := map[string]int{} // job -> kind
	var latencies []time.Duration
	for _, r := range results {
		latencies = append(latencies, r.latency)
		if want := kinds[r.kind].wantCode; r.code != want {
			t.Errorf("%s (%s): got %d, want %d", r.job, kinds[r.kind].name, r.code, want)
		}
		if r.code == http.StatusOK {
			accepted[r.job] = r.kind
		}
	}
	// What was stored and queued.
	stored := map[string]int{}
	pages := s3.NewListObjectsV2Paginator(moto.S3(), &s3.ListObjectsV2Input{Bucket: &bucket})
	objects := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			job, _, _ := bytes.Cut([]byte(*o.Key), []byte("/"))
			stored[string(job)]++
			objects++
		}
	}
	queued := map[string]int{}
	for _, m := range moto.Messages(t, queueURL) {
		var ev callback.Event
		if err := json.Unmarshal([]byte(*m.Body), &ev); err != nil {
			t.Fatal(err)
		}
		queued[ev.JobID]++
	}
	lost := 0
	for job, kind := range accepted {
		if stored[job] != kinds[kind].objects || queued[job] != 1 {
			lost++
			t.Errorf("%s: answered 200, but %d objects stored (want %d) and %d events queued (want 1)", job, stored[job], kinds[kind].objects, queued[job])
		}
	}
	for job := range stored {
		if _, ok := accepted[job]; !ok {
			t.Errorf("%s: refused, yet stored", job)
		}
	}
	for job := range queued {
		if _, ok := accepted[job]; !ok {
			t.Errorf("%s: refused, yet queued", job)
		}
	}

	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		return latencies[int(p*float64(len(latencies)-1))].Round(time.Millisecond / 10)
	}
	t.Logf("load: %d requests, %d workers, %.1f s, %.0f requests/s; latency p50 %s, p95 %s, p99 %s, max %s",
		total, workers, elapsed.Seconds(), float64(total)/elapsed.Seconds(), pct(0.50), pct(0.95), pct(0.99), latencies[len(latencies)-1])
	t.Logf("load: %d accepted, %d refused; %d jobs stored (%d objects), %d events queued; %d lost",
		len(accepted), total-len(accepted), len(stored), objects, len(queued), lost)
}

type loadKind struct {
	name, contentType, auth string
	body                    []byte
	wantCode, objects       int
}

// loadKinds are the callbacks the load test cycles through.
func loadKinds(t *testing.T) []loadKind {
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	for _, p := range []struct{ name, file, fixture string }{
		{"transcript", "", "transcript-json-v2-example.json"},
		{"jobinfo", "", "jobinfo.json"},
		{"data", "call.wav", "media.wav"},
	} {
		fw, _ := w.CreateFormFile(p.name, p.file)
		fw.Write(callbacktest.Fixture(t, p.fixture))
	}
	w.Close()
	auth := "Bearer e2e-token"
	return []loadKind{
		{"json transcript", "application/json", auth, callbacktest.Fixture(t, "transcript-json-v2-example.json"), 200, 1},
		{"srt", "text/plain", auth, callbacktest.Fixture(t, "transcript-srt-excerpt.srt"), 200, 1},
		{"multipart", w.FormDataContentType(), auth, mp.Bytes(), 200, 3},
		{"txt", "text/plain", auth, callbacktest.Fixture(t, "transcript-txt-example.txt"), 200, 1},
		{"status only", "", auth, nil, 200, 0},
		{"truncated multipart", w.FormDataContentType(), auth, mp.Bytes()[:mp.Len()/2], 400, 0},
		{"multipart", w.FormDataContentType(), auth, mp.Bytes(), 200, 3},
		{"wrong token", "application/json", "Bearer guess", callbacktest.Fixture(t, "jobinfo.json"), 401, 0},
		{"json transcript", "application/json", auth, callbacktest.Fixture(t, "transcript-json-v2-example.json"), 200, 1},
		{"multipart without boundary", "multipart/form-data", auth, []byte("x"), 400, 0},
	}
}
