package decider

import (
	"slices"
	"testing"
	"time"

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
			ds := decideMinutes(t, cfg, 30, func(i int, ts int64) *proto.Metrics {
				return &proto.Metrics{App: "shop", Tier: "web", TS: ts, Source: c.source, Replicas: 5, Values: proto.Floats{"rps": 100 + 40*float64(i%7), "cpu": 0.5}}
			})
			decided, flagged := len(ds), 0
			for _, d := range ds {
				if slices.Contains(d.Flags, proto.FlagReplayedInput) {
					flagged++
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
