package jobsapi

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 120 ", 2 * time.Minute},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
		{"-1", 0},
	}
	for _, c := range cases {
		if got := retryAfter(c.header, now); got != c.want {
			t.Errorf("%q: got %v, want %v", c.header, got, c.want)
		}
	}
}

func TestBackoffBounded(t *testing.T) {
	c := &Client{c: Config{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}}
	for attempt := 1; attempt < 70; attempt++ {
		ceiling := min(100*time.Millisecond<<min(attempt-1, 20), time.Second)
		for range 20 {
			if got := c.backoff(attempt); got <= 0 || got > ceiling {
				t.Fatalf("attempt %d: got %v, want within (0, %v]", attempt, got, ceiling)
			}
		}
	}
}
