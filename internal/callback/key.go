package callback

import (
	"mime"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxNameLen bounds a name taken from the sender (a filename or form name).
const maxNameLen = 100

// mediaExtensions gives the extension of a media attachment that came without
// a filename.
var mediaExtensions = map[string]string{
	"audio/wav":        ".wav",
	"audio/wave":       ".wav",
	"audio/x-wav":      ".wav",
	"audio/vnd.wave":   ".wav",
	"audio/mpeg":       ".mp3",
	"audio/mp3":        ".mp3",
	"audio/mp4":        ".m4a",
	"audio/x-m4a":      ".m4a",
	"audio/aac":        ".aac",
	"audio/ogg":        ".ogg",
	"audio/opus":       ".opus",
	"audio/flac":       ".flac",
	"audio/x-flac":     ".flac",
	"audio/webm":       ".webm",
	"audio/amr":        ".amr",
	"video/mp4":        ".mp4",
	"video/webm":       ".webm",
	"video/ogg":        ".ogv",
	"video/quicktime":  ".mov",
	"video/x-matroska": ".mkv",
	"video/x-msvideo":  ".avi",
	"video/mpeg":       ".mpeg",
}

// FixedKey returns where an attachment of content goes below the job's
// prefix ("<KeyPrefix><job id>/"), for the contents stored under a fixed
// name: every content but ContentData and ContentOther, whose names come
// from the sender. Two different attachments of one content in one callback
// get numbered keys besides ("transcript-2.json").
func FixedKey(content string) (string, bool) {
	switch content {
	case ContentTranscript:
		return "transcript.json", true
	case ContentTxt:
		return "transcript.txt", true
	case ContentSRT:
		return "transcript.srt", true
	case ContentJobInfo:
		return "jobinfo.json", true
	case ContentText, ContentAlignment, ContentAlignmentPerLine, ContentAlignmentStartsEnd:
		return content + ".txt", true // plain text
	}
	return "", false
}

// relativeKey is where an attachment goes below the job's prefix.
func relativeKey(content string, p *part) string {
	if key, ok := FixedKey(content); ok {
		return key
	}
	switch content {
	case ContentData:
		if name := safeName(p.fileName); name != "" {
			return "data/" + name
		}
		return "data/media" + mediaExtension(p.contentType)
	case ContentOther:
		if name := safeName(p.formName); name != "" {
			return "other/" + name
		}
		return "other/part-" + strconv.Itoa(p.index)
	}
	panic("callback: no key for content " + content) // classify names no other
}

func mediaExtension(contentType string) string {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	if ext, ok := mediaExtensions[mediaType]; ok {
		return ext
	}
	return ".bin"
}

// safeName reduces a name from the sender to a base name that is safe in a
// key and in a file system: its last path element, only ASCII letters,
// digits, '.', '-' and '_' (anything else becomes '_'), no leading or
// trailing dots, at most maxNameLen bytes. It returns "" when nothing usable
// is left.
func safeName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		if r < utf8.RuneSelf && isSafeNameByte(byte(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), ".")
	if len(s) > maxNameLen {
		ext := path.Ext(s)
		if len(ext) > maxNameLen/4 {
			ext = ""
		}
		s = s[:maxNameLen-len(ext)] + ext
	}
	if strings.Trim(s, "_") == "" {
		return ""
	}
	return s
}

func isSafeNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '-' || c == '_'
}

// withSuffix inserts "-n" before the extension of a key's last element:
// "P/transcript.json" becomes "P/transcript-2.json".
func withSuffix(key string, n int) string {
	dir, base := path.Split(key)
	ext := ""
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		base, ext = base[:i], base[i:]
	}
	return dir + base + "-" + strconv.Itoa(n) + ext
}

// keyring gives out the keys of one callback's attachments, in the order
// of the body, by one rule for every part: a part gets its base key, or the
// base with the first free number ("transcript-2.json"), and a part whose
// bytes are those of an earlier part under one of these keys is stored
// once. A large part gets its key before its hash is known; its hash is
// settled when its end is read, before the next part begins.
type keyring struct {
	prefix string
	// taken maps each key given out to its bytes' hash, nil while unknown.
	taken map[string]*[32]byte
}

func newKeyring(prefix string) *keyring {
	return &keyring{prefix: prefix, taken: map[string]*[32]byte{}}
}

// assign returns the key for a part whose key below the prefix is base,
// and whether an earlier part holds the same bytes under it. sum is nil
// while the part's hash is not known.
func (k *keyring) assign(base string, sum *[32]byte) (key string, duplicate bool) {
	for n := 1; ; n++ {
		key = k.numbered(base, n)
		earlier, ok := k.taken[key]
		if !ok {
			k.taken[key] = sum
			return key, false
		}
		if sum != nil && earlier != nil && *earlier == *sum {
			return key, true
		}
	}
}

// settle records the hash of a key that assign gave out without one, and
// reports whether an earlier key of the same base holds the same bytes.
func (k *keyring) settle(base, key string, sum [32]byte) (duplicate bool) {
	k.taken[key] = &sum
	for n := 1; ; n++ {
		earlier := k.numbered(base, n)
		if earlier == key {
			return false
		}
		if s := k.taken[earlier]; s != nil && *s == sum {
			return true
		}
	}
}

func (k *keyring) numbered(base string, n int) string {
	if n == 1 {
		return k.prefix + base
	}
	return withSuffix(k.prefix+base, n)
}
