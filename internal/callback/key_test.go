package callback

import (
	"strings"
	"testing"
)

func TestRelativeKey(t *testing.T) {
	tests := []struct {
		content, formName, fileName, contentType string
		index                                    int
		want                                     string
	}{
		{ContentTranscript, "transcript", "", "", 1, "transcript.json"},
		{ContentTxt, "", "", "", 1, "transcript.txt"},
		{ContentSRT, "", "", "", 1, "transcript.srt"},
		{ContentJobInfo, "", "", "", 1, "jobinfo.json"},
		{"text", "", "", "", 1, "text.txt"},
		{"alignment", "", "", "", 1, "alignment.txt"},
		{"alignment.one_per_line", "", "", "", 1, "alignment.one_per_line.txt"},
		{"alignment.word_start_and_end", "", "", "", 1, "alignment.word_start_and_end.txt"},
		{ContentData, "data", "meeting.wav", "audio/wav", 1, "data/meeting.wav"},
		{ContentData, "data", "../../etc/passwd", "", 1, "data/passwd"},
		{ContentData, "data", `C:\Users\me\call.mp3`, "", 1, "data/call.mp3"},
		{ContentData, "data", "", "audio/wav", 1, "data/media.wav"},
		{ContentData, "data", "", "audio/mpeg", 1, "data/media.mp3"},
		{ContentData, "data", "", "audio/mp4", 1, "data/media.m4a"},
		{ContentData, "data", "", "audio/ogg", 1, "data/media.ogg"},
		{ContentData, "data", "", "audio/flac", 1, "data/media.flac"},
		{ContentData, "data", "", "video/mp4", 1, "data/media.mp4"},
		{ContentData, "data", "", "video/webm", 1, "data/media.webm"},
		{ContentData, "data", "", "audio/x-unknown", 1, "data/media.bin"},
		{ContentData, "data", "", "", 1, "data/media.bin"},
		{ContentData, "data", "..", "audio/wav", 1, "data/media.wav"},
		{ContentOther, "notes", "", "text/html", 3, "other/notes"},
		{ContentOther, "", "", "text/html", 3, "other/part-3"},
		{ContentOther, "../x", "", "", 2, "other/x"},
		{ContentOther, "/", "", "", 2, "other/part-2"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			p := &part{index: tt.index, formName: tt.formName, fileName: tt.fileName, contentType: tt.contentType}
			if got := relativeKey(tt.content, p); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSafeName(t *testing.T) {
	long := strings.Repeat("a", 300)
	tests := []struct{ in, want string }{
		{"meeting.wav", "meeting.wav"},
		{"my call (1).mp3", "my_call__1_.mp3"},
		{"réunion.ogg", "r_union.ogg"},
		{"../../secret", "secret"},
		{`..\..\secret`, "secret"},
		{"/abs/path.wav", "path.wav"},
		{"..", ""},
		{".", ""},
		{".hidden", "hidden"},
		{"name.", "name"},
		{"a\x00b\nc\x7f", "a_b_c_"},
		{"\x00\x01", ""},
		{"", ""},
		{"dir/", ""},
		{long + ".wav", strings.Repeat("a", maxNameLen-4) + ".wav"},
		{long, strings.Repeat("a", maxNameLen)},
		{"a." + long, "a." + strings.Repeat("a", maxNameLen-2)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := safeName(tt.in)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if strings.ContainsAny(got, `/\`) || strings.HasPrefix(got, ".") || len(got) > maxNameLen {
				t.Errorf("got %q: not a safe base name", got)
			}
		})
	}
}

func TestWithSuffix(t *testing.T) {
	tests := []struct {
		key  string
		n    int
		want string
	}{
		{"p/id/transcript.json", 2, "p/id/transcript-2.json"},
		{"id/alignment.one_per_line.txt", 3, "id/alignment.one_per_line-3.txt"},
		{"id/data/media.wav", 2, "id/data/media-2.wav"},
		{"id/other/part-1", 2, "id/other/part-1-2"},
		{"a.b/id/other/notes", 2, "a.b/id/other/notes-2"},
	}
	for _, tt := range tests {
		if got := withSuffix(tt.key, tt.n); got != tt.want {
			t.Errorf("withSuffix(%q, %d): got %q, want %q", tt.key, tt.n, got, tt.want)
		}
	}
}
