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

// TestSnippet: text cut short within a URL's user information (a
// program's output kept up to a bound, a body's first bytes) shows no
// start of the password, where Text, finding no @, would show it; a URL
// the cut leaves whole, or cut where it reads as a host, is kept. The same
// text not cut is masked as Text masks it, and invalid UTF-8 (a cut within
// a character) reads as ?.
func TestSnippet(t *testing.T) {
	for _, tc := range []struct {
		in, cut, whole string // whole: Snippet of in not cut ("": as cut)
	}{
		{"GET https://ops:hunt", "GET https://REDACTED", "GET https://ops:hunt"},
		{"GET https://ops:hunter2@ho", "GET https://REDACTED@ho", ""},
		{"GET https://ops:hu/nt", "GET https://REDACTED/nt", "GET https://ops:hu/nt"},
		{`connecting to "https://ops:hunt`, `connecting to "https://REDACTED`, `connecting to "https://ops:hunt`},
		{"GET https://hooks.example/scale?token=s3c", "GET https://hooks.example/scale?token=REDACTED", ""},
		{"GET https://hooks.example:84", "GET https://hooks.example:84", ""},
		{"GET https://hooks.exa", "GET https://hooks.exa", ""},
		{"GET https://ops:hunt failed", "GET https://ops:hunt failed", ""}, // not cut within the URL: as Text
		{"GET https://a.example/ then https://ops:hunt", "GET https://a.example/ then https://REDACTED", "GET https://a.example/ then https://ops:hunt"},
		{"no URL at all", "no URL at all", ""},
		{"GET https://", "GET https://", ""},
		{"caf\xc3", "caf?", ""},
		{"https://ops:p\xffss@host/", "https://REDACTED@host/", ""},
	} {
		in := tc.in
		if got := redact.Snippet([]byte(in), true); got != tc.cut || !utf8.ValidString(got) {
			t.Errorf("Snippet(%q, cut) = %q, want %q", in, got, tc.cut)
		}
		whole := tc.whole
		if whole == "" {
			whole = tc.cut
		}
		if got := redact.Snippet([]byte(in), false); got != whole || got != redact.Text(strings.ToValidUTF8(in, "?")) {
			t.Errorf("Snippet(%q, not cut) = %q, want %q, as Text", in, got, whole)
		}
	}
}
