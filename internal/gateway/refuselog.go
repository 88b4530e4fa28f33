package gateway

import (
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// refusedValues is how many distinct values (Hosts, or Origins) a
// firstRefusals holds in a period: each one's first refusal is logged
// past the sampler's burst, so at most forwardLogBurst+refusedValues
// lines of a kind are written in a forwardLogPeriod, even for a client
// rotating through values.
const refusedValues = 16

// firstRefusals logs the requests refused for one header's value (the
// Host, or the Origin): sampled (forwardLogBurst in forwardLogPeriod),
// except that the first refusal of each value in the period, for up to
// refusedValues values, is logged whatever the sampler says. A page
// polling with its foreign Host takes the whole burst; the first
// refusal of another value (the operator's own new hostname, not yet in
// -gateway.allowed-hosts) is still written. Safe for concurrent use.
type firstRefusals struct {
	log     zerolog.Logger // unsampled
	sampled zerolog.Logger

	mu    sync.Mutex
	start time.Time // the current period's
	seen  map[string]struct{}
}

// newFirstRefusals logs to log.
func newFirstRefusals(log zerolog.Logger) *firstRefusals {
	return &firstRefusals{
		log:     log,
		sampled: log.Sample(&zerolog.BurstSampler{Burst: forwardLogBurst, Period: forwardLogPeriod}),
	}
}

// warn returns the warning event for a refusal of value v (as quoted),
// disabled when it is not to be written.
func (f *firstRefusals) warn(v string, now time.Time) *zerolog.Event {
	return f.at(zerolog.WarnLevel, v, now)
}

// at is warn at level: the event for value v, disabled when it is not to
// be written.
func (f *firstRefusals) at(level zerolog.Level, v string, now time.Time) *zerolog.Event {
	first := f.first(v, now)
	if ev := f.sampled.WithLevel(level); ev.Enabled() || !first {
		return ev
	}
	return f.log.WithLevel(level)
}

// first reports whether v was not refused yet in the current period, and
// notes it, unless refusedValues were already.
func (f *firstRefusals) first(v string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil || now.Sub(f.start) >= forwardLogPeriod || now.Before(f.start) {
		f.start, f.seen = now, map[string]struct{}{}
	}
	if _, ok := f.seen[v]; ok || len(f.seen) >= refusedValues {
		return false
	}
	f.seen[v] = struct{}{}
	return true
}
