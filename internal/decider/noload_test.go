package decider

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/forecaster"
	"github.com/headroomhq/headroom/proto"
)

// TestTickWithoutLoadMetricHolds feeds shop's web tier an hour of steady
// load at 6 replicas, then an hour of ticks that carry cpu but no rps, as
// the collector publishes while a scrape rule's counter series has never
// been seen from its target (a misspelt series). A tick without its load
// metric is not zero load: every decision on one holds, flagged, and names
// the metric it lacks; none scales down.
func TestTickWithoutLoadMetricHolds(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Policy.Tick = time.Minute
	const steady = 60
	ds := decideMinutes(t, cfg, 2*steady, func(i int, ts int64) *proto.Metrics {
		if i < steady {
			return &proto.Metrics{App: "shop", Tier: "web", TS: ts, Replicas: 6, Values: proto.Floats{"rps": 300, "cpu": 0.5}}
		}
		return &proto.Metrics{App: "shop", Tier: "web", TS: ts, Replicas: 6, Values: proto.Floats{"cpu": 0.1}}
	})
	if len(ds) != 2*steady-1 {
		t.Fatalf("%d decisions, want %d (the last tick waits for the next)", len(ds), 2*steady-1)
	}
	for i, d := range ds[steady:] {
		if d.Action != proto.ActionHold || d.To != d.From {
			t.Fatalf("minute %d without rps: %s %d→%d (%s), want a hold", steady+i, d.Action, d.From, d.To, d.Reason)
		}
	}
	for i, d := range ds[steady:] {
		if !slices.Contains(d.Flags, "bad-input") || !strings.Contains(d.Reason, "no rps") {
			t.Fatalf("minute %d without rps: flags %v, reason %q; want bad-input and the missing rps named", steady+i, d.Flags, d.Reason)
		}
	}
}

// TestTickWithoutForecastMetricDoesNotWait runs shop's web and db tiers
// through the real forecaster stage (forecaster.Tiers, which makes no
// forecast from a tick without rps) into the decider, without ever
// reaching the input timeout: half an hour with rps on both, half an hour
// in which web's ticks lack it (a scrape rule whose counter its target
// never exposed), then both again. No forecast will come for the ticks
// without rps, and the decider knows it from the tick: each tick is
// decided once the next one is in, as with rps, not after the input
// timeout or the backlog (which would hold db's decisions back with it).
// web holds on the ticks without rps, flagged bad-input but not
// forecast-missing (nothing is late); db is decided as usual. Forecasts
// delivered late (after the next tick) give the same decisions: a tick
// without rps takes no forecast, so none depends on when one came.
func TestTickWithoutForecastMetricDoesNotWait(t *testing.T) {
	cfg := DefaultConfig()
	tick := cfg.Policy.Tick
	const n, gapFrom, gapTo = 360, 120, 240 // 15 s ticks: 90 minutes, web without rps from minute 30 to 60
	run := func(t *testing.T, forecastsLate bool) []*proto.Decision {
		st := NewApps(cfg, config.DefaultLimits(), zerolog.Nop())
		st.Overdue = func(o OverdueTick) { t.Errorf("tick %s decided overdue: %+v", proto.Time(o.TS).Format("15:04:05"), o) }
		fc := forecaster.NewTiers(forecaster.DefaultConfig(), config.DefaultLimits(), zerolog.Nop())
		handle := func(in proto.Keyed) []*proto.Decision {
			t.Helper()
			ds, err := st.Handle(in)
			if err != nil {
				t.Fatal(err)
			}
			return ds
		}
		var all []*proto.Decision
		var held []proto.Keyed // forecasts held back for a tick
		for i := range n {
			at := t0.Add(time.Duration(i) * tick)
			var ds []*proto.Decision
			for _, tier := range []string{"web", "db"} {
				values := proto.Floats{"rps": 300 + float64(i%7), "cpu": 0.5}
				if tier == "web" && i >= gapFrom && i < gapTo {
					values = proto.Floats{"cpu": 0.5}
				}
				m := proto.NewMetrics("shop", tier, at, 4, values)
				f, _, err := fc.Step(m)
				if err != nil {
					t.Fatal(err)
				}
				ds = append(ds, handle(m)...)
				if f != nil {
					if forecastsLate {
						held = append(held, f)
					} else {
						ds = append(ds, handle(f)...)
					}
				}
				ds = append(ds, handle(&proto.Anomaly{App: "shop", Tier: tier, TS: m.TS})...)
			}
			if forecastsLate && i%2 == 1 {
				for _, f := range held {
					ds = append(ds, handle(f)...)
				}
				held = held[:0]
			}
			// Every tick before the previous one is decided by now, both
			// tiers, whatever it lacks (the previous one may wait for a
			// forecast held back).
			if i >= 2 {
				want := proto.Millis(t0.Add(time.Duration(i-2) * tick))
				decided := 0
				for _, d := range append(all, ds...) {
					if d.TS == want {
						decided++
					}
				}
				if decided != 2 {
					t.Fatalf("tick %s: %d decisions once two later ticks are in, want 2 (web and db): it waits for a forecast that will not come",
						proto.Time(want).Format("15:04:05"), decided)
				}
			}
			all = append(all, ds...)
		}
		return all
	}
	ds := run(t, false)
	for _, d := range ds {
		i := int(proto.Time(d.TS).Sub(t0) / tick)
		if slices.Contains(d.Flags, proto.FlagForecastMissing) || slices.Contains(d.Flags, proto.FlagInputTimeout) {
			t.Fatalf("%s %s: flags %v: nothing was late", d.Tier, proto.Time(d.TS).Format("15:04:05"), d.Flags)
		}
		noRPS := d.Tier == "web" && i >= gapFrom && i < gapTo
		if noRPS != slices.Contains(d.Flags, "bad-input") {
			t.Fatalf("%s %s: flags %v, want bad-input: %v", d.Tier, proto.Time(d.TS).Format("15:04:05"), d.Flags, noRPS)
		}
		if noRPS && (d.Action != proto.ActionHold || d.To != d.From) {
			t.Fatalf("web %s without rps: %s %d→%d, want a hold", proto.Time(d.TS).Format("15:04:05"), d.Action, d.From, d.To)
		}
	}
	late := run(t, true)
	if len(late) != len(ds) {
		t.Fatalf("%d decisions with the forecasts late, %d in time", len(late), len(ds))
	}
	for i := range ds {
		a, b := ds[i], late[i]
		if a.ID != b.ID || a.Action != b.Action || a.To != b.To || a.Reason != b.Reason || !slices.Equal(a.Flags, b.Flags) {
			t.Fatalf("decision %s differs with the forecasts late:\n in time %s %d→%d %v %q\n late    %s %d→%d %v %q",
				a.ID, a.Action, a.From, a.To, a.Flags, a.Reason, b.Action, b.From, b.To, b.Flags, b.Reason)
		}
	}
}

// TestJoinTickWithoutForecastMetric joins web ticks of which some lack rps
// (a whole bucket of them, and the first tick of another bucket, whose
// forecast the forecaster makes only at the bucket's next tick, which has
// rps) with db ticks that all have it, the forecasts as the forecaster
// makes them, and the three streams in fifty interleavings. Every tick but
// the last is released by the inputs alone (no timeout), and every
// interleaving releases the same frames: a web tick without rps waits for
// no forecast and takes none, whenever its bucket's forecast came.
func TestJoinTickWithoutForecastMetric(t *testing.T) {
	const minutes = 30
	noRPS := func(i int) bool { return i == 5 || (i >= 10 && i < 15) }
	type in struct {
		kind, tier string
		i          int
	}
	streams := map[string][]in{}
	forecast := map[string]int{} // tier → the bucket start of its latest forecast, minute+1
	for i := range minutes {
		for _, tier := range []string{"web", "db"} {
			streams["m"] = append(streams["m"], in{"m", tier, i})
			streams["a"] = append(streams["a"], in{"a", tier, i})
			if b := i - i%5; !(tier == "web" && noRPS(i)) && forecast[tier] != b+1 {
				forecast[tier] = b + 1
				streams["f"] = append(streams["f"], in{"f", tier, b})
			}
		}
	}
	var want []string
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 61))
		j := newJoiner(5*time.Minute, proto.MetricRPS)
		j.tick, j.wait = time.Minute.Milliseconds(), (2 * time.Minute).Milliseconds()
		pos := map[string]int{}
		var got []string
		for {
			var kinds []string
			for _, k := range []string{"m", "a", "f"} {
				if pos[k] < len(streams[k]) {
					kinds = append(kinds, k)
				}
			}
			if len(kinds) == 0 {
				break
			}
			k := kinds[0] // seed 0: metrics first
			if seed > 0 {
				k = kinds[rng.IntN(len(kinds))]
			}
			x := streams[k][pos[k]]
			pos[k]++
			ts := proto.Millis(minute(x.i))
			switch k {
			case "m":
				values := proto.Floats{"rps": 1, "cpu": 0.5}
				if x.tier == "web" && noRPS(x.i) {
					values = proto.Floats{"cpu": 0.5}
				}
				j.addMetrics(&proto.Metrics{App: "shop", Tier: x.tier, TS: ts, Replicas: 1, Values: values})
			case "a":
				j.addAnomaly(&proto.Anomaly{App: "shop", Tier: x.tier, TS: ts})
			case "f":
				j.addForecast(&proto.Forecast{App: "shop", Tier: x.tier, TS: ts})
			}
			got = append(got, drain(j)...)
		}
		if len(got) != minutes-1 {
			t.Fatalf("seed %d: %d ticks released, want %d (all but the last): %v", seed, len(got), minutes-1, got)
		}
		for i, f := range got {
			if noRPS(i) != strings.Contains(f, "web(f-,") {
				t.Fatalf("seed %d: minute %d's frame %s: web without a forecast %v, want %v (a tick without rps takes none)", seed, i, f, !noRPS(i), noRPS(i))
			}
		}
		if want == nil {
			want = got
		} else if !slices.Equal(got, want) {
			t.Fatalf("seed %d released\n%v\nseed 0 released\n%v", seed, got, want)
		}
	}
}

// TestForecastMetricMirrorsForecaster: the metric whose absence spares a
// tick its wait for a forecast is the one the forecaster forecasts; a
// decider told another would wait for forecasts that never come, or not
// wait for ones that do. A Config naming none is refused.
func TestForecastMetricMirrorsForecaster(t *testing.T) {
	if got, want := DefaultConfig().ForecastMetric, forecaster.DefaultConfig().Metric; got != want {
		t.Fatalf("the decider's forecast metric %q, the forecaster forecasts %q", got, want)
	}
	c := DefaultConfig()
	c.ForecastMetric = ""
	if err := c.Validate(); err == nil {
		t.Fatal("a Config without a forecast metric was accepted")
	}
}

// TestTickWithoutLoadMetricLearnsNothing: the policy's learned state
// (capacity, demand and seasonal windows, the flat-line guard, the skill
// selector and its shadow HPA rules) takes nothing from a tick without the
// tier's load metric. Two runs of shop's web tier, four hours of a moving
// load around half an hour that, in one, has ticks with cpu but no rps
// and, in the other, no ticks at all, decide every tick after it alike.
func TestTickWithoutLoadMetricLearnsNothing(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Policy.Tick = time.Minute
	const gapFrom, gapTo, n = 120, 150, 240
	load := func(i int) proto.Floats {
		rps := 300 + 120*math.Sin(float64(i)/17) + float64(i%5)*7
		return proto.Floats{"rps": rps, "cpu": rps / 600}
	}
	run := func(withTicks bool) map[int64]*proto.Decision {
		out := map[int64]*proto.Decision{}
		st := NewApps(cfg, config.DefaultLimits(), zerolog.Nop())
		for i := range n {
			if i >= gapFrom && i < gapTo && !withTicks {
				continue
			}
			at := t0.Add(time.Duration(i) * time.Minute)
			ts := proto.Millis(at)
			values := load(i)
			if i >= gapFrom && i < gapTo {
				values = proto.Floats{"cpu": 0.1}
			}
			ins := []proto.Keyed{&proto.Metrics{App: "shop", Tier: "web", TS: ts, Replicas: 4, Values: values}}
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
					out[d.TS] = d
				}
			}
		}
		return out
	}
	with, without := run(true), run(false)
	changes := 0
	for i := gapTo; i < n-1; i++ {
		ts := proto.Millis(t0.Add(time.Duration(i) * time.Minute))
		a, b := with[ts], without[ts]
		if a == nil || b == nil {
			t.Fatalf("minute %d: decided %v with the ticks without rps, %v without them", i, a != nil, b != nil)
		}
		if a.Action != b.Action || a.To != b.To || a.Reason != b.Reason || !slices.Equal(a.Flags, b.Flags) {
			t.Fatalf("minute %d after the ticks without rps: %s %d→%d %v %q; with no ticks there: %s %d→%d %v %q",
				i, a.Action, a.From, a.To, a.Flags, a.Reason, b.Action, b.From, b.To, b.Flags, b.Reason)
		}
		if a.Action != proto.ActionHold {
			changes++
		}
	}
	if changes == 0 {
		t.Fatal("no change decided after the gap: the comparison shows nothing")
	}
}
