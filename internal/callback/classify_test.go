package callback

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// putOnly is a store that takes no uploads, so that large parts wait in
// files, and stores nothing.
type putOnly struct{}

func (putOnly) Put(context.Context, *Object) error { return nil }

// newPart reads b as one attachment of a callback, which classifies it.
func newPart(t testing.TB, formName, fileName, contentType string, b []byte) *part {
	t.Helper()
	svc := &Service{c: Config{Store: putOnly{}, SpoolDir: t.TempDir(), Logger: slog.Default()}}
	in := svc.newIntake(context.Background(), &Event{JobID: "j"})
	p := &part{index: 1, formName: formName, fileName: fileName, contentType: contentType}
	if err := in.readPart(bytes.NewReader(b), p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.release)
	return p
}

func TestClassify(t *testing.T) {
	transcript := fixture(t, "transcript-json-v2-example.json")
	jobinfo := fixture(t, "jobinfo.json")
	srt := fixture(t, "transcript-srt-excerpt.srt")
	txt := fixture(t, "transcript-txt-example.txt")
	wav := fixture(t, "media.wav")
	tests := []struct {
		name                          string
		formName, fileName, mediaType string
		body                          []byte
		want                          string
	}{
		// Rule a: a content name as form name, else as filename, wins over the bytes.
		{"form name transcript", "transcript", "", "application/json", transcript, ContentTranscript},
		{"form name transcript.json-v2", "transcript.json-v2", "", "", transcript, ContentTranscript},
		{"form name txt", "transcript.txt", "", "text/plain", txt, ContentTxt},
		{"form name srt", "transcript.srt", "x.txt", "text/plain", srt, ContentSRT},
		{"form name jobinfo", "jobinfo", "", "application/json", jobinfo, ContentJobInfo},
		{"form name data", "data", "", "application/json", transcript, ContentData},
		{"form name text", "text", "", "text/plain", txt, "text"},
		{"form name alignment", "alignment", "", "text/plain", txt, "alignment"},
		{"form name alignment.one_per_line", "alignment.one_per_line", "", "", txt, "alignment.one_per_line"},
		{"form name alignment.word_start_and_end", "alignment.word_start_and_end", "", "", txt, "alignment.word_start_and_end"},
		{"filename when form name is not a content name", "file", "jobinfo", "", jobinfo, ContentJobInfo},
		{"form name wins over filename", "transcript.txt", "jobinfo", "", txt, ContentTxt},
		{"content names are case-sensitive", "Transcript", "", "", txt, ContentTxt},

		// Rule b: data_file and unknown names, by bytes and type.
		{"data_file json-v2", "data_file", "", "application/json", transcript, ContentTranscript},
		{"data_file json-v2 sent as octet-stream", "data_file", "t.json", "application/octet-stream", transcript, ContentTranscript},
		{"sdk fixture untyped", "", "", "", fixture(t, "transcript-json-v2-sdk-test-fixture.json"), ContentTranscript},
		{"real capture", "", "", "application/json", fixture(t, "transcript-json-v2-real-capture-vcon.json"), ContentTranscript},
		{"jobinfo by keys", "", "", "application/json", jobinfo, ContentJobInfo},
		{"json with id, created_at and results is not jobinfo", "", "", "application/json", []byte(`{"id":"a","created_at":"b","results":[]}`), ContentOther},
		{"other json", "", "", "application/json", fixture(t, "job-status-example.json"), ContentOther},
		{"json array", "", "", "application/json", []byte(`[{"format":"2.9","results":[]}]`), ContentOther},
		{"broken json", "", "", "application/json", transcript[:len(transcript)-10], ContentOther},
		{"srt as text/plain", "", "", "text/plain", srt, ContentSRT},
		{"srt untyped", "data_file", "", "", srt, ContentSRT},
		{"srt as application/x-subrip", "", "", "application/x-subrip", srt, ContentSRT},
		{"txt as text/plain with charset", "", "", "text/plain; charset=utf-8", txt, ContentTxt},
		{"txt untyped", "", "", "", txt, ContentTxt},
		{"txt as octet-stream is media", "", "", "application/octet-stream", txt, ContentData},
		{"srt as octet-stream", "", "", "application/octet-stream", srt, ContentSRT},
		{"audio/wav", "", "", "audio/wav", wav, ContentData},
		{"video/mp4", "", "", "video/mp4", []byte("not really a video"), ContentData},
		{"binary octet-stream", "", "", "application/octet-stream", wav, ContentData},
		{"json bytes typed audio are media", "", "", "audio/mpeg", transcript, ContentData},

		// Rule c: anything else is kept as other.
		{"html", "", "", "text/html", []byte("<html><body>hi</body></html>"), ContentOther},
		{"xml", "", "", "application/xml", []byte("<?xml version=\"1.0\"?><a/>"), ContentOther},
		{"untyped binary", "", "", "", wav, ContentOther},
		{"text with NUL", "", "", "text/plain", []byte("a\x00b"), ContentOther},
		{"invalid utf-8 text", "", "", "text/plain", []byte("caf\xe9"), ContentOther},
		{"unparsable parameters keep the media type", "", "", "text/plain; ;;", txt, ContentTxt},
		{"unparsable content type", "", "", "/plain", txt, ContentOther},
		{"empty attachment", "", "", "", nil, ContentOther},
		{"empty attachment named", "transcript.txt", "", "", nil, ContentTxt},
		{"srt typed text/html is not srt", "", "", "text/html", srt, ContentOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPart(t, tt.formName, tt.fileName, tt.mediaType, tt.body)
			if got := p.content; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestClassifySpilled covers attachments too large to hold in memory, which
// are judged by their head and type.
func TestClassifySpilled(t *testing.T) {
	big := func(head string, fill byte) []byte {
		b := bytes.Repeat([]byte{fill}, memoryLimit+1)
		copy(b, head)
		return b
	}
	srtHead := string(fixture(t, "transcript-srt-excerpt.srt"))
	tests := []struct {
		name, contentType string
		body              []byte
		want              string
	}{
		{"large text", "text/plain", big("SPEAKER S1: hello", 'a'), ContentTxt},
		{"large srt", "text/plain", big(srtHead, '\n'), ContentSRT},
		{"large media", "application/octet-stream", big("RIFF", 0), ContentData},
		{"large untyped text", "", big("SPEAKER S1: hello", 'a'), ContentTxt},
		{"large untyped binary", "", big("RIFF", 0), ContentOther},
		// A rune cut in two at the end of the head is still text.
		{"large text with a rune across the head's end", "text/plain", append(bytes.Repeat([]byte("a"), headLen-1), bytes.Repeat([]byte("é"), memoryLimit)...), ContentTxt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPart(t, "", "", tt.contentType, tt.body)
			if _, ok := p.held.(*inFile); !ok || !p.large {
				t.Fatalf("got the part held in %T, large %v, want a large part in a file", p.held, p.large)
			}
			if got := p.content; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
