package decider

import (
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/proto"
)

// TestReplayedInputIsFlagged: every decision taken on a tick a replay
// republished (source "replay") carries proto.FlagReplayedInput, so the
// executor shows it and never acts on it; decisions on the app's own
// ticks never do.
func TestReplayedInputIsFlagged(t *testing.T) {
	for _, c := range []struct {
		source string
		want   bool
	}{{proto.SourceReplay, true}, {"push", false}, {"sim", false}} {
		t.Run(c.source, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Policy.Tick = time.Minute
			st := NewApps(cfg, config.DefaultLimits(), zerolog.Nop())
			flagged, decided := 0, 0
			for i := range 30 {
				at := t0.Add(time.Duration(i) * time.Minute)
				ts := proto.Millis(at)
				ins := []proto.Keyed{&proto.Metrics{App: "shop", Tier: "web", TS: ts, Source: c.source, Replicas: 5, Values: proto.Floats{"rps": 100 + 40*float64(i%7), "cpu": 0.5}}}
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
						decided++
						if slices.Contains(d.Flags, proto.FlagReplayedInput) {
							flagged++
						}
					}
				}
			}
			if decided == 0 {
				t.Fatal("no decision")
			}
			if want := map[bool]int{true: decided, false: 0}[c.want]; flagged != want {
				t.Fatalf("%d of %d decisions flagged %s, want %d", flagged, decided, proto.FlagReplayedInput, want)
			}
		})
	}
}
