package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// countedLines decodes the JSON lines in buf, empties it, and returns
// them with how many events they account for: one per first line, the
// count (field) of each summary.
func countedLines(t *testing.T, buf *bytes.Buffer, field string) (lines []map[string]any, events int) {
	t.Helper()
	dec := json.NewDecoder(buf)
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
		if n, ok := m[field].(float64); ok {
			events += int(n)
		} else {
			events++
		}
	}
	buf.Reset()
	return lines, events
}

// TestCountedLogBounded (TestFirstRefusalsBounded, for the firstRefusals
// it replaces): a client rotating through values gets the first event of
// at most refusedValues of them logged one by one, and one line for all
// the others (firstRefusals wrote none for them, and no count); a value
// already logged is not again within the period; one quiet for a period,
// forgotten by the sweep, is logged as a first again; every event is in some line once flushed.
func TestCountedLogBounded(t *testing.T) {
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	c := newCountedLog(10*time.Second, refusedValues, zerolog.WarnLevel, "refused, counted")
	now := time.Unix(1000, 0)
	note := func(v string, at time.Time) bool {
		ev, _ := c.note(log, v, at)
		if ev != nil {
			ev.Str("v", v).Msg("refused")
		}
		return ev != nil
	}
	const values = refusedValues + 40
	for i := range values {
		note(fmt.Sprintf("h%d.example", i), now)
	}
	lines, _ := countedLines(t, &buf, "refused")
	if len(lines) != refusedValues+1 {
		t.Errorf("%d values refused once each in a period logged %d lines, want %d (refusedValues, and one for the others)", values, len(lines), refusedValues+1)
	}
	if n := c.len(); n != refusedValues {
		t.Errorf("%d values held, want %d", n, refusedValues)
	}
	if note("h0.example", now) {
		t.Error("a value already logged is logged again in the same period")
	}
	// The gateway's sweep a period on writes h0's summary and forgets
	// every value, quiet since: h1's next refusal is a first one again.
	c.sweep(log, now.Add(10*time.Second))
	if !note("h1.example", now.Add(10*time.Second)) {
		t.Error("a value's first refusal after a quiet period is not logged")
	}
	c.flushAll(log, now.Add(20*time.Second))
	_, events := countedLines(t, &buf, "refused")
	// values + h0 again + h1 again, minus the first lines already read:
	// the summaries and h1's new first line.
	if want := values - refusedValues - 1 + 2; events != want {
		t.Errorf("the lines after the first ones account for %d events, want %d", events, want)
	}
	if n := c.len(); n != 0 {
		t.Errorf("%d values held after flushAll, want 0", n)
	}
}

// TestCountedLogSummaries: the events of a key after its first line are
// written as one summary (counted_as the key, the count, in) by the
// sweep a period after the first line, or at once by flushAll, whichever
// comes first; failures count as "failed", with the log's level.
func TestCountedLogSummaries(t *testing.T) {
	for _, tc := range []struct {
		name  string
		count string
		stop  bool
	}{
		{"sweep", "", false},
		{"stop", "", true},
		{"failures at the sweep", "failed", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := zerolog.New(&buf)
			c := newCountedLog(time.Minute, refusedValues, zerolog.ErrorLevel, "counted")
			c.count = tc.count
			field := c.countField()
			now := time.Unix(1000, 0)
			for i := range 5 {
				if ev, _ := c.note(log, "evil.example", now.Add(time.Duration(i)*time.Second)); ev != nil {
					ev.Msg("first")
				}
			}
			if lines, _ := countedLines(t, &buf, field); len(lines) != 1 {
				t.Fatalf("%d lines for 5 events within the period, want 1 (the first)", len(lines))
			}
			c.sweep(log, now.Add(30*time.Second))
			if !tc.stop {
				if lines, _ := countedLines(t, &buf, field); len(lines) != 0 {
					t.Fatalf("a sweep within the period wrote %v", lines)
				}
				c.sweep(log, now.Add(time.Minute))
			} else {
				c.flushAll(log, now.Add(30*time.Second))
			}
			lines, _ := countedLines(t, &buf, field)
			if len(lines) != 1 {
				t.Fatalf("%d lines, want one summary: %v", len(lines), lines)
			}
			m := lines[0]
			if m["counted_as"] != "evil.example" || m[field] != 4.0 || m["level"] != "error" || m["message"] != "counted" {
				t.Errorf("summary %v, want counted_as evil.example, %s 4, level error", m, field)
			}
			if _, ok := m["in"]; !ok {
				t.Errorf("summary %v has no in", m)
			}
		})
	}
}

// TestCountedLogKeyNamedOthers: a key that is literally othersKey (a
// request's Host "others") is not summed up under the name of the keys
// past max: its summary's counted_as tells it from theirs.
func TestCountedLogKeyNamedOthers(t *testing.T) {
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	c := newCountedLog(time.Minute, 1, zerolog.WarnLevel, "counted")
	now := time.Unix(1000, 0)
	for _, k := range []string{othersKey, othersKey, "b.example", "c.example"} {
		if ev, _ := c.note(log, k, now); ev != nil {
			ev.Msg("first")
		}
	}
	buf.Reset()
	c.flushAll(log, now.Add(time.Second))
	lines, _ := countedLines(t, &buf, "refused")
	if len(lines) != 2 {
		t.Fatalf("%d summaries, want 2 (the key others, and the keys past max): %v", len(lines), lines)
	}
	if lines[0]["counted_as"] == lines[1]["counted_as"] {
		t.Errorf("the key %q and the keys past max are both summed up counted_as %v", othersKey, lines[0]["counted_as"])
	}
}

// TestCountedLogSummaryNamesLast: a summary names who its last event
// came from (last_remote, and last_client when a trusted proxy named
// one), as the first line names its own, so that a second client
// refused under the same key (another script with a wrong token, on the
// same route, the same way) is not hidden behind the first one's line;
// the summary of the keys past max names the last one's value
// (last_value), which no line named. A summary of events with no one
// behind them (failures) names none.
func TestCountedLogSummaryNamesLast(t *testing.T) {
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	c := newCountedLog(time.Minute, 1, zerolog.WarnLevel, "counted")
	now := time.Unix(1000, 0)
	for _, e := range []struct {
		key string
		f   from
	}{
		{"ws bearer", from{remote: "192.0.2.1:1000"}},
		{"ws bearer", from{remote: "192.0.2.1:1001"}},
		{"ws bearer", from{remote: "10.0.0.1:2000", client: "198.51.100.7"}},
		{"apps none", from{remote: "192.0.2.9:1"}},
		{"fleet none", from{remote: "192.0.2.9:2"}},
		{"health none", from{remote: "192.0.2.9:3"}},
		{"failure", from{}},
		{"failure", from{}},
	} {
		if ev, _ := c.noteFrom(log, e.key, e.f, now); ev != nil {
			ev.Msg("first")
		}
	}
	buf.Reset()
	c.flushAll(log, now.Add(time.Second))
	lines, _ := countedLines(t, &buf, "refused")
	byKey := map[any]map[string]any{}
	for _, m := range lines {
		byKey[m["counted_as"]] = m
	}
	if m := byKey["ws bearer"]; m == nil || m["last_remote"] != "10.0.0.1:2000" || m["last_client"] != "198.51.100.7" {
		t.Errorf("the summary of ws bearer %v, want last_remote 10.0.0.1:2000, last_client 198.51.100.7", m)
	}
	if m := byKey[othersKey]; m == nil || m["last_value"] != "failure" || m["last_remote"] != nil {
		t.Errorf("the summary of the others %v, want last_value failure and no last_remote (a failure's)", m)
	}
}

// TestCountedLogFullSweepsWhenDue: a full log does not sweep its keys
// at every event of a new one (a rotating flood: each sweep looks at
// every key, under the lock every refusal takes) while none of them can
// be due; once one can, a new key's event sweeps, and the quiet keys
// leave room for it: its first line is written.
func TestCountedLogFullSweepsWhenDue(t *testing.T) {
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	const max = 4
	c := newCountedLog(time.Minute, max, zerolog.WarnLevel, "counted")
	now := time.Unix(1000, 0)
	note := func(k string, at time.Time) bool {
		ev, _ := c.note(log, k, at)
		if ev != nil {
			ev.Msg("first")
		}
		return ev != nil
	}
	for i := range max {
		note(fmt.Sprintf("k%d", i), now)
	}
	before := c.sweeps
	for i := range 1000 {
		note(fmt.Sprintf("flood%d", i), now.Add(time.Duration(i)*time.Millisecond))
	}
	if n := c.sweeps - before; n > 1 {
		t.Errorf("%d sweeps for 1000 new keys within a period of the full log's first lines, want at most 1", n)
	}
	if !note("late.example", now.Add(time.Minute)) {
		t.Error("a new key's first event a period on, the followed keys quiet, is not logged")
	}
}

// TestCountedLogOthersNameLastValue: an event noted with a value
// (noteValue: the forwarding log's header, its key the proxy's address)
// past max is summed up under the others naming that value as
// last_value, as the keys' own summaries do, not its key (the proxy,
// which last_remote names): the README and the alert promise the last
// header there.
func TestCountedLogOthersNameLastValue(t *testing.T) {
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	c := newCountedLog(time.Minute, 1, zerolog.WarnLevel, "counted")
	now := time.Unix(1000, 0)
	for _, e := range []struct{ key, remote, value string }{
		{"10.0.0.1", "10.0.0.1:1", "unknown"},
		{"10.0.0.2", "10.0.0.2:1", "a-name"},
		{"10.0.0.3", "10.0.0.3:1", "client.example"},
	} {
		if ev, _ := c.noteValue(log, e.key, from{remote: e.remote}, e.value, now); ev != nil {
			ev.Msg("first")
		}
	}
	buf.Reset()
	c.flushAll(log, now.Add(time.Second))
	lines, _ := countedLines(t, &buf, "refused")
	if len(lines) != 1 || lines[0]["counted_as"] != othersKey || lines[0]["last_value"] != "client.example" || lines[0]["last_remote"] != "10.0.0.3:1" {
		t.Errorf("summaries %v, want one counted_as %s with last_value client.example (the last event's value) and last_remote 10.0.0.3:1", lines, othersKey)
	}
}
