package callback

import (
	"bytes"
	"encoding/json"
	"mime"
	"slices"
	"strings"
	"unicode/utf8"
)

// Content names. Speechmatics names the items of notification_config's
// "contents" this way; ContentOther is ours, for an attachment that is none
// of them.
const (
	ContentTranscript = "transcript.json-v2"
	ContentTxt        = "transcript.txt"
	ContentSRT        = "transcript.srt"
	ContentJobInfo    = "jobinfo"
	ContentData       = "data"
	ContentText       = "text"
	// Alignment jobs' contents.
	ContentAlignment          = "alignment"
	ContentAlignmentPerLine   = "alignment.one_per_line"
	ContentAlignmentStartsEnd = "alignment.word_start_and_end"
	ContentOther              = "other"
)

// contents is every content an Attachment may name, in a stable order.
var contents = []string{
	ContentTranscript, ContentTxt, ContentSRT, ContentJobInfo, ContentData, ContentText,
	ContentAlignment, ContentAlignmentPerLine, ContentAlignmentStartsEnd, ContentOther,
}

// Contents returns every content name an Attachment may carry: the one list
// that configuration (such as the contents that complete a job) is checked
// against.
func Contents() []string { return slices.Clone(contents) }

// IsContent reports whether name is a content an Attachment may carry.
func IsContent(name string) bool { return slices.Contains(contents, name) }

// contentNames are the names an attachment may carry as its form name or
// filename, mapped to the content they stand for: every content but
// ContentOther under its own name, and json-v2 also under "transcript".
var contentNames = func() map[string]string {
	m := map[string]string{"transcript": ContentTranscript}
	for _, c := range contents {
		if c != ContentOther {
			m[c] = c
		}
	}
	return m
}()

// hasSRTCue reports whether b holds an SRT cue's timings, such as
// "00:00:00,640 --> 00:00:03,080": what the regular expression
// `\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}` matches, found
// by the arrow and checked around it.
func hasSRTCue(b []byte) bool {
	const arrow = " --> "
	for i := 0; ; {
		k := bytes.Index(b[i:], []byte(arrow))
		if k < 0 {
			return false
		}
		at := i + k
		if at >= len(srtTime) && isSRTTime(b[at-len(srtTime):at]) && isSRTTime(b[min(at+len(arrow), len(b)):]) {
			return true
		}
		i = at + 1
	}
}

// srtTime is the shape of an SRT timing: d a digit.
const srtTime = "dd:dd:dd,ddd"

// isSRTTime reports whether b starts with an SRT timing.
func isSRTTime(b []byte) bool {
	if len(b) < len(srtTime) {
		return false
	}
	for i := range len(srtTime) {
		if c := b[i]; srtTime[i] == 'd' && !isDigit(c) || srtTime[i] != 'd' && c != srtTime[i] {
			return false
		}
	}
	return true
}

// classify names the content of an attachment, first rule that fits:
//  1. its form name, else its filename, when that is a content name;
//  2. its bytes and Content-Type: a json-v2 transcript, job info, SRT, text
//     typed text/plain or untyped, or media (audio/*, video/*,
//     application/octet-stream);
//  3. anything else is ContentOther: still stored, never dropped.
//
// A large part is judged by its head, any other by all its bytes, wherever
// they wait: the same part gets the same content whatever came before it.
// The legacy form name "data_file" is not a content name, so such a
// transcript is recognised by rule 2.
func classify(p *part) (string, error) {
	if c, ok := contentNames[p.formName]; ok {
		return c, nil
	}
	if c, ok := contentNames[p.fileName]; ok {
		return c, nil
	}
	mediaType := ""
	if p.contentType != "" {
		// An unparsable Content-Type counts as an unknown type.
		mediaType, _, _ = mime.ParseMediaType(p.contentType)
		if mediaType == "" {
			mediaType = "unknown/unknown"
		}
	}
	switch {
	case p.size == 0 && !p.large: // a large part's size is not known yet
		// Nothing to tell it by; kept, but never taken for a transcript.
		return ContentOther, nil
	case strings.HasPrefix(mediaType, "audio/"), strings.HasPrefix(mediaType, "video/"):
		return ContentData, nil
	}
	s := sample{head: p.head, large: p.large, held: p.held, utf8Text: p.utf8Text}
	if !p.large {
		var err error
		if s.blocks, err = p.held.contents(); err != nil {
			return "", err
		}
	}
	return s.classify(mediaType), nil
}

// sample is what an attachment is classified by: its head when it is large,
// else all its bytes.
type sample struct {
	head     []byte
	large    bool
	blocks   [][]byte
	held     held
	utf8Text bool // known to be UTF-8 without NUL
}

func (s *sample) classify(mediaType string) string {
	plain := mediaType == "" || mediaType == "text/plain"
	octets := mediaType == "application/octet-stream"
	if c := s.classifyJSON(); c != "" {
		return c
	}
	text := s.isText()
	switch {
	case (plain || octets || srtTypes[mediaType]) && text && hasSRTCue(s.head):
		return ContentSRT
	case plain && text:
		return ContentTxt
	case octets:
		return ContentData
	}
	return ContentOther
}

// srtTypes are the media types that SRT subtitles are sent as, besides
// text/plain.
var srtTypes = map[string]bool{"application/x-subrip": true, "text/srt": true}

// isText reports whether the sample is UTF-8 text without NUL. A head may
// end in a rune cut in two.
func (s *sample) isText() bool {
	if s.utf8Text {
		return true
	}
	if !s.large {
		return isTextBlocks(s.blocks)
	}
	b := s.head
	if i := lastRuneStart(b); i >= 0 && !utf8.FullRune(b[i:]) {
		b = b[:i]
	}
	return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0
}

// isTextBlocks reports whether the blocks, one after another, are UTF-8
// without NUL, minding runes cut in two between blocks.
func isTextBlocks(blocks [][]byte) bool {
	var pending [utf8.UTFMax]byte
	n := 0 // bytes of a rune begun in an earlier block
	for _, b := range blocks {
		if n > 0 {
			k := copy(pending[n:], b)
			if !utf8.FullRune(pending[:n+k]) {
				if k < len(b) {
					return false
				}
				n += k
				continue
			}
			r, size := utf8.DecodeRune(pending[:n+k])
			if r == utf8.RuneError && size == 1 {
				return false
			}
			b = b[size-n:]
			n = 0
		}
		cut := len(b)
		if i := lastRuneStart(b); i >= 0 && !utf8.FullRune(b[i:]) {
			cut = i
		}
		if !utf8.Valid(b[:cut]) || bytes.IndexByte(b[:cut], 0) >= 0 {
			return false
		}
		n = copy(pending[:], b[cut:])
	}
	return n == 0
}

func lastRuneStart(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			return i
		}
	}
	return -1
}

// classifyJSON tells a json-v2 transcript from job info by their top-level
// keys: "" for a sample that is no JSON object, ContentOther for any other
// JSON object. A whole sample must be valid JSON; a large one is judged by
// the keys in its head, so only as a transcript.
func (s *sample) classifyJSON() string {
	if head := bytes.TrimLeft(s.head, " \t\r\n"); len(head) == 0 || head[0] != '{' {
		return ""
	}
	var keys topKeys
	if s.large {
		keys = headKeys(s.head)
		if keys.Format && keys.Results {
			return ContentTranscript
		}
		return ""
	}
	keys, valid := scanJSON(s.whole())
	if !valid {
		return ""
	}
	switch {
	case bool(keys.Format && keys.Results):
		return ContentTranscript
	case bool(keys.ID && keys.CreatedAt && !keys.Results):
		return ContentJobInfo
	}
	return ContentOther
}

// whole returns the sample's bytes in one slice. Bytes in memory are
// joined in place, so that the part is not held twice.
func (s *sample) whole() []byte {
	if m, ok := s.held.(*inMemory); ok {
		return m.bytes()
	}
	if len(s.blocks) == 1 {
		return s.blocks[0]
	}
	return bytes.Join(s.blocks, nil)
}

// topKeys records which of the keys that tell transcripts and job info
// apart an object has at its top level.
type topKeys struct {
	Format    present `json:"format"`
	Results   present `json:"results"`
	ID        present `json:"id"`
	CreatedAt present `json:"created_at"`
}

// headKeys reads the top-level keys of a JSON object from its first bytes,
// up to where they end or stop being JSON.
func headKeys(head []byte) topKeys {
	var keys topKeys
	dec := json.NewDecoder(bytes.NewReader(head))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return keys
	}
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			return keys
		}
		switch key {
		case "format":
			keys.Format = true
		case "results":
			keys.Results = true
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return keys
		}
	}
	return keys
}

// present records that a JSON key exists, without decoding its value.
type present bool

func (p *present) UnmarshalJSON([]byte) error {
	*p = true
	return nil
}
