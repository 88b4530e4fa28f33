package natstest

import (
	"os"
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
