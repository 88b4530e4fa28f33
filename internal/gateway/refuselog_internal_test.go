package gateway

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestFirstRefusalsBounded: a client rotating through values gets the
// first refusal of at most refusedValues of them logged in a period (the
// burst's included), and a value already logged is not again, outside the
// burst; the next period starts afresh.
func TestFirstRefusalsBounded(t *testing.T) {
	var buf bytes.Buffer
	f := newFirstRefusals(zerolog.New(&buf))
	now := time.Unix(1000, 0)
	for i := range 40 {
		if ev := f.warn(fmt.Sprintf("h%d.example", i), now); ev.Enabled() {
			ev.Msg("refused")
		}
	}
	if n := strings.Count(buf.String(), "\n"); n != refusedValues {
		t.Errorf("40 values refused once each in a period logged %d lines, want %d (refusedValues)", n, refusedValues)
	}
	buf.Reset()
	if ev := f.warn("h0.example", now); ev.Enabled() {
		t.Error("a value already logged, past the burst, is logged again in the same period")
	}
	// A new period: the value's first refusal again, whatever the sampler
	// (its own period is on the wall clock) says.
	if ev := f.warn("h0.example", now.Add(forwardLogPeriod)); !ev.Enabled() {
		t.Error("a value's first refusal in a new period is not logged")
	}
}
