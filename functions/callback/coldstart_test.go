package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"smcallbacks/internal/benchtable"
	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/mototest"
)

// BenchmarkColdStart compares the init duration of our bootstrap, configured
// as deployed (S3, SQS and the auth secret in moto), with that of the
// fairest hello-world: testdata/hello-sdk, which does at init what every
// function of ours must, load the AWS configuration and read one secret from
// Secrets Manager with the stock SDK, and nothing else. Both are built with
// the deployment's flags and run under a fresh Runtime Interface Emulator.
// The init is what Lambda reports as Init Duration: from the start of the
// process to its first request for an event, so ours includes reading the
// configuration, building the clients and the first read of the auth
// secret (here from moto, on this machine, over plain HTTP: deployed, that
// read also pays for TLS and a network round trip, hello-sdk's alike).
//
// The measurement is COLDSTART_RUNS (default 15) cold starts of each,
// interleaved (ours then hello-sdk, then the other way round) so that both
// share the machine's noise, taken once whatever b.N: run it with
// -benchtime 1x. It reports medians, not a time per op, and records the
// row of `make bench`'s table: the median of the per-pair ratios against
// the goal, and the binaries' sizes.
func BenchmarkColdStart(b *testing.B) {
	if coldStarts == nil {
		coldStarts = measureColdStarts(b)
		row := benchtable.Compare("cold start (Lambda init)", nanoseconds(coldStarts.ours), nanoseconds(coldStarts.hello))
		row.Goal = coldStartGoal
		row.Note = fmt.Sprintf("floor: hello-sdk; binaries %.1f MB and %.1f MB",
			float64(coldStarts.oursSize)/1e6, float64(coldStarts.helloSize)/1e6)
		benchtable.Record(b, row)
	}
	r := coldStarts
	ours, hello := benchtable.Median(r.ours), benchtable.Median(r.hello)
	b.ReportMetric(0, "ns/op") // the wall time per b.N says nothing here
	b.ReportMetric(ours, "ms-init-ours")
	b.ReportMetric(hello, "ms-init-hello-sdk")
	b.ReportMetric(ours/hello, "x-hello-sdk")
	b.ReportMetric(float64(r.oursSize), "bytes-ours")
	b.ReportMetric(float64(r.helloSize), "bytes-hello-sdk")
	b.Logf("init over %d cold starts: ours median %.2f ms (quartiles %.2f–%.2f), hello-sdk median %.2f ms (%.2f–%.2f): %.2f× (goal: at most %.1f×); binaries %.1f MB and %.1f MB",
		len(r.ours), ours, benchtable.Quantile(r.ours, 0.25), benchtable.Quantile(r.ours, 0.75), hello, benchtable.Quantile(r.hello, 0.25), benchtable.Quantile(r.hello, 0.75),
		ours/hello, coldStartGoal, float64(r.oursSize)/1e6, float64(r.helloSize)/1e6)
}

// nanoseconds converts durations in milliseconds, for benchtable.
func nanoseconds(ms []float64) []float64 {
	ns := make([]float64, len(ms))
	for i, m := range ms {
		ns[i] = m * 1e6
	}
	return ns
}

// coldStartGoal is the bound on our median init duration, as a
// multiple of hello-sdk's.
const coldStartGoal = 1.3

// coldStarts holds the measurement once taken, so that a benchmark run with
// more than one b.N does not take it again.
var coldStarts *coldStartResult

// coldStartResult is the init durations, in milliseconds, of each run of
// ours and of hello-sdk, and the size of each bootstrap in bytes.
type coldStartResult struct {
	ours, hello         []float64
	oursSize, helloSize int64
}

func measureColdStarts(b *testing.B) *coldStartResult {
	b.Helper()
	rie := rieBinary(b)
	moto := mototest.Get(b)
	runs := coldStartRuns(b)
	payload := coldStartPayload(b)

	dir := b.TempDir()
	ours := buildBootstrap(b, "callback", filepath.Join(dir, "ours"))
	hello := buildBootstrap(b, "callback/testdata/hello-sdk", filepath.Join(dir, "hello-sdk"))
	r := &coldStartResult{oursSize: fileSize(b, ours), helloSize: fileSize(b, hello)}

	env := coldStartEnv(b, moto, "BUCKET_NAME="+moto.Bucket(b), "QUEUE_URL="+moto.Queue(b, false))
	for i := range runs {
		if i%2 == 0 {
			r.ours = append(r.ours, coldStart(b, rie, ours, env, payload))
			r.hello = append(r.hello, coldStart(b, rie, hello, env, payload))
		} else {
			r.hello = append(r.hello, coldStart(b, rie, hello, env, payload))
			r.ours = append(r.ours, coldStart(b, rie, ours, env, payload))
		}
	}
	return r
}

// coldStartPayload is the event every cold start answers: a status-only
// callback, so that the init, not the handling, is what differs.
func coldStartPayload(tb testing.TB) []byte {
	tb.Helper()
	payload, err := os.ReadFile(filepath.Join(callbacktest.Root(), "events", "http-api-status-error.json"))
	if err != nil {
		tb.Fatal(err)
	}
	return payload
}

// coldStartEnv is the environment of every function measured, built from
// scratch as Lambda's is, with the auth secret in moto and extra: the
// test's own environment may hold AWS settings (AWS_PROFILE, AWS_CA_BUNDLE)
// that make the SDK's configuration load do work it never does when
// deployed.
func coldStartEnv(tb testing.TB, moto *mototest.Server, extra ...string) []string {
	tb.Helper()
	env := append([]string{"PATH=" + os.Getenv("PATH"), "LANG=en_US.UTF-8", "TZ=:UTC",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=25", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512", "LOG_LEVEL=info"}, moto.Env()...)
	env = append(env, "AUTH_SECRET_ID="+moto.Secret(tb, `{"header":"Authorization","scheme":"Bearer","token":"test-token-0123456789"}`))
	return append(env, extra...)
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
// The emulator binds its runtime API port only on the first invoke, when
// another process may have taken the port chosen for it: such a start is
// tried again on other ports, twice at most.
func coldStart(tb testing.TB, rie, boot string, env []string, payload []byte) float64 {
	tb.Helper()
	for attempt := 1; ; attempt++ {
		ms, out, err := coldStartOnce(tb, rie, boot, env, payload)
		if err == nil {
			return ms
		}
		if attempt == 3 || !strings.Contains(out, "address already in use") {
			tb.Fatalf("%v\n%s", err, out)
		}
	}
}

// coldStartOnce is one cold start; its error comes with the emulator's
// output.
func coldStartOnce(tb testing.TB, rie, boot string, env []string, payload []byte) (float64, string, error) {
	tb.Helper()
	addrs := freeAddrs(tb, 2)
	invokeAddr, runtimeAddr := addrs[0], addrs[1]
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", invokeAddr, "--runtime-api-address", runtimeAddr, boot)
	cmd.Dir = filepath.Dir(boot)
	cmd.Env = env
	var out callbacktest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return 0, "", err
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
		return 0, out.String(), err
	}
	resp, err := http.Post("http://"+invokeAddr+"/2015-03-31/functions/function/invocations", "application/json", bytes.NewReader(payload))
	if err != nil {
		stop()
		return 0, out.String(), fmt.Errorf("invoke %s: %w", boot, err)
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
		return 0, out.String(), fmt.Errorf("invoke %s: HTTP %d %s, want a 200 response", boot, resp.StatusCode, body)
	}
	stop()
	m := initReport.FindStringSubmatch(out.String())
	if m == nil {
		return 0, out.String(), fmt.Errorf("the emulator reported no init duration for %s", boot)
	}
	ms, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, out.String(), fmt.Errorf("init duration %q: %w", m[1], err)
	}
	return ms, out.String(), nil
}

// TestOnlyServerBuildLinksPrometheus keeps Prometheus, which only server
// mode's GET /metrics uses, out of the Lambda build (make bootstrap, tag
// lambda.norpc), where initialising its packages took about a millisecond
// of every cold start; the server build (make build-local) keeps it.
func TestOnlyServerBuildLinksPrometheus(t *testing.T) {
	for _, tt := range []struct {
		name string
		tags []string
		want bool
	}{{"server build", nil, true}, {"Lambda build", []string{"-tags", "lambda.norpc"}, false}} {
		out, err := exec.Command("go", append(append([]string{"list", "-deps"}, tt.tags...), ".")...).Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.Contains(out, []byte("github.com/prometheus/client_golang")); got != tt.want {
			t.Errorf("%s: got Prometheus linked %v, want %v", tt.name, got, tt.want)
		}
	}
}
