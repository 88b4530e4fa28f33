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
			st := NewApps(cfg, config.DefaultLimits(), zerolog.Nop())
			flagged := 0
			for i := range 30 {
				at := t0.Add(time.Duration(i) * time.Minute)
				ts := proto.Millis(at)
				ins := []proto.Keyed{&proto.Metrics{App: "shop", Tier: "web", TS: ts, Replicas: 5, Values: proto.Floats{"rps": 100, "cpu": 0.5},
					Committed: &proto.Committed{Desired: 8, Ready: 5, Booting: c.booting, DecisionTS: ts}}}
				if at.Equal(at.Truncate(cfg.ForecastStep)) {
					ins = append(ins, &proto.Forecast{App: "shop", Tier: "web", TS: ts})
				}
				ins = append(ins, &proto.Anomaly{App: "shop", Tier: "web", TS: ts})
				for _, in := range ins {
					ds, err := st.Handle(in)
					if err != nil {
						t.Fatal(err)
					}
					for _, d := range ds {
						if slices.Contains(d.Flags, "replicas-not-ready") {
							flagged++
						}
					}
				}
			}
			if (flagged > 0) != c.wantFlags {
				t.Fatalf("%d decisions flagged replicas-not-ready, want flags: %v", flagged, c.wantFlags)
			}
		})
	}
}
