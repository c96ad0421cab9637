package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"smcallbacks/internal/benchtable"
	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/mototest"
)

// BenchmarkTracingColdStart measures what X-Ray tracing adds to a Lambda
// function's init, for the two ways of tracing the AWS calls: this project's
// internal/xray and aws-xray-sdk-go (v1.8.5, with its awsv2 instrumentation).
// It takes COLDSTART_RUNS (default 15) cold starts of each of four
// functions under a fresh Runtime Interface Emulator, alternated (each run in
// a different order) so that they share the machine's noise:
//
//   - hello: testdata/hello, the runtime library alone (the floor of
//     BenchmarkColdStart, for reference);
//   - sdk: testdata/hello-sdk, hello plus what our functions do with the SDK
//     at init: load the configuration, build a Secrets Manager client and
//     read a secret (from moto): the floor the tracing is measured from;
//   - inhouse: testdata/hello-xray, sdk plus xray.Instrument on its
//     configuration;
//   - xraysdk: testdata/hello-xraysdk, sdk plus xray.Configure and
//     awsv2.AWSV2Instrumentor, a module of its own so that aws-xray-sdk-go
//     stays out of the project's go.mod.
//
// All get the environment that Lambda gives a function with Active tracing:
// AWS_XRAY_DAEMON_ADDRESS (here a UDP listener of the benchmark's) and
// AWS_XRAY_CONTEXT_MISSING=LOG_ERROR. After the measured runs, one traced
// invocation of each of sdk, inhouse and xraysdk (against a stand-in for the
// Runtime API: the emulator passes no trace header on) checks that the
// tracing is really on: a subsegment of the invocation's trace reaches the
// listener from the last two, and none from the first.
//
// It reports the medians and the added init of each tracing (its median less
// sdk's), and fails when internal/xray adds 3 ms or more (the issue's
// bound). Run it with -benchtime 1x; like BenchmarkColdStart it measures once
// whatever b.N.
func BenchmarkTracingColdStart(b *testing.B) {
	if tracingColdStarts == nil {
		tracingColdStarts = measureTracingColdStarts(b)
	}
	r := tracingColdStarts
	b.ReportMetric(0, "ns/op") // the wall time per b.N says nothing here
	for _, v := range r {
		b.ReportMetric(benchtable.Median(v.inits), "ms-init-"+v.name)
		b.ReportMetric(float64(v.size), "bytes-"+v.name)
		b.Logf("%-8s init median %.2f ms, quartiles %.2f–%.2f, range %.2f–%.2f over %d cold starts; binary %.1f MB",
			v.name, benchtable.Median(v.inits), benchtable.Quantile(v.inits, 0.25), benchtable.Quantile(v.inits, 0.75), slices.Min(v.inits), slices.Max(v.inits),
			len(v.inits), float64(v.size)/1e6)
	}
	floor, inhouse := r[1], r[2] // sdk, and internal/xray on it
	for _, v := range r[2:] {
		added := benchtable.Median(v.inits) - benchtable.Median(floor.inits)
		b.ReportMetric(added, "ms-added-"+v.name)
		b.Logf("%-8s adds %.2f ms of init to %s (median of the paired differences %.2f ms) and %.0f kB of binary",
			v.name, added, floor.name, benchtable.Median(pairedDifferences(v.inits, floor.inits)), float64(v.size-floor.size)/1e3)
	}
	if added := benchtable.Median(inhouse.inits) - benchtable.Median(floor.inits); added >= tracingInitBound {
		b.Errorf("internal/xray adds %.2f ms of init, want under %.0f ms", added, tracingInitBound)
	}
}

// tracingInitBound is the bound, in milliseconds, on what tracing
// may add to the init.
const tracingInitBound = 3.0

// tracingColdStarts holds the measurement once taken.
var tracingColdStarts []*tracingVariant

// tracingVariant is one function of the comparison: its bootstrap, its size
// in bytes, and the init duration of each run in milliseconds.
type tracingVariant struct {
	name, boot string
	size       int64
	inits      []float64
	traced     bool // emits subsegments of a traced invocation
}

func measureTracingColdStarts(b *testing.B) []*tracingVariant {
	b.Helper()
	rie := rieBinary(b)
	moto := mototest.Get(b)
	runs := coldStartRuns(b)
	payload := coldStartPayload(b)
	daemon := listenDaemon(b)

	dir := b.TempDir()
	testdata := filepath.Join(callbacktest.Root(), "functions", "callback", "testdata")
	variants := []*tracingVariant{
		{name: "hello", boot: buildBootstrap(b, "callback/testdata/hello", filepath.Join(dir, "hello"))},
		{name: "sdk", boot: buildBootstrap(b, "callback/testdata/hello-sdk", filepath.Join(dir, "sdk"))},
		{name: "inhouse", boot: buildBootstrap(b, "callback/testdata/hello-xray", filepath.Join(dir, "inhouse")), traced: true},
		{name: "xraysdk", boot: buildModule(b, filepath.Join(testdata, "hello-xraysdk"), filepath.Join(dir, "xraysdk")), traced: true},
	}
	for _, v := range variants {
		v.size = fileSize(b, v.boot)
	}

	env := coldStartEnv(b, moto, "AWS_XRAY_DAEMON_ADDRESS="+daemon.addr, "AWS_XRAY_CONTEXT_MISSING=LOG_ERROR")
	for i := range runs {
		for j := range variants {
			v := variants[(i+j)%len(variants)]
			v.inits = append(v.inits, coldStart(b, rie, v.boot, env, payload))
		}
	}
	for i, v := range variants[1:] {
		checkTracing(b, v, env, payload, daemon, fmt.Sprintf("1-%08x-%024d", time.Now().Unix(), i+1))
	}
	return variants
}

// coldStartRuns is COLDSTART_RUNS, 15 by default.
func coldStartRuns(tb testing.TB) int {
	tb.Helper()
	v := os.Getenv("COLDSTART_RUNS")
	if v == "" {
		return 15
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("COLDSTART_RUNS: want a positive number of runs, got %q", v)
	}
	return n
}

// buildModule builds the main package of the module in dir, with the flags
// of `make bootstrap` (LAMBDA_FLAGS in the Makefile), and returns the
// binary's path.
func buildModule(tb testing.TB, dir, out string) string {
	tb.Helper()
	boot := filepath.Join(out, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", boot, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build in %s: %v\n%s", dir, err, out)
	}
	return boot
}

// checkTracing invokes v once under a sampled trace and checks that a
// subsegment of that trace reaches the daemon when v traces, and none when
// not.
func checkTracing(tb testing.TB, v *tracingVariant, env []string, payload []byte, daemon *udpDaemon, root string) {
	tb.Helper()
	header := "Root=" + root + ";Parent=53995c3f42cd8ad8;Sampled=1"
	out := invokeTraced(tb, v.boot, env, payload, header)
	docs := daemon.wait(root, v.traced)
	switch {
	case v.traced && len(docs) == 0:
		tb.Errorf("%s: no subsegment of trace %s reached the daemon; its output:\n%s", v.name, root, out)
	case !v.traced && len(docs) > 0:
		tb.Errorf("%s: got subsegments %s, want none", v.name, docs)
	}
	tb.Logf("%-8s traced invocation: %d subsegment(s) of its trace reached the daemon", v.name, len(docs))
	for _, d := range docs {
		var sub struct {
			Type     string `json:"type"`
			Name     string `json:"name"`
			ParentID string `json:"parent_id"`
		}
		if err := json.Unmarshal(d, &sub); err != nil || sub.Type != "subsegment" || sub.Name != "Secrets Manager" || sub.ParentID == "" {
			tb.Errorf("%s: got %s, want an independent Secrets Manager subsegment", v.name, d)
		}
	}
}

// invokeTraced runs boot against a stand-in for the Lambda Runtime API
// that hands it one event, payload, under the trace header, checks that it
// answers with a 200 and returns the function's output. (The emulator
// cannot do this: it passes no trace header on to the function.)
func invokeTraced(tb testing.TB, boot string, env []string, payload []byte, header string) string {
	tb.Helper()
	answers := make(chan string, 2)
	var once sync.Once
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/2018-06-01/runtime/invocation/next" {
			first := false
			once.Do(func() { first = true })
			if !first {
				<-r.Context().Done() // no second event
				return
			}
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", "traced-1")
			w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(25*time.Second).UnixMilli(), 10))
			w.Header().Set("Lambda-Runtime-Trace-Id", header)
			w.Write(payload)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		answers <- r.URL.Path + " " + string(body) // the response, or an init or invocation error
	}))
	defer api.Close()

	cmd := exec.Command(boot)
	cmd.Dir, cmd.Env = filepath.Dir(boot), append(slices.Clone(env), "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(api.URL, "http://"))
	var out callbacktest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	// Stopped before its output is read: Wait returns once every byte the
	// process wrote is in out.
	stop := sync.OnceFunc(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	defer stop()
	var answer string
	select {
	case answer = <-answers:
	case <-time.After(20 * time.Second):
		stop()
		tb.Fatalf("%s answered nothing\n%s", boot, out.String())
	}
	path, body, _ := strings.Cut(answer, " ")
	var resp struct {
		StatusCode int `json:"statusCode"`
	}
	if json.Unmarshal([]byte(body), &resp); path != "/2018-06-01/runtime/invocation/traced-1/response" || resp.StatusCode != http.StatusOK {
		stop()
		tb.Fatalf("%s answered %s, want a 200 response\n%s", boot, answer, out.String())
	}
	stop()
	return out.String()
}

// udpDaemon stands in for the X-Ray daemon: a UDP listener that keeps the
// documents it receives.
type udpDaemon struct {
	addr string
	mu   sync.Mutex
	docs [][]byte
}

func listenDaemon(tb testing.TB) *udpDaemon {
	tb.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	d := &udpDaemon{addr: conn.LocalAddr().String()}
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			_, doc, _ := bytes.Cut(buf[:n], []byte("\n")) // after the {"format": "json", "version": 1} line
			d.mu.Lock()
			d.docs = append(d.docs, bytes.Clone(doc))
			d.mu.Unlock()
		}
	}()
	return d
}

// wait returns the documents of the trace root: as soon as there is one
// when want, else after a short while.
func (d *udpDaemon) wait(root string, want bool) [][]byte {
	deadline := time.Now().Add(time.Second)
	for {
		var found [][]byte
		d.mu.Lock()
		for _, doc := range d.docs {
			var s struct {
				TraceID string `json:"trace_id"`
			}
			if json.Unmarshal(doc, &s) == nil && s.TraceID == root {
				found = append(found, doc)
			}
		}
		d.mu.Unlock()
		if (want && len(found) > 0) || time.Now().After(deadline) {
			return found
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pairedDifferences returns a[i]-b[i] for each run i.
func pairedDifferences(a, b []float64) []float64 {
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	return d
}
