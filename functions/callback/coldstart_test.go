package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/mototest"
)

// BenchmarkColdStart compares the init duration of our bootstrap, configured
// as deployed (S3, SQS and the auth secret in moto), with that of a
// hello-world function on the same runtime library, both built with the
// deployment's flags and each run under a fresh Runtime Interface Emulator.
// The init is what Lambda reports as Init Duration: from the start of the
// process to its first request for an event, so ours includes reading the
// configuration, loading the AWS configuration, building the clients and the
// first read of the auth secret (here from moto, on this machine, over plain
// HTTP: deployed, that read also pays for TLS and a network round trip).
//
// The measurement is COLDSTART_RUNS (default 15) cold starts of each,
// alternated so that both share the machine's noise, taken once whatever
// b.N: run it with -benchtime 1x. It reports medians, not a time per op.
func BenchmarkColdStart(b *testing.B) {
	if coldStarts == nil {
		coldStarts = measureColdStarts(b)
	}
	r := coldStarts
	ours, hello := median(r.ours), median(r.hello)
	b.ReportMetric(0, "ns/op") // the wall time per b.N says nothing here
	b.ReportMetric(ours, "ms-init-ours")
	b.ReportMetric(hello, "ms-init-hello")
	b.ReportMetric(ours/hello, "x-hello")
	b.ReportMetric(float64(r.oursSize), "bytes-ours")
	b.ReportMetric(float64(r.helloSize), "bytes-hello")
	b.Logf("init over %d cold starts: ours median %.2f ms (%.2f–%.2f), hello-world median %.2f ms (%.2f–%.2f): %.2f× (goal: at most %.1f×)",
		len(r.ours), ours, slices.Min(r.ours), slices.Max(r.ours), hello, slices.Min(r.hello), slices.Max(r.hello), ours/hello, coldStartGoal)
}

// coldStartGoal is the product owner's bound on our median init duration,
// as a multiple of the hello-world's.
const coldStartGoal = 1.5

// coldStarts holds the measurement once taken, so that a benchmark run with
// more than one b.N does not take it again.
var coldStarts *coldStartResult

// coldStartResult is the init durations, in milliseconds, of each run, and
// the size of each bootstrap in bytes.
type coldStartResult struct {
	ours, hello         []float64
	oursSize, helloSize int64
}

func measureColdStarts(b *testing.B) *coldStartResult {
	b.Helper()
	rie := rieBinary(b)
	moto := mototest.Get(b)
	runs := 15
	if v := os.Getenv("COLDSTART_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("COLDSTART_RUNS: want a positive number of runs, got %q", v)
		}
		runs = n
	}
	payload, err := os.ReadFile(filepath.Join(callbacktest.Root(), "events", "http-api-status-error.json"))
	if err != nil {
		b.Fatal(err)
	}

	dir := b.TempDir()
	ours := buildBootstrap(b, "callback", filepath.Join(dir, "ours"))
	hello := buildBootstrap(b, "callback/testdata/hello", filepath.Join(dir, "hello"))
	r := &coldStartResult{oursSize: fileSize(b, ours), helloSize: fileSize(b, hello)}

	// Both get the same environment, built from scratch as Lambda's is: the
	// test's own may hold AWS settings (AWS_PROFILE, AWS_CA_BUNDLE) that make
	// the SDK's configuration load do work it never does when deployed.
	env := append([]string{"PATH=" + os.Getenv("PATH"), "LANG=en_US.UTF-8", "TZ=:UTC",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=25", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512", "LOG_LEVEL=info"}, moto.Env()...)
	env = append(env,
		"BUCKET_NAME="+moto.Bucket(b), "QUEUE_URL="+moto.Queue(b, false),
		"AUTH_SECRET_ID="+moto.Secret(b, `{"header":"Authorization","scheme":"Bearer","token":"test-token-0123456789"}`))
	for range runs {
		r.ours = append(r.ours, coldStart(b, rie, ours, env, payload))
		r.hello = append(r.hello, coldStart(b, rie, hello, env, payload))
	}
	return r
}

// buildBootstrap builds ./functions/<function> with `make bootstrap`, so
// that the hello-world gets exactly the flags of the deployment build too,
// and returns the binary's path.
func buildBootstrap(tb testing.TB, function, dir string) string {
	tb.Helper()
	cmd := exec.Command("make", "-s", "-C", callbacktest.Root(), "bootstrap",
		"GOARCH="+runtime.GOARCH, "BOOTSTRAP_DIR="+dir, "FUNCTION="+function)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("make bootstrap FUNCTION=%s: %v\n%s", function, err, out)
	}
	return filepath.Join(dir, "bootstrap")
}

func fileSize(tb testing.TB, path string) int64 {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}

// initReport is the emulator's line at the end of an init; its duration is
// the one Lambda reports. (The emulator's REPORT line has an Init Duration
// too, but a meaningless one.)
var initReport = regexp.MustCompile(`\[INFO\] \(rapid\) INIT REPORT\(durationMs: ([0-9.]+)\)`)

// coldStart starts a fresh emulator with boot and the environment env, and
// nothing else, sends it payload, which the emulator answers only after the
// function's init, stops it, and returns the init duration in milliseconds.
func coldStart(tb testing.TB, rie, boot string, env []string, payload []byte) float64 {
	tb.Helper()
	invokeAddr, runtimeAddr := freeAddr(tb), freeAddr(tb)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", invokeAddr, "--runtime-api-address", runtimeAddr, boot)
	cmd.Dir = filepath.Dir(boot)
	cmd.Env = env
	var out callbacktest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Signal(os.Interrupt)
			cmd.Wait() // and so every byte of its output is in out
		}
	}
	defer stop()

	// The emulator starts the function lazily, on the first invoke: the
	// wait for it to listen is not part of the init.
	if err := waitListening(invokeAddr); err != nil {
		stop()
		tb.Fatalf("%v\n%s", err, out.String())
	}
	resp, err := http.Post("http://"+invokeAddr+"/2015-03-31/functions/function/invocations", "application/json", bytes.NewReader(payload))
	if err != nil {
		stop()
		tb.Fatalf("invoke %s: %v\n%s", boot, err, out.String())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// A 200 from ours also says that its init read the auth secret: without
	// it the callback is refused with 503.
	var answer struct {
		StatusCode int `json:"statusCode"`
	}
	json.Unmarshal(body, &answer) // a body that is no response event fails below
	if answer.StatusCode != http.StatusOK {
		stop()
		tb.Fatalf("invoke %s: HTTP %d %s, want a 200 response\n%s", boot, resp.StatusCode, body, out.String())
	}
	stop()
	m := initReport.FindStringSubmatch(out.String())
	if m == nil {
		tb.Fatalf("the emulator reported no init duration for %s:\n%s", boot, out.String())
	}
	ms, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		tb.Fatalf("init duration %q: %v", m[1], err)
	}
	return ms
}

// median returns the middle value of xs, or the mean of the two middle ones.
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
