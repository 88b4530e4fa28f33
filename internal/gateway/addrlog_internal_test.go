package gateway

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/clientaddr"
)

// TestRefusalLog: an address's first refusal is logged at once, the next
// ones within the interval are not, and the first after it writes one
// summary with how many were refused since; an address gone quiet has its
// summary written, and is forgotten, by a later refusal of another. Every
// line names the prefix the address counts under (counted_as), a
// summary that alone, the first line the client's address too.
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
	step("first of A", 0, ka, a, 1, map[string]any{"client": "203.0.113.1", "counted_as": "203.0.113.1/32", "remote": "203.0.113.1:4711", "limit": 2.0})
	step("A retrying within the minute", time.Second, ka, a, 50)
	step("A still, 58s later", 58*time.Second, ka, a, 10)
	step("A after the minute", 2*time.Second, ka, a, 1, map[string]any{"counted_as": "203.0.113.1/32", "client": nil, "refused": 61.0, "in": 61000.0})
	step("first of B", time.Second, kb, b, 1, map[string]any{"client": "2001:db8:1:2::9", "counted_as": "2001:db8:1:2::/64"})
	step("A again within its minute", time.Second, ka, a, 3)
	if n := l.len(); n != 2 {
		t.Fatalf("%d addresses held, want 2", n)
	}
	// A stops; B's next refusal, past both minutes, writes A's summary
	// (and forgets A) and its own.
	step("B past the minute", 2*time.Minute, kb, b, 1,
		map[string]any{"counted_as": "203.0.113.1/32", "client": nil, "refused": 3.0},
		map[string]any{"counted_as": "2001:db8:1:2::/64", "client": nil, "refused": 1.0})
	if n := l.len(); n != 1 {
		t.Fatalf("%d addresses held after A went quiet, want 1", n)
	}
	step("A back: a first refusal again", time.Second, ka, a, 1, map[string]any{"client": "203.0.113.1"})
}

// TestRefusalLogBounded: a client rotating through addresses (here IPv6
// /64s, each at its limit and refused three times) grows neither the
// addresses held nor the log lines past refusalAddrs: the first
// refusalAddrs addresses get a line each, all the others one together;
// past the interval every summary is written, the quiet addresses are
// forgotten, and every refusal is in some line, exactly once.
func TestRefusalLogBounded(t *testing.T) {
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := refusalLog{every: time.Minute, now: func() time.Time { return now }}
	lines := func() []map[string]any {
		t.Helper()
		var out []map[string]any
		dec := json.NewDecoder(&buf)
		for dec.More() {
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
		buf.Reset()
		return out
	}
	// logged is how many refusals lines account for: one for a first
	// line, "refused" for a summary.
	logged := func(ls []map[string]any) int {
		n := 0
		for _, m := range ls {
			if r, ok := m["refused"].(float64); ok {
				n += int(r)
			} else {
				n++
			}
		}
		return n
	}
	const addrs, each = 4 * refusalAddrs, 3
	refused := 0
	for i := range addrs {
		a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, byte(i >> 8), byte(i), 15: 1})
		for range each {
			now = now.Add(time.Millisecond)
			l.refused(log, clientaddr.Prefix(a), a, "[::1]:4711", 1)
			refused++
		}
	}
	got := lines()
	if len(got) != refusalAddrs+1 {
		t.Errorf("%d lines for %d addresses refused %d times each within a minute, want %d (a line each for the first %d, one for the others)",
			len(got), addrs, each, refusalAddrs+1, refusalAddrs)
	}
	if n := l.len(); n > refusalAddrs {
		t.Errorf("%d addresses held, want at most %d", n, refusalAddrs)
	}
	total := logged(got)
	// Past the interval, one more refusal of a new address writes every
	// summary (the held addresses', the others') and forgets them.
	now = now.Add(2 * time.Minute)
	last := netip.MustParseAddr("203.0.113.1")
	l.refused(log, clientaddr.Prefix(last), last, "203.0.113.1:4711", 1)
	refused++
	got = lines()
	if len(got) > refusalAddrs+2 {
		t.Errorf("%d lines after the interval, want at most %d", len(got), refusalAddrs+2)
	}
	if n := l.len(); n != 1 {
		t.Errorf("%d addresses held after the interval, want 1 (the last one)", n)
	}
	if total += logged(got); total != refused {
		t.Errorf("the lines account for %d refusals, want %d", total, refused)
	}
}

// TestRefusalLogSweep: the sweep writes the summaries of the addresses
// gone quiet an interval or more and forgets them, leaves the younger
// ones; flushAll, as the gateway stops, writes and forgets every one.
func TestRefusalLogSweep(t *testing.T) {
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := refusalLog{every: time.Minute, now: func() time.Time { return now }}
	a, b := netip.MustParseAddr("203.0.113.1"), netip.MustParseAddr("203.0.113.2")
	for range 3 {
		l.refused(log, clientaddr.Prefix(a), a, "203.0.113.1:1", 1)
	}
	now = now.Add(30 * time.Second)
	for range 2 {
		l.refused(log, clientaddr.Prefix(b), b, "203.0.113.2:1", 1)
	}
	buf.Reset()
	now = now.Add(40 * time.Second)
	l.sweep(log, now)
	if s := buf.String(); strings.Count(s, "\n") != 1 || !strings.Contains(s, `"counted_as":"203.0.113.1/32","refused":2`) {
		t.Errorf("sweep wrote %q, want A's summary alone (2 refused)", s)
	}
	if n := l.len(); n != 1 {
		t.Errorf("%d addresses held after the sweep, want 1 (B)", n)
	}
	buf.Reset()
	l.flushAll(log, now)
	if s := buf.String(); strings.Count(s, "\n") != 1 || !strings.Contains(s, `"counted_as":"203.0.113.2/32","refused":1`) {
		t.Errorf("flushAll wrote %q, want B's summary (1 refused)", s)
	}
	if n := l.len(); n != 0 {
		t.Errorf("%d addresses held after flushAll, want 0", n)
	}
}

// TestRefusalLogSweepKeepsRetrying: a client still refused when the
// gateway's sweep comes (a retry loop) has its summary written by it but
// is not forgotten: its next refusal is counted into the next summary, not
// logged as a first refusal again, so such a client writes its first line
// once and then one line a minute, as the README says, not a summary and
// a first line each minute. A client that stopped is forgotten.
func TestRefusalLogSweepKeepsRetrying(t *testing.T) {
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := start
	l := refusalLog{every: time.Minute, now: func() time.Time { return now }}
	a := netip.MustParseAddr("203.0.113.1")
	// A retry every 7s for 3 minutes; the gateway's ticker sweeps each
	// minute, between two retries.
	const seconds, every = 180, 7 * time.Second
	retries, tick := 0, start.Add(time.Minute)
	for now = start; now.Before(start.Add(seconds * time.Second)); now = now.Add(every) {
		if !tick.After(now) {
			l.sweep(log, tick)
			tick = tick.Add(time.Minute)
		}
		l.refused(log, clientaddr.Prefix(a), a, "203.0.113.1:1", 1)
		retries++
	}
	var first, summaries, refused int
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		if r, ok := m["refused"].(float64); ok {
			summaries++
			refused += int(r)
		} else {
			first++
			refused++
		}
	}
	if first != 1 || summaries > seconds/60 {
		t.Errorf("%d first lines and %d summaries for a client refused every 7s for %ds, want 1 and at most %d", first, summaries, seconds, seconds/60)
	}
	if n := l.len(); n != 1 {
		t.Errorf("%d addresses held while the client retries, want 1", n)
	}
	// It stops: a sweep an interval after its last refusal writes what
	// is left and forgets it.
	l.sweep(log, now.Add(time.Minute))
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		r, _ := m["refused"].(float64)
		refused += int(r)
	}
	if refused != retries {
		t.Errorf("the lines account for %d refusals, want %d", refused, retries)
	}
	if n := l.len(); n != 0 {
		t.Errorf("%d addresses held an interval after the client stopped, want 0", n)
	}
}
