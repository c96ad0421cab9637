package callback

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestPatternsMatchRegexps holds the hand-written checks of job IDs,
// statuses and SRT timings to the regular expressions they stand for, on
// every short string over the characters that matter and on the edges of
// each length bound.
func TestPatternsMatchRegexps(t *testing.T) {
	jobID, status := regexp.MustCompile(jobIDPattern), regexp.MustCompile(statusPattern)
	alphabet := []string{"a", "Z", "0", "_", "-", ".", "/", " ", "é", "\n", "A"}
	inputs := []string{""}
	for range 3 {
		for _, s := range inputs {
			for _, c := range alphabet {
				inputs = append(inputs, s+c)
			}
		}
	}
	for _, n := range []int{31, 32, 33, 127, 128, 129} {
		inputs = append(inputs, strings.Repeat("a", n), "_"+strings.Repeat("a", n-1), "a"+strings.Repeat("-", n-1))
	}
	for _, s := range inputs {
		if got, want := IsJobID(s), jobID.MatchString(s); got != want {
			t.Errorf("IsJobID(%q): got %v, want %v", s, got, want)
		}
		if got, want := isStatus(s), status.MatchString(s); got != want {
			t.Errorf("isStatus(%q): got %v, want %v", s, got, want)
		}
	}
}

func TestHasSRTCue(t *testing.T) {
	cue := regexp.MustCompile(`\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}`)
	seeds := []string{
		"1\n00:00:00,640 --> 00:00:03,080\nHey", "00:00:00,640 --> 00:00:03,080", "0:00:00,640 --> 00:00:03,080",
		"00:00:00,640 --> 00:00:03,08", "00:00:00.640 --> 00:00:03,080", "x --> 00:00:00,640 --> 00:00:03,080",
		"00:00:00,640 -->  00:00:03,080", "", " --> ", "000:00:00,640 --> 00:00:03,0800",
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range seeds {
		for range 2000 {
			b := []byte(s)
			for range r.IntN(3) { // a few bytes changed, digits and separators among them
				if len(b) > 0 {
					b[r.IntN(len(b))] = "0123456789:, ->x"[r.IntN(16)]
				}
			}
			if got, want := hasSRTCue(b), cue.Match(b); got != want {
				t.Fatalf("hasSRTCue(%q): got %v, want %v", b, got, want)
			}
		}
	}
}
