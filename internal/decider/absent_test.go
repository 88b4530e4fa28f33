package decider

import (
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/proto"
)

// TestAbsentReplicasAreNotStuck feeds a tier held at 8 replicas with 5
// ready for half an hour, as the executor's record stamped on each tick
// says: with the other 3 booting in the cluster they are named as not
// ready once past twice the lead time; with the 3 acknowledged in dry-run
// (neither ready nor booting in the record) they never are.
func TestAbsentReplicasAreNotStuck(t *testing.T) {
	for _, c := range []struct {
		name      string
		booting   int
		wantFlags bool
	}{{"booting in the cluster", 3, true}, {"acknowledged in dry-run", 0, false}} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Policy.Tick = time.Minute
			flagged := 0
			for _, d := range decideMinutes(t, cfg, 30, func(i int, ts int64) *proto.Metrics {
				return &proto.Metrics{App: "shop", Tier: "web", TS: ts, Replicas: 5, Values: proto.Floats{"rps": 100, "cpu": 0.5},
					Committed: &proto.Committed{Desired: 8, Ready: 5, Booting: c.booting, DecisionTS: ts}}
			}) {
				if slices.Contains(d.Flags, "replicas-not-ready") {
					flagged++
				}
			}
			if (flagged > 0) != c.wantFlags {
				t.Fatalf("%d decisions flagged replicas-not-ready, want flags: %v", flagged, c.wantFlags)
			}
		})
	}
}

// decideMinutes feeds a fresh decider state n one-minute ticks of shop's web
// tier from t0 (tick(i, ts) builds the i-th), each with its anomaly message
// and, on the forecast step, an empty forecast, and returns every decision.
func decideMinutes(t *testing.T, cfg Config, n int, tick func(i int, ts int64) *proto.Metrics) []*proto.Decision {
	t.Helper()
	st := NewApps(cfg, config.DefaultLimits(), zerolog.Nop())
	var out []*proto.Decision
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Minute)
		ts := proto.Millis(at)
		ins := []proto.Keyed{tick(i, ts)}
		if at.Equal(at.Truncate(cfg.ForecastStep)) {
			ins = append(ins, &proto.Forecast{App: "shop", Tier: "web", TS: ts})
		}
		ins = append(ins, &proto.Anomaly{App: "shop", Tier: "web", TS: ts})
		for _, in := range ins {
			ds, err := st.Handle(in)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ds...)
		}
	}
	return out
}
