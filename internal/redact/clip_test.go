package redact_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/headroomhq/headroom/internal/redact"
)

// TestClip: a value up to n bytes is quoted whole; a longer one is cut at
// n bytes, never inside a UTF-8 character, and says its length.
func TestClip(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 8, "short"},
		{"exactly8", 8, "exactly8"},
		{"123456789", 8, "12345678… (9 bytes)"},
		{"1234567é", 8, "1234567… (9 bytes)"}, // é is 2 bytes: cut before it
		{strings.Repeat("h", 1<<16), 4, "hhhh… (65536 bytes)"},
	} {
		got := redact.Clip(tc.in, tc.n)
		if got != tc.want || !utf8.ValidString(got) {
			t.Errorf("Clip(%.20q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
