package natstest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"sync"
	"testing"

	"github.com/rs/zerolog"
)

// Log returns the logger a test gives the services it starts: warnings and
// errors in the test's output, or, with HEADROOM_DEBUG_LOG=FILE, everything
// from debug up written to FILE with timestamps, to follow a failure that
// only shows under load (take-overs, rebuilds, redeliveries).
func Log(t testing.TB) zerolog.Logger {
	t.Helper()
	if f := os.Getenv("HEADROOM_DEBUG_LOG"); f != "" {
		// Appended to, so a test that starts the system twice keeps both
		// runs' logs: remove the file before the run.
		w, err := os.OpenFile(f, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatalf("debug log: %v", err)
		}
		t.Cleanup(func() { _ = w.Close() })
		return zerolog.New(w).Level(zerolog.DebugLevel).With().Timestamp().Logger()
	}
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
}

// Logs is a log sink safe for the services' goroutines, whose JSON lines a
// test can search.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends one log line.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Lines returns the JSON log lines whose message is msg, or every line for
// msg "".
func (l *Logs) Lines(t testing.TB, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if msg == "" || line["message"] == msg {
			out = append(out, line)
		}
	}
	return out
}
