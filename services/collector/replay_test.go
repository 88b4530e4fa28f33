package main

import (
	"testing"
	"time"
)

// TestOptTime: replay times may be RFC 3339 or relative to now.
func TestOptTime(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Time{
		"":                     {},
		"-2h":                  now.Add(-2 * time.Hour),
		"-90m":                 now.Add(-90 * time.Minute),
		"+10m":                 now.Add(10 * time.Minute),
		"2026-11-30T08:00:00Z": time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC),
	}
	for in, want := range cases {
		got, err := optTime("from", in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	if _, err := optTime("from", "-2x", now); err == nil {
		t.Error("-2x accepted")
	}
}
