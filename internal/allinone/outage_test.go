package allinone_test

import (
	"slices"
	"testing"
	"time"

	"github.com/headroomhq/headroom/proto"
)

// TestScalesThroughUpstreamOutage runs the whole system with the forecaster
// and the anomaly service down, on the simulated shop's ticks stamped up to
// the wall clock's minute. The decider decides every tick once its inputs
// have not come within -decider.input-timeout, each flagged with what it
// lacks and input-timeout, one decision per tier per tick: scaling goes on,
// reactively. (Without the timeout, none of these ticks would be decided:
// at a 1-minute tick the backlog waits for 73 hours' ticks.)
func TestScalesThroughUpstreamOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	const ticks = 20
	liveStart := time.Now().UTC().Truncate(time.Minute).Add(-(ticks - 1) * time.Minute)
	cfg := testConfig(t, liveStart, ticks)
	cfg.Collector.Backfill = time.Hour
	cfg.Collector.Lockstep = false // nothing scales in step with the ticks published at once
	cfg.Without = map[string]bool{"forecaster": true, "anomaly": true}
	cfg.Decider.InputTimeout = time.Second
	r := start(t, cfg)
	ds := waitDecisions(t, r, liveStart, ticks)
	checkContiguous(t, ds)
	if want := 3 * (60 + ticks - 1); len(ds) != want {
		t.Errorf("%d decisions, want %d (every tier, every tick of the backfill and the live run but the last)", len(ds), want)
	}
	for _, d := range ds {
		for _, f := range []string{proto.FlagInputTimeout, proto.FlagForecastMissing, proto.FlagAnomalyMissing} {
			if !slices.Contains(d.Flags, f) {
				t.Fatalf("%s at %s: flags %v, want %s", d.Tier, d.EventTime().Format(time.TimeOnly), d.Flags, f)
			}
		}
	}
	if n := len(all[proto.Forecast](t, r.b, "FORECASTS", "apm.forecast.>")); n != 0 {
		t.Fatalf("%d forecasts stored with the forecaster down", n)
	}
}
