package benchtable

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestPrint(t *testing.T) {
	tests := []struct {
		name       string
		row        Row
		wantMet    string
		wantRatio  string
		wantFailed int
	}{
		{"met", Row{Case: "a", Ratio: 1.1, Low: 1, High: 1.2, Goal: 1.2}, "| yes |", "1.10× (1.00–1.20)", 0},
		{"missed", Row{Case: "b", Ratio: 1.3, Goal: 1.2}, "| **no** |", "1.30×", 1},
		{"allocation missed", Row{Case: "c", Ratio: 1.1, Goal: 1.2, AllocPerBody: 1.5, AllocGoal: 1.3}, "| **no** |", "1.10×", 1},
		{"broken", Row{Case: "d", Ratio: 0.9, Goal: 1.2}, "| **broken** |", "broken measurement", 1},
		{"broken without a goal", Row{Case: "e", Ratio: 0.5}, "| **broken** |", "broken measurement", 1},
		{"no goal", Row{Case: "f", Ratio: 3}, "| – |", "3.00×", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			failed := Print(&out, []Row{tt.row})
			if failed != tt.wantFailed {
				t.Errorf("got %d failed, want %d", failed, tt.wantFailed)
			}
			last := strings.TrimSpace(out.String())
			last = last[strings.LastIndex(last, "\n")+1:]
			if !strings.HasSuffix(last, tt.wantMet) || !strings.Contains(last, tt.wantRatio) {
				t.Errorf("got %q, want it to end in %q and show %q", last, tt.wantMet, tt.wantRatio)
			}
		})
	}
}

func TestQuantile(t *testing.T) {
	xs := []float64{4, 1, 3, 2, 5}
	for _, tt := range []struct{ q, want float64 }{{0, 1}, {0.25, 2}, {0.5, 3}, {0.75, 4}, {1, 5}} {
		if got := Quantile(xs, tt.q); got != tt.want {
			t.Errorf("Quantile(%v, %v): got %v, want %v", xs, tt.q, got, tt.want)
		}
	}
	if got := Median([]float64{1, 2, 3, 4}); got != 2.5 {
		t.Errorf("Median of 1..4: got %v, want 2.5", got)
	}
}

// TestInterleave checks that every contender runs once a round, in an
// order that turns, with the batch asked for.
func TestInterleave(t *testing.T) {
	var order []string
	contender := func(name string) Contender {
		return func(n int) time.Duration {
			if n != 3 {
				t.Errorf("%s: got a batch of %d, want 3", name, n)
			}
			order = append(order, name)
			return time.Duration(n) * time.Millisecond
		}
	}
	samples := Interleave(2, 3, contender("a"), contender("b"))
	if got, want := strings.Join(order, ""), "abba"; got != want {
		t.Errorf("got order %s, want %s", got, want)
	}
	if len(samples) != 2 || len(samples[0]) != 2 || samples[0][0] != 1e6 {
		t.Errorf("got samples %v, want two of 1e6 ns per call each", samples)
	}
}
