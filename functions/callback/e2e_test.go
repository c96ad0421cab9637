package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/config"
	"smcallbacks/internal/mototest"
	"smcallbacks/internal/promexport/promtest"
)

// These tests build the real binary, run it in server mode on the embedded
// local sinks, and drive it with curl.

const authLine = "Authorization: Bearer e2e-token"

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "callback-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "callback")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic("go build: " + err.Error() + "\n" + string(out))
	}
	code := mototest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

type server struct {
	url, dir string
	pid      int
}

// start runs the binary on a free port, with env added to the embedded
// defaults, and returns once it listens.
func start(t *testing.T, env ...string) *server {
	t.Helper()
	return startBinary(t, binary, env...)
}

// startBinary is start with another build of the receiver.
func startBinary(t *testing.T, bin string, env ...string) *server {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "AUTH_HEADERS="+authLine, "LOCAL_DIR="+dir, "LISTEN_ADDR=127.0.0.1:0", "KEY_PREFIX=", "BUCKET_NAME=", "QUEUE_URL=", "AWS_LAMBDA_RUNTIME_API=")
	cmd.Env = append(cmd.Env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the test
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		var line struct{ Msg, Addr string }
		json.Unmarshal(lines.Bytes(), &line)
		if line.Msg == "listening" {
			go func() { // keep draining, so the server never blocks on its log
				for lines.Scan() {
				}
			}()
			return &server{url: "http://" + line.Addr, dir: dir, pid: cmd.Process.Pid}
		}
	}
	t.Fatal("the server exited before it listened")
	return nil
}

func curl(t *testing.T, args ...string) (int, string) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("these tests send real requests with curl, which is not installed: apt-get install curl")
	}
	out, err := exec.Command("curl", append([]string{"-sS", "-w", "\n%{http_code}"}, args...)...).Output()
	if err != nil {
		t.Fatalf("curl %v: %v", args, err)
	}
	s := string(out)
	i := strings.LastIndexByte(s, '\n')
	var code int
	json.Unmarshal([]byte(s[i+1:]), &code)
	return code, s[:i]
}

func (s *server) events(t *testing.T) []callback.Event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, "events.jsonl"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var events []callback.Event
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		callbacktest.CheckEventSchema(t, line)
		var ev callback.Event
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("events.jsonl line %q: %v", line, err)
		}
		events = append(events, ev)
	}
	return events
}

func (s *server) object(t *testing.T, key string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, "objects", filepath.FromSlash(key)))
	if err != nil {
		t.Errorf("object %s: %v", key, err)
	}
	return b
}

// objectCount counts the files under the objects directory.
func (s *server) objectCount(t *testing.T) int {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(s.dir, "objects"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func testdata(name string) string {
	return filepath.Join("..", "..", "internal", "callback", "testdata", name)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestServerEndToEnd(t *testing.T) {
	s := start(t)
	cb := s.url + "/callback?id=r6sr3jlzjj&status=success"
	auth := []string{"-H", authLine}

	tests := []struct {
		name        string
		args        []string
		wantCode    int
		wantObjects map[string]string // key -> file sent
	}{
		{"multipart transcript, jobinfo and media", append(auth,
			"-F", "transcript=@"+testdata("transcript-json-v2-example.json")+";type=application/json",
			"-F", "jobinfo=@"+testdata("jobinfo.json")+";type=application/json",
			"-F", "data=@"+testdata("media.wav")+";type=audio/wav",
			cb), 200, map[string]string{
			"r6sr3jlzjj/transcript.json": testdata("transcript-json-v2-example.json"),
			"r6sr3jlzjj/jobinfo.json":    testdata("jobinfo.json"),
			"r6sr3jlzjj/data/media.wav":  testdata("media.wav"),
		}},
		{"legacy data_file", append(auth, "-F", "data_file=@"+testdata("transcript-json-v2-sdk-test-fixture.json"),
			s.url+"/callback?id=p8t3dcrign&status=success"), 200, map[string]string{
			"p8t3dcrign/transcript.json": testdata("transcript-json-v2-sdk-test-fixture.json"),
		}},
		{"single srt body by PUT", append(auth, "-X", "PUT", "-H", "Content-Type: text/plain", "--data-binary", "@"+testdata("transcript-srt-excerpt.srt"), cb),
			200, map[string]string{"r6sr3jlzjj/transcript.srt": testdata("transcript-srt-excerpt.srt")}},
		{"status only", append(auth, "-X", "POST", s.url+"/callback?id=r6sr3jlzjj&status=fetch_error"), 200, map[string]string{}},
		{"wrong token", []string{"-H", "Authorization: Bearer guess", "-F", "transcript.txt=@" + testdata("transcript-txt-example.txt"), cb}, 401, nil},
		{"GET", append(auth, cb), 405, nil},
		{"missing status", append(auth, "-d", "x", s.url+"/callback?id=r6sr3jlzjj"), 400, nil},
		{"multipart without boundary", append(auth, "-H", "Content-Type: multipart/form-data", "-d", "x", cb), 400, nil},
	}
	wantEvents, wantObjects := 0, 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := curl(t, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("got %d %s, want %d", code, body, tt.wantCode)
			}
			if code != 200 {
				var e map[string]string
				if json.Unmarshal([]byte(body), &e) != nil || e["error"] == "" {
					t.Errorf("got body %q, want a JSON error", body)
				}
				if n := len(s.events(t)); n != wantEvents {
					t.Errorf("got %d events, want %d: a refused callback queued one", n, wantEvents)
				}
				if n := s.objectCount(t); n != wantObjects {
					t.Errorf("got %d objects, want %d: a refused callback stored one", n, wantObjects)
				}
				return
			}
			wantEvents++
			wantObjects = s.objectCount(t)
			events := s.events(t)
			if len(events) != wantEvents {
				t.Fatalf("got %d events, want %d", len(events), wantEvents)
			}
			ev := events[len(events)-1]
			if len(ev.Attachments) != len(tt.wantObjects) || ev.SourceIP != "127.0.0.1" || !strings.HasPrefix(ev.UserAgent, "curl/") {
				t.Errorf("got event %+v, want %d attachments from curl at 127.0.0.1", ev, len(tt.wantObjects))
			}
			for key, file := range tt.wantObjects {
				if !bytes.Equal(s.object(t, key), readFile(t, file)) {
					t.Errorf("%s: stored bytes differ from %s", key, file)
				}
			}
		})
	}
	checkServerMetrics(t, s, len(tests))
}

// checkServerMetrics scrapes GET /metrics, without a token, after
// TestServerEndToEnd's callbacks, and parses it as Prometheus does.
func checkServerMetrics(t *testing.T, s *server, callbacks int) {
	families := promtest.Scrape(t, s.url+"/metrics")
	counters := []struct {
		name, label, value string
		want               float64
	}{
		{"speechmatics_callbacks_total", "outcome", "stored", 4},
		{"speechmatics_callbacks_total", "outcome", "unauthorized", 1},
		{"speechmatics_callbacks_total", "outcome", "bad_request", 3},
		{"speechmatics_callbacks_total", "outcome", "unavailable", 0},
		{"speechmatics_attachments_total", "content", "transcript.json-v2", 2},
		{"speechmatics_attachments_total", "content", "jobinfo", 1},
		{"speechmatics_attachments_total", "content", "data", 1},
		{"speechmatics_attachments_total", "content", "transcript.srt", 1},
		{"speechmatics_attachment_bytes_total", "", "", float64(len(readFile(t, testdata("transcript-json-v2-example.json"))) +
			len(readFile(t, testdata("jobinfo.json"))) + len(readFile(t, testdata("media.wav"))) +
			len(readFile(t, testdata("transcript-json-v2-sdk-test-fixture.json"))) + len(readFile(t, testdata("transcript-srt-excerpt.srt"))))},
		{"speechmatics_unknown_status_total", "", "", 0},
	}
	for _, c := range counters {
		if got, ok := promtest.Counter(families[c.name], c.label, c.value); !ok || got != c.want {
			t.Errorf("%s{%s=%q}: got %v (found %v), want %v", c.name, c.label, c.value, got, ok, c.want)
		}
	}
	h := families["speechmatics_handler_duration_seconds"]
	if h == nil || len(h.GetMetric()) != 1 || h.GetMetric()[0].GetHistogram().GetSampleCount() != uint64(callbacks) {
		t.Errorf("speechmatics_handler_duration_seconds: got %v, want a histogram of %d callbacks", h, callbacks)
	}
	_, body := curl(t, s.url+"/metrics")
	if strings.Contains(body, "e2e-token") || strings.Contains(body, "guess") || strings.Contains(body, "r6sr3jlzjj") {
		t.Error("/metrics holds a token or a job ID")
	}
}

func TestBadConfigurationStops(t *testing.T) {
	cmd := exec.Command(binary)
	cmd.Env = append(os.Environ(), "AUTH_HEADERS=Authorization:Bearer hunter2", "BUCKET_NAME=b", "QUEUE_URL=", "LOG_LEVEL=loud", "AWS_LAMBDA_RUNTIME_API=")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("the program kept running with a bad configuration")
	}
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 2 {
		t.Errorf("got %v, want exit status 2", err)
	}
	for _, want := range []string{"QUEUE_URL", "AUTH_HEADERS: line 1", "LOG_LEVEL"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("got %q, want it to name %s", out, want)
		}
	}
	if strings.Contains(string(out), "hunter2") {
		t.Errorf("output quotes the secret: %q", out)
	}
}

// TestCommandLine runs the binary as a newcomer does: --help and -h print
// what it is and every setting and exit 0, whatever the environment; an
// argument is refused; a port in use names the setting that changes it.
func TestCommandLine(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name     string
		args     []string
		env      []string
		wantExit int
		want     []string
	}{
		{"--help", []string{"--help"}, nil, 0, []string{"Speechmatics", "LISTEN_ADDR", "127.0.0.1:8080", "AUTH_HEADERS"}},
		{"-h with a bad configuration", []string{"-h"}, []string{"LOG_LEVEL=loud"}, 0, []string{"Speechmatics"}},
		{"an argument", []string{"--port=9000"}, nil, 2, []string{`unexpected argument "--port=9000"`, "--help"}},
		{"a port in use", nil, []string{"AUTH_HEADERS=" + authLine, "LISTEN_ADDR=" + busy.Addr().String()}, 1,
			[]string{busy.Addr().String(), "in use", "LISTEN_ADDR", "make run LISTEN_ADDR="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(binary, tt.args...)
			cmd.Env = append(append(os.Environ(), "LOCAL_DIR="+t.TempDir(), "AWS_LAMBDA_RUNTIME_API=", "BUCKET_NAME=", "QUEUE_URL="), tt.env...)
			out, err := cmd.CombinedOutput()
			exit := 0
			if e, ok := err.(*exec.ExitError); ok {
				exit = e.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if exit != tt.wantExit {
				t.Errorf("got exit status %d, want %d\n%s", exit, tt.wantExit, out)
			}
			for _, want := range tt.want {
				if !strings.Contains(string(out), want) {
					t.Errorf("got %s, want it to say %q", out, want)
				}
			}
		})
	}
	// Every setting the program reads is in its help.
	out, _ := exec.Command(binary, "--help").Output()
	for _, v := range config.Variables {
		if !strings.Contains(string(out), v.Name) {
			t.Errorf("--help does not name %s", v.Name)
		}
	}
}
