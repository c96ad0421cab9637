package apigateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"smcallbacks/internal/benchtable"
	"smcallbacks/internal/callback/callbacktest"
)

// BenchmarkPeers runs the same events through this handler and through the
// obvious handlers of other runtimes: Node.js with busboy and Python with
// python-multipart (scripts/peers, pinned there and installed by `make
// bench-peers`), and Go's own naive path; each beside the floor of
// BenchmarkEvent. Every contender parses the event, decodes the body,
// splits it into parts and hashes and keeps each; the peers in processes of
// their own, which time themselves. All are timed interleaved, round after
// round, as BenchmarkEvent times the handler and its floor.
//
// It runs only when BENCH_PEERS_NODE and BENCH_PEERS_PYTHON name the
// runtimes (with busboy on NODE_PATH): `make bench-peers` sets them. It is
// for the record, with no goal, and measures once whatever b.N.
func BenchmarkPeers(b *testing.B) {
	node, python := os.Getenv("BENCH_PEERS_NODE"), os.Getenv("BENCH_PEERS_PYTHON")
	if node == "" || python == "" {
		b.Skip("BENCH_PEERS_NODE and BENCH_PEERS_PYTHON are not set: run make bench-peers")
	}
	if peerRows != nil {
		b.ReportMetric(0, "ns/op")
		return
	}
	h := benchHandler(b)
	rounds := benchRounds(b)
	scripts := filepath.Join(callbacktest.Root(), "scripts", "peers")
	var rows []peerRow
	for _, c := range benchCases(b) {
		if c.name != "4MiB multipart v2 base64" && c.name != "4MiB multipart v1 base64" && c.name != "4MiB SRT v2 text" {
			continue
		}
		event := filepath.Join(b.TempDir(), "event.json")
		if err := os.WriteFile(event, c.payload, 0o644); err != nil {
			b.Fatal(err)
		}
		contenders := []benchtable.Contender{
			benchtable.Local(floorOf(c)),
			benchtable.Local(func() { h.Invoke(context.Background(), c.payload) }),
			benchtable.Local(naive(c)),
			startPeer(b, node, filepath.Join(scripts, "busboy.js"), event),
			startPeer(b, python, filepath.Join(scripts, "multipart.py"), event),
		}
		n := benchtable.Batch(contenders[1], 10*time.Millisecond)
		samples := benchtable.Interleave(rounds, n, contenders...)
		row := peerRow{name: c.name}
		for i, s := range samples {
			row.ms[i] = benchtable.Median(s) / 1e6
		}
		rows = append(rows, row)
	}
	peerRows = rows
	printPeers(os.Stdout, rows, rounds)
	b.ReportMetric(0, "ns/op") // the wall time per b.N says nothing here
}

// peerRows holds the measurement once taken.
var peerRows []peerRow

// peerRow is one event's median times, in milliseconds: the floor, this
// handler, Go's naive path, Node.js with busboy, Python with
// python-multipart.
type peerRow struct {
	name string
	ms   [5]float64
}

func printPeers(w io.Writer, rows []peerRow, rounds int) {
	fmt.Fprintf(w, "\nMedians of %d interleaved rounds, in ms, and as multiples of the floor:\n\n", rounds)
	fmt.Fprintln(w, "| event | floor | this handler | Go, naive | Node.js + busboy | Python + python-multipart |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %.2f |", r.name, r.ms[0])
		for _, ms := range r.ms[1:] {
			fmt.Fprintf(w, " %.2f (%.1f×) |", ms, ms/r.ms[0])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// startPeer starts a peer handler on the event file and returns it as a
// contender: asked for n runs on a line of its standard input, it answers
// with the nanoseconds they took.
func startPeer(b *testing.B, runtime, script, event string) benchtable.Contender {
	b.Helper()
	cmd := exec.Command(runtime, script, event)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s %s: %v", runtime, script, err)
	}
	b.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	lines := bufio.NewScanner(out)
	return func(n int) time.Duration {
		if _, err := fmt.Fprintln(in, n); err != nil {
			b.Fatalf("%s: %v", script, err)
		}
		if !lines.Scan() {
			b.Fatalf("%s stopped: %v", script, lines.Err())
		}
		ns, err := strconv.ParseInt(strings.TrimSpace(lines.Text()), 10, 64)
		if err != nil {
			b.Fatalf("%s answered %q: %v", script, lines.Text(), err)
		}
		return time.Duration(ns)
	}
}

// naive is the obvious Go handler: the event into aws-lambda-go's structs,
// the body decoded whole, multipart split by mime/multipart, each part
// hashed and kept.
func naive(c benchCase) func() {
	return func() {
		var ev events.APIGatewayV2HTTPRequest // the fields used are v1's too
		json.Unmarshal(c.payload, &ev)
		data := []byte(ev.Body)
		if ev.IsBase64Encoded {
			data, _ = base64.StdEncoding.DecodeString(ev.Body)
		}
		h := http.Header{}
		for k, v := range ev.Headers {
			h.Set(k, v)
		}
		_, params, err := mime.ParseMediaType(h.Get("Content-Type"))
		if err != nil || params["boundary"] == "" {
			sha256.Sum256(data)
			return
		}
		r := multipart.NewReader(bytes.NewReader(data), params["boundary"])
		for {
			p, err := r.NextPart()
			if err != nil {
				return
			}
			var kept bytes.Buffer
			hash := sha256.New()
			io.Copy(io.MultiWriter(hash, &kept), p)
			hash.Sum(nil)
		}
	}
}
