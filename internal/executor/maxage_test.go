package executor

import (
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/config"
)

// TestMaxAgeAllowsATick: by default a real driver acts on a decision up to
// its tier's lead time (at least a minute) plus its app's tick old, since a
// decision carries its interval's time and is made once a tick of the next
// interval comes: at a one-minute tick, a web tier with a minute's lead
// would otherwise find every decision stale. The tick is the one the
// decision carries (the decider's, which -decider.tick may set), else the
// file's, and an hour at most. An -executor.max-age given is used as it
// is.
func TestMaxAgeAllowsATick(t *testing.T) {
	f, err := config.Parse("x.yaml", []byte(`apps:
  shop:
    source: push
    mode: live
    policy: {tick: 1m}
    tiers: [{name: web, lead_time: 1m}, {name: db, lead_time: 10m, upstream: web}]
  api:
    source: push
    mode: live
    tiers: [{name: web, lead_time: 30s}]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		maxAge    time.Duration
		app, tier string
		tick      time.Duration // the decision's
		want      time.Duration
	}{
		{0, "shop", "web", 0, 2 * time.Minute},
		{0, "shop", "db", 0, 11 * time.Minute},
		{0, "api", "web", 0, 2 * time.Minute},                  // a minute at least, and the default policy's minute tick
		{0, "api", "web", 5 * time.Minute, 6 * time.Minute},    // the decider's tick, set by -decider.tick
		{0, "shop", "web", 15 * time.Second, 75 * time.Second}, // the decision's tick wins
		{0, "shop", "web", 48 * time.Hour, time.Hour + time.Minute},
		{0, "other", "web", 0, time.Minute}, // not configured: no real driver acts on it anyway
		{90 * time.Second, "shop", "db", 5 * time.Minute, 90 * time.Second},
	} {
		cfg := DefaultConfig()
		cfg.MaxAge = c.maxAge
		if got := cfg.WithFile(f).maxAge(c.app, c.tier, c.tick.Milliseconds()); got != c.want {
			t.Errorf("max age %v: %s.%s's limit for a decision with a tick of %v is %v, want %v", c.maxAge, c.app, c.tier, c.tick, got, c.want)
		}
	}
}
