// Package benchtable measures a handler against its floor honestly and
// gathers the results into the one table that `make bench` ends with.
//
// Honestly means: the handler and its floor are timed in the same run,
// interleaved round by round (Interleave), so that whatever else the machine
// does falls on both alike; the table gives medians, the spread of the
// per-round ratios, and refuses to print a ratio under BrokenRatio, which
// says that the measurement, not the handler, is wrong.
package benchtable

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// BrokenRatio is the ratio under which a handler would be faster than its
// floor, which does less than any handler must: such a row reports a broken
// measurement instead of a result.
const BrokenRatio = 0.95

// Row is one line of the table: a handler's median time against its
// floor's, and the goal it is held to.
type Row struct {
	Case string `json:"case"`
	// HandlerMs and FloorMs are medians over the rounds, in milliseconds.
	HandlerMs float64 `json:"handler_ms"`
	FloorMs   float64 `json:"floor_ms"`
	// Ratio is the median of the per-round ratios handler/floor; Low and
	// High are their first and third quartiles.
	Ratio float64 `json:"ratio"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
	// Rounds is how many rounds the medians are of.
	Rounds int `json:"rounds"`
	// AllocPerBody is the handler's allocation per byte of decoded body;
	// 0 when not measured.
	AllocPerBody float64 `json:"alloc_per_body,omitempty"`
	// Goal is the ratio the handler must stay at or under, and AllocGoal
	// its bound on AllocPerBody; 0 is no goal.
	Goal      float64 `json:"goal,omitempty"`
	AllocGoal float64 `json:"alloc_goal,omitempty"`
	// Note is printed after the case, for what the columns cannot say
	// (binary sizes, say).
	Note string `json:"note,omitempty"`
}

// Broken reports whether the ratio says the measurement is wrong.
func (r Row) Broken() bool { return r.Ratio < BrokenRatio }

// HasGoal reports whether the row is held to a goal.
func (r Row) HasGoal() bool { return r.Goal > 0 || r.AllocGoal > 0 }

// Met reports whether the row meets its goals: never for a broken one.
func (r Row) Met() bool {
	if r.Broken() {
		return false
	}
	return (r.Goal == 0 || r.Ratio <= r.Goal) && (r.AllocGoal == 0 || r.AllocPerBody <= r.AllocGoal)
}

// Contender is one side of a comparison: it runs its work n times and
// returns how long that took. A contender in another process times itself
// there, so that the time of asking is not counted.
type Contender func(n int) time.Duration

// Local is the Contender that calls fn n times in this process.
func Local(fn func()) Contender {
	return func(n int) time.Duration {
		start := time.Now()
		for range n {
			fn()
		}
		return time.Since(start)
	}
}

// Batch returns how many calls of c take at least target, so that each
// sample is long enough for the clock and short enough for many rounds.
func Batch(c Contender, target time.Duration) int {
	c(1) // warm up
	for n := 1; ; n *= 2 {
		if d := c(n); d >= target || n >= 1<<20 {
			return max(1, int(float64(n)*float64(target)/float64(max(d, 1))))
		}
	}
}

// Interleave times the contenders round after round, a batch of n calls of
// each per round, and returns for each the nanoseconds per call of every
// round. The order turns each round (A B C, then B C A, …): interleaved so
// that drift and noise fall on every contender, rotated so that none always
// follows the same one.
func Interleave(rounds, n int, cs ...Contender) [][]float64 {
	samples := make([][]float64, len(cs))
	for r := range rounds {
		for k := range cs {
			i := (r + k) % len(cs)
			samples[i] = append(samples[i], float64(cs[i](n).Nanoseconds())/float64(n))
		}
	}
	return samples
}

// Compare builds a row from the samples of a handler and its floor taken
// by Interleave: medians, and the median and quartiles of the per-round
// ratios.
func Compare(name string, handler, floor []float64) Row {
	ratios := make([]float64, len(handler))
	for i := range handler {
		ratios[i] = handler[i] / floor[i]
	}
	return Row{
		Case: name, HandlerMs: Median(handler) / 1e6, FloorMs: Median(floor) / 1e6,
		Ratio: Median(ratios), Low: Quantile(ratios, 0.25), High: Quantile(ratios, 0.75), Rounds: len(handler),
	}
}

// Median returns the middle value of xs.
func Median(xs []float64) float64 { return Quantile(xs, 0.5) }

// Quantile returns the q-quantile of xs, interpolated between the two
// nearest values.
func Quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}

// Record logs the row and, when BENCH_TABLE names a file, adds it there
// for Print.
func Record(tb testing.TB, row Row) {
	tb.Helper()
	tb.Logf("%s: handler %.2f ms, floor %.2f ms, %s", row.Case, row.HandlerMs, row.FloorMs, ratioText(row))
	path := os.Getenv("BENCH_TABLE")
	if path == "" {
		return
	}
	line, err := json.Marshal(row)
	if err != nil {
		tb.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		tb.Fatal(err)
	}
}

// Read returns the rows that Record added to the file at path, in order.
func Read(r io.Reader) ([]Row, error) {
	var rows []Row
	dec := json.NewDecoder(r)
	for dec.More() {
		var row Row
		if err := dec.Decode(&row); err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// Print writes the rows as one Markdown table, and returns how many rows
// miss their goals or are broken.
func Print(w io.Writer, rows []Row) (failed int) {
	fmt.Fprintln(w, "| case | handler ms | floor ms | ratio (quartiles) | alloc/body | goal | met |")
	fmt.Fprintln(w, "| --- | ---: | ---: | --- | ---: | --- | --- |")
	for _, r := range rows {
		name := r.Case
		if r.Note != "" {
			name += " (" + r.Note + ")"
		}
		alloc := "–"
		if r.AllocPerBody > 0 {
			alloc = fmt.Sprintf("%.2f", r.AllocPerBody)
		}
		met := "–"
		switch {
		case r.Broken():
			met = "**broken**"
		case r.HasGoal() && r.Met():
			met = "yes"
		case r.HasGoal():
			met = "**no**"
		}
		if r.Broken() || (r.HasGoal() && !r.Met()) {
			failed++
		}
		fmt.Fprintf(w, "| %s | %.2f | %.2f | %s | %s | %s | %s |\n", name, r.HandlerMs, r.FloorMs, ratioText(r), alloc, goalText(r), met)
	}
	return failed
}

func ratioText(r Row) string {
	if r.Broken() {
		return fmt.Sprintf("broken measurement: %.2f× is faster than the floor", r.Ratio)
	}
	return fmt.Sprintf("%.2f× (%.2f–%.2f)", r.Ratio, r.Low, r.High)
}

func goalText(r Row) string {
	var goals []string
	if r.Goal > 0 {
		goals = append(goals, fmt.Sprintf("≤ %.1f×", r.Goal))
	}
	if r.AllocGoal > 0 {
		goals = append(goals, fmt.Sprintf("alloc ≤ %.1f×", r.AllocGoal))
	}
	if len(goals) == 0 {
		return "–"
	}
	return strings.Join(goals, ", ")
}
