package decider

import (
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/proto"
)

// TestInputWait: with the forecaster down, a tick whose metrics are in
// waits -decider.input-wait (3m) of arrival for its forecast, then is
// decided without it, flagged; so the app stays scaled a few ticks late
// rather than not at all until its backlog (73 h) is full. Once the
// forecaster is back, ticks are decided complete again. A backfill stored
// in a burst, metrics far ahead of their forecasts in event time, waits as
// long as it must: its arrivals are all one instant.
func TestInputWait(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Policy.Tick = time.Minute
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	metrics := func(i int) *proto.Metrics {
		return &proto.Metrics{App: "shop", Tier: "web", TS: proto.Millis(at(i)), Replicas: 3, Values: proto.Floats{"rps": 300, "cpu": 0.5}}
	}
	anomaly := func(i int) *proto.Anomaly { return &proto.Anomaly{App: "shop", Tier: "web", TS: proto.Millis(at(i))} }
	forecast := func(i int) *proto.Forecast {
		ts := proto.Millis(at(i))
		return &proto.Forecast{App: "shop", Tier: "web", TS: ts, StepMS: cfg.ForecastStep.Milliseconds(), Metric: "rps",
			Points: []proto.ForecastPoint{{TS: ts, Yhat: 300, Lo80: 250, Hi80: 350, Lo95: 200, Hi95: 400}}}
	}
	type decided struct {
		tick, when int  // tick decided, at the arrival of which minute's inputs
		missing    bool // flagged forecast-missing
	}
	run := func(t *testing.T, arrive func(i int) time.Time, order func(feed func(i int, in proto.Keyed))) []decided {
		as := NewApps(cfg, config.DefaultLimits(), zerolog.Nop())
		var out []decided
		order(func(i int, in proto.Keyed) {
			as.Arrive(arrive(i))
			ds, err := as.Handle(in)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				out = append(out, decided{int(proto.Time(d.TS).Sub(t0) / time.Minute), i, slices.Contains(d.Flags, proto.FlagForecastMissing)})
			}
		})
		return out
	}
	t.Run("the forecaster down for an hour", func(t *testing.T) {
		got := run(t, at, func(feed func(int, proto.Keyed)) {
			for i := range 90 {
				if i < 10 || i >= 70 { // down from minute 10 to 70
					if at(i).Equal(at(i).Truncate(cfg.ForecastStep)) {
						feed(i, forecast(i))
					}
				}
				feed(i, metrics(i))
				feed(i, anomaly(i))
			}
		})
		if len(got) != 89 {
			t.Fatalf("%d ticks decided, want 89 (all but the last): %v", len(got), got)
		}
		for _, d := range got {
			// A tick whose forecast is down is decided, flagged, at the
			// arrival 3 minutes after its own; the others once the next
			// tick is in, and the last three of the outage when the
			// forecaster's first forecast back says theirs is not coming.
			want, late := d.tick+1, false
			switch {
			case d.tick >= 10 && d.tick < 67:
				want, late = d.tick+3, true
			case d.tick >= 67 && d.tick < 70:
				want = 70
			}
			if d.missing != late || d.when != want {
				t.Fatalf("tick %d decided at minute %d, forecast-missing %v; want at %d, %v", d.tick, d.when, d.missing, want, late)
			}
		}
	})
	t.Run("a backfill stored in a burst", func(t *testing.T) {
		burst := func(int) time.Time { return t0.Add(1000 * time.Hour) }
		got := run(t, burst, func(feed func(int, proto.Keyed)) {
			for i := range 90 { // every metrics tick and anomaly message first, a backfill's worth ahead
				feed(i, metrics(i))
				feed(i, anomaly(i))
			}
			for i := 0; i < 90; i += 5 {
				feed(i, forecast(i))
			}
		})
		if len(got) != 89 {
			t.Fatalf("%d ticks decided, want 89", len(got))
		}
		for _, d := range got {
			if d.missing {
				t.Fatalf("tick %d of the burst decided without its forecast", d.tick)
			}
		}
	})
}

// TestInputWaitFromTheLastTier: the wait runs from the last tier's tick
// added to the frame, so a tier lagging within the tier lag (here by 2m45s
// of 3m) has its anomaly message and forecast, each stored 30 s after its
// tick, waited for like any other's. From the frame's first tick, almost
// every db tick was decided without them (review52).
func TestInputWaitFromTheLastTier(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Policy.Tick = time.Minute
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	type stored struct {
		at time.Time
		in proto.Keyed
	}
	var ins []stored
	lag := map[string]time.Duration{"web": 0, "db": 2*time.Minute + 45*time.Second}
	for i := range 60 {
		for _, tier := range []string{"web", "db"} {
			ts, s := proto.Millis(at(i)), at(i).Add(lag[tier])
			ins = append(ins, stored{s, &proto.Metrics{App: "shop", Tier: tier, TS: ts, Replicas: 3, Values: proto.Floats{"rps": 300, "cpu": 0.5}}},
				stored{s.Add(30 * time.Second), &proto.Anomaly{App: "shop", Tier: tier, TS: ts}})
			if at(i).Equal(at(i).Truncate(cfg.ForecastStep)) {
				ins = append(ins, stored{s.Add(30 * time.Second), &proto.Forecast{App: "shop", Tier: tier, TS: ts, StepMS: cfg.ForecastStep.Milliseconds(), Metric: "rps",
					Points: []proto.ForecastPoint{{TS: ts, Yhat: 300, Lo80: 250, Hi80: 350, Lo95: 200, Hi95: 400}}}})
			}
		}
	}
	sort.SliceStable(ins, func(a, b int) bool { return ins[a].at.Before(ins[b].at) })
	as := NewApps(cfg, config.DefaultLimits(), zerolog.Nop())
	n := 0
	for _, in := range ins {
		as.Arrive(in.at)
		ds, err := as.Handle(in.in)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			n++
			if slices.Contains(d.Flags, proto.FlagForecastMissing) || slices.Contains(d.Flags, proto.FlagAnomalyMissing) {
				t.Fatalf("%s at %s decided without %v although every input came 30 s after its tick", d.Tier, d.EventTime().Format(time.TimeOnly), d.Flags)
			}
		}
	}
	if n < 110 {
		t.Fatalf("%d decisions, want those of the 57 or more ticks whose metrics are in, both tiers", n)
	}
}
