package gateway

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestRefusalLog: an address's first refusal is logged at once, the next
// ones within the interval are not, and the first after it writes one
// summary with how many were refused since; an address gone quiet has its
// summary written, and is forgotten, by a later refusal of another.
func TestRefusalLog(t *testing.T) {
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := refusalLog{every: time.Minute, now: func() time.Time { return now }}
	a, b := netip.MustParseAddr("203.0.113.1"), netip.MustParseAddr("2001:db8:1:2::9")
	ka, kb := netip.MustParsePrefix("203.0.113.1/32"), netip.MustParsePrefix("2001:db8:1:2::/64")
	lines := func() []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, s := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if s == "" {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(s), &m); err != nil {
				t.Fatalf("%q: %v", s, err)
			}
			out = append(out, m)
		}
		buf.Reset()
		return out
	}
	step := func(what string, d time.Duration, k netip.Prefix, c netip.Addr, n int, want ...map[string]any) {
		t.Helper()
		now = now.Add(d)
		for range n {
			l.refused(log, k, c, c.String()+":4711", 2)
		}
		got := lines()
		if len(got) != len(want) {
			t.Fatalf("%s: %d lines %v, want %d", what, len(got), got, len(want))
		}
		for i, w := range want {
			for key, v := range w {
				if got[i][key] != v {
					t.Errorf("%s: line %d %s = %v, want %v (%v)", what, i, key, got[i][key], v, got[i])
				}
			}
		}
	}
	step("first of A", 0, ka, a, 1, map[string]any{"client": "203.0.113.1", "remote": "203.0.113.1:4711", "limit": 2.0})
	step("A retrying within the minute", time.Second, ka, a, 50)
	step("A still, 58s later", 58*time.Second, ka, a, 10)
	step("A after the minute", 2*time.Second, ka, a, 1, map[string]any{"client": "203.0.113.1/32", "refused": 61.0, "in": 61000.0})
	step("first of B", time.Second, kb, b, 1, map[string]any{"client": "2001:db8:1:2::9"})
	step("A again within its minute", time.Second, ka, a, 3)
	if n := l.len(); n != 2 {
		t.Fatalf("%d addresses held, want 2", n)
	}
	// A stops; B's next refusal, past both minutes, writes A's summary
	// (and forgets A) and its own.
	step("B past the minute", 2*time.Minute, kb, b, 1,
		map[string]any{"client": "203.0.113.1/32", "refused": 3.0},
		map[string]any{"client": "2001:db8:1:2::/64", "refused": 1.0})
	if n := l.len(); n != 1 {
		t.Fatalf("%d addresses held after A went quiet, want 1", n)
	}
	step("A back: a first refusal again", time.Second, ka, a, 1, map[string]any{"client": "203.0.113.1"})
}
