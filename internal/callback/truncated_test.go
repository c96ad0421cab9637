package callback_test

import (
	"bytes"
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"smcallbacks/internal/callback"
)

// TestHandleTruncatedMultipart sends multipart bodies that end early in
// every way the framing allows, and complete ones beside them: only a body
// whose closing delimiter was read is acknowledged, and an early end stores
// and queues nothing.
func TestHandleTruncatedMultipart(t *testing.T) {
	const ct = "multipart/form-data; boundary=XB"
	for _, tt := range truncationCases() {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			req := request(query, ct, []byte(tt.body))
			// As net/http's bodies do: the last bytes come with io.EOF.
			req.Body = iotest.DataErrReader(req.Body)
			resp := h.service(t).Handle(context.Background(), req)
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, resp.Body, tt.wantCode)
			}
			wantEvents := 0
			if tt.wantCode == 200 {
				wantEvents = 1
			}
			if got := len(h.queue.Events()); got != wantEvents {
				t.Errorf("got %d events, want %d", got, wantEvents)
			}
			if tt.wantCode != 200 && len(h.store.Objects()) != 0 {
				t.Errorf("got objects %v, want none", keys(h.store.Objects()))
			}
		})
	}
}

// truncationCase is a multipart body with the boundary XB and the answer
// it must get.
type truncationCase struct {
	name     string
	body     string
	wantCode int
}

// truncationCases are multipart bodies cut in every way the framing
// allows, and complete ones beside them.
func truncationCases() []truncationCase {
	transcript := `{"format":"2.9","results":[]}`
	first := "--XB\r\nContent-Disposition: form-data; name=\"transcript\"\r\nContent-Type: application/json\r\n\r\n" + transcript
	// Past tailReader's window, with lines that look like delimiters.
	big := strings.Repeat("x\n--XB--\n--XB\n", 3000)
	bigFirst := "--XB\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n" + big
	return []truncationCase{
		{"large, inside a later part's headers", bigFirst + "\r\n--XB\r\nContent-Disposition: form-data; name=\"jobinfo\"", 400},
		{"large, complete", bigFirst + "\r\n--XB--\r\n", 200},
		{"large, complete with an epilogue", bigFirst + "\r\n--XB--\r\n" + strings.Repeat("e", 3000), 200},
		{"large, complete with a large epilogue", bigFirst + "\r\n--XB--\r\n" + strings.Repeat("e", 40000), 200},
		{"inside a later part's headers", first + "\r\n--XB\r\nContent-Disposition: form-data; name=\"jobinfo\"", 400},
		{"inside a header line's name", first + "\r\n--XB\r\nContent-Dispo", 400},
		{"right after a delimiter line", first + "\r\n--XB\r\n", 400},
		{"right after a delimiter, no line break", first + "\r\n--XB", 400},
		{"after a part's headers", first + "\r\n--XB\r\nContent-Disposition: form-data; name=\"jobinfo\"\r\n\r\n", 400},
		{"inside a part's bytes", first[:len(first)-5], 400},
		{"after a part's bytes", first, 400},
		{"after the line break before a delimiter", first + "\r\n", 400},
		{"inside the closing delimiter", first + "\r\n--XB-", 400},
		{"before the first delimiter", "preamble only\r\n", 400},
		{"inside the first delimiter", "--X", 400},
		{"closing delimiter inside a header value", first + "\r\n--XB\r\nX-Note: a\r\n--XB--", 400},
		{"complete", first + "\r\n--XB--\r\n", 200},
		{"complete without a final line break", first + "\r\n--XB--", 200},
		{"complete with padding", first + "\r\n--XB-- \t\r\n", 200},
		{"complete with an epilogue", first + "\r\n--XB--\r\nan epilogue, dropped\r\n", 200},
		{"complete with a preamble", "a preamble\r\n" + first + "\r\n--XB--\r\n", 200},
		{"complete and empty", "--XB--\r\n", 200},
		{"complete, a delimiter-like line in the epilogue", first + "\r\n--XB--\r\n--XB\r\n", 200},
		{"LF only, cut inside headers", "--XB\nContent-Disposition: form-data; name=\"a\"\n\nx\n--XB\nContent-Type: text/pl", 400},
		{"LF only, complete", "--XB\nContent-Disposition: form-data; name=\"a\"\n\nx\n--XB--\n", 200},
	}
}

// TestHandleEpilogueLimit reads what follows the closing delimiter, so
// that the body is read to its end, but only so much of it.
func TestHandleEpilogueLimit(t *testing.T) {
	body := []byte("--XB\r\nContent-Disposition: form-data; name=\"jobinfo\"\r\n\r\n{}\r\n--XB--\r\n")
	for _, tt := range []struct {
		epilogue int
		wantCode int
	}{{1 << 10, 200}, {128 << 10, 400}} {
		h := newHarness(t)
		b := append(bytes.Clone(body), bytes.Repeat([]byte("x"), tt.epilogue)...)
		if resp := h.service(t).Handle(context.Background(), request(query, "multipart/form-data; boundary=XB", b)); resp.StatusCode != tt.wantCode {
			t.Errorf("epilogue of %d bytes: got %d %s, want %d", tt.epilogue, resp.StatusCode, resp.Body, tt.wantCode)
		}
	}
}

// TestClassificationIgnoresWhatCameBefore sends the same small json-v2
// transcript, under the legacy form name that leaves it to be classified
// by its bytes, after 0, 1 and 4 parts that fill memory, and after large
// parts that stream: it gets the same content and key each time, whether it
// waits in memory or in a file.
func TestClassificationIgnoresWhatCameBefore(t *testing.T) {
	transcript := []byte(`{"format":"2.9","job":{},"results":[]}` + "\n")
	filler := func(i, size int) formPart {
		b := bytes.Repeat([]byte{byte(i), 0, 0xff, 1}, size/4)
		return formPart{"data", "", "audio/wav", b}
	}
	for _, streaming := range []bool{true, false} {
		for _, size := range []int{16 << 20, 16<<20 + 4} {
			for _, before := range []int{0, 1, 4} {
				var parts []formPart
				for i := range before {
					parts = append(parts, filler(i, size))
				}
				parts = append(parts, formPart{"data_file", "", "application/json", transcript})
				h := newHarness(t)
				if !streaming {
					h.cfg.Store = putOnly{h.store}
				}
				body, ct := multipartBody(t, parts...)
				resp := h.service(t).Handle(context.Background(), request(query, ct, body))
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("streaming %v, %d parts of %d bytes before: got %d %s", streaming, before, size, resp.StatusCode, resp.Body)
				}
				atts := h.queue.Events()[0].Attachments
				last := atts[len(atts)-1]
				got := []string{last.Content, last.Key}
				if want := []string{callback.ContentTranscript, "r6sr3jlzjj/transcript.json"}; !reflect.DeepEqual(got, want) {
					t.Errorf("streaming %v, %d parts of %d bytes before: got %v, want %v", streaming, before, size, got, want)
				}
			}
		}
	}
}

// TestIdenticalLargePartsStoredOnce sends one large part twice, and a third
// that differs: the repeat is stored and listed once, as a repeated small
// part is, and its upload is dropped.
func TestIdenticalLargePartsStoredOnce(t *testing.T) {
	big := bytes.Repeat([]byte{1, 2, 3, 4}, 5<<20)
	other := bytes.Repeat([]byte{4, 3, 2, 1}, 5<<20)
	for _, streaming := range []bool{true, false} {
		h := newHarness(t)
		if !streaming {
			h.cfg.Store = putOnly{h.store}
		}
		body, ct := multipartBody(t,
			formPart{"data", "m.wav", "audio/wav", big},
			formPart{"data", "m.wav", "audio/wav", big},
			formPart{"data", "m.wav", "audio/wav", other})
		resp := h.service(t).Handle(context.Background(), request(query, ct, body))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("streaming %v: got %d %s", streaming, resp.StatusCode, resp.Body)
		}
		var got []string
		for _, a := range h.queue.Events()[0].Attachments {
			got = append(got, a.Key)
		}
		want := []string{"r6sr3jlzjj/data/m.wav", "r6sr3jlzjj/data/m-3.wav"}
		if !reflect.DeepEqual(got, want) || len(h.store.Objects()) != 2 {
			t.Errorf("streaming %v: got keys %v and %d objects, want %v", streaming, got, len(h.store.Objects()), want)
		}
	}
}
