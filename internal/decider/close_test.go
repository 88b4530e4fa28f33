package decider

import (
	"reflect"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/proto"
)

// TestCloseDecidesAsTheNextTick feeds the same minutes of two tiers to two
// stages through Handle: one learns that a minute is complete from the next
// minute's metrics (live), the other from Close (the offline simulation),
// called here before the minute's last input. Close must not release a
// minute still missing an input, the input that completes a closed minute
// releases it, and both stages must make the same decisions.
func TestCloseDecidesAsTheNextTick(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Policy.Tick = time.Minute
	live := NewApps(cfg, config.DefaultLimits(), zerolog.Nop())
	closed := NewApps(cfg, config.DefaultLimits(), zerolog.Nop())
	const minutes = 90
	var fromLive, fromClose []*proto.Decision
	for i := range minutes {
		at := t0.Add(time.Duration(i) * time.Minute)
		ts := proto.Millis(at)
		var ins []proto.Keyed
		for _, tier := range []string{"web", "db"} {
			rps := 100 + 60*float64(i%30)
			ins = append(ins, &proto.Metrics{App: "shop", Tier: tier, TS: ts, Replicas: 2, Values: proto.Floats{"rps": rps, "cpu": 0.5}})
			if at.Equal(at.Truncate(cfg.ForecastStep)) {
				ins = append(ins, &proto.Forecast{App: "shop", Tier: tier, TS: ts})
			}
		}
		// The anomaly messages come last: before they are in, Close
		// releases nothing.
		for _, tier := range []string{"web", "db"} {
			ins = append(ins, &proto.Anomaly{App: "shop", Tier: tier, TS: ts})
		}
		before := len(fromClose)
		for j, in := range ins {
			ds, err := live.Handle(in)
			if err != nil {
				t.Fatal(err)
			}
			fromLive = append(fromLive, ds...)
			ds, err = closed.Handle(in)
			if err != nil {
				t.Fatal(err)
			}
			fromClose = append(fromClose, ds...)
			if j == len(ins)-2 {
				if early := closed.Close("shop", at); len(early) != 0 {
					t.Fatalf("minute %d released with an anomaly message missing", i)
				}
			}
		}
		// The minute was closed before its last input: that input
		// completes it, and a second Close has nothing left to release.
		if ds := closed.Close("shop", at); len(ds) != 0 {
			t.Fatalf("minute %d released twice", i)
		}
		if ds := fromClose[before:]; len(ds) != 2 || ds[0].TS != ts || ds[1].TS != ts {
			t.Fatalf("minute %d: %d decisions once closed and complete", i, len(ds))
		}
	}
	// Live, the last minute waits for a later tick.
	if len(fromLive) != 2*(minutes-1) || len(fromClose) != 2*minutes {
		t.Fatalf("%d decisions live, %d closed", len(fromLive), len(fromClose))
	}
	changes := 0
	for _, d := range fromLive {
		if d.Action != proto.ActionHold {
			changes++
		}
	}
	if changes == 0 {
		t.Fatal("no scale change: the comparison proves little")
	}
	if !reflect.DeepEqual(fromLive, fromClose[:len(fromLive)]) {
		t.Fatal("closing a minute decided differently from the next tick")
	}
	if _, err := closed.Handle(&proto.Decision{App: "shop", Tier: "web"}); err == nil {
		t.Fatal("a decision accepted as input")
	}
	if ds := closed.Close("unknown", t0); ds != nil {
		t.Fatal("an unknown app released decisions")
	}
}
