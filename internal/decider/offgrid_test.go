package decider

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// offGridTiers are three tiers pushed by three pushers, each at its own
// instant of the minute, within half a minute of its start.
var offGridTiers = []struct {
	tier string
	at   time.Duration // after the minute's start
}{{"web", 5123 * time.Millisecond}, {"cache", 20 * time.Second}, {"db", -19500 * time.Millisecond}}

// offGridStreams returns the three input streams of minutes ticks of
// offGridTiers and, when extra is set, a second web tick 25 s into minutes
// 2 and 3; an anomaly message judges each tick, and a forecast per tier
// starts every 5-minute bucket.
func offGridStreams(minutes int, extra bool) map[string][]input {
	streams := map[string][]input{}
	for i := range minutes {
		var ticks []input
		for _, o := range offGridTiers {
			ticks = append(ticks, input{"m", o.tier, minute(i).Add(o.at)})
			if o.tier == "web" && extra && (i == 2 || i == 3) {
				ticks = append(ticks, input{"m", "web", minute(i).Add(25 * time.Second)})
			}
			if i%5 == 0 {
				streams["f"] = append(streams["f"], input{"f", o.tier, minute(i)})
			}
		}
		for _, m := range ticks {
			streams["m"] = append(streams["m"], m)
			streams["a"] = append(streams["a"], input{"a", m.tier, m.at})
		}
	}
	return streams
}

// TestJoinOffGridTicks: an app's tiers pushed separately, each at its own
// instant within half a minute of a minute's start, are joined at it, every tier with
// the anomaly message judging its own tick, whatever the interleaving of
// the streams; a tier's second tick in a minute is not added (the first
// stays, with its anomaly message), and only its first is reported as the
// first. Joined by exact time, as before the grid, every frame held one
// tier.
func TestJoinOffGridTicks(t *testing.T) {
	const minutes = 6
	frame := func(i int) string {
		var tiers []string
		for _, tt := range offGridTiers {
			at := minute(i).Add(tt.at)
			fc := "-" // the forecast of the bucket holding the tick itself; none before t0
			if b := at.Truncate(5 * time.Minute); !b.Before(t0) {
				fc = b.Format("15:04")
			}
			tiers = append(tiers, fmt.Sprintf("%s(f%s,a[%d])", tt.tier, fc, proto.Millis(at)))
		}
		slices.Sort(tiers)
		return fmt.Sprintf("%s %v", minute(i).Format("15:04"), tiers)
	}
	var want []string
	for i := range minutes - 1 { // the last minute waits for a later tick
		want = append(want, frame(i))
	}
	for _, extra := range []bool{false, true} {
		for o := range uint64(4) {
			j := newJoiner(5*time.Minute, proto.MetricRPS)
			j.tick, j.wait = time.Minute.Milliseconds(), (3 * time.Minute).Milliseconds()
			var pick func([]string) string
			if o > 0 { // 0: the metrics first
				order := rand.New(rand.NewPCG(o, 7))
				pick = func(kinds []string) string { return kinds[order.IntN(len(kinds))] }
			}
			if got := feed(j, offGridStreams(minutes, extra), pick, nil); !slices.Equal(got, want) {
				t.Fatalf("extra ticks %v, interleaving %d: frames\n%v\nwant\n%v", extra, o, got, want)
			}
		}
	}

	t.Run("extra ticks", func(t *testing.T) {
		j := newJoiner(5*time.Minute, proto.MetricRPS)
		j.tick, j.wait = time.Minute.Milliseconds(), (3 * time.Minute).Milliseconds()
		type late struct {
			why   Lateness
			first bool
		}
		var got []late
		for _, in := range offGridStreams(minutes, true)["m"] {
			why, first := j.addMetrics(&proto.Metrics{App: "shop", Tier: in.tier, TS: proto.Millis(in.at)})
			if why != 0 {
				got = append(got, late{why, first})
			}
		}
		if want := []late{{LateExtra, true}, {LateExtra, false}}; !slices.Equal(got, want) {
			t.Fatalf("the join said %+v of the ticks it did not add, want %+v", got, want)
		}
	})

	t.Run("joined by exact time", func(t *testing.T) {
		j := newJoiner(5*time.Minute, proto.MetricRPS)
		j.wait = (3 * time.Minute).Milliseconds()
		for _, f := range feed(j, offGridStreams(minutes, false), nil, nil) {
			if n := strings.Count(f, "(f"); n != 1 {
				t.Fatalf("frame %s holds %d tiers; joined by exact time, every frame held one", f, n)
			}
		}
	})
}

// TestDecisionsOnTheGrid: the decider decides every tier of an app pushed
// off the grid once a minute, at the minute nearest the ticks, and each
// decision carries the app's tick (the executor adds it to its age limit).
func TestDecisionsOnTheGrid(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Policy.Tick = time.Minute
	st := NewApps(cfg, config.DefaultLimits(), zerolog.Nop())
	const minutes = 30
	streams := offGridStreams(minutes, true)
	byTS := map[int64][]string{}
	for _, kind := range []string{"a", "f", "m"} { // the metrics last: every tick completes as its successor comes
		for _, in := range streams[kind] {
			var k proto.Keyed
			ts := proto.Millis(in.at)
			switch in.kind {
			case "m":
				k = &proto.Metrics{App: "shop", Tier: in.tier, TS: ts, Replicas: 2, Values: proto.Floats{"rps": 100, "cpu": 0.5}}
			case "a":
				k = &proto.Anomaly{App: "shop", Tier: in.tier, TS: ts}
			case "f":
				k = &proto.Forecast{App: "shop", Tier: in.tier, TS: ts}
			}
			ds, err := st.Handle(k)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				byTS[d.TS] = append(byTS[d.TS], d.Tier)
				if d.TickMS != time.Minute.Milliseconds() {
					t.Fatalf("decision %s carries a tick of %d ms, want the app's minute", d.ID, d.TickMS)
				}
			}
		}
	}
	if len(byTS) != minutes-1 {
		t.Fatalf("decisions at %d times, want %d (one a minute, the last minute waiting)", len(byTS), minutes-1)
	}
	for ts, tiers := range byTS {
		slices.Sort(tiers)
		if at := proto.Time(ts); !at.Equal(at.Truncate(time.Minute)) || !slices.Equal(tiers, []string{"cache", "db", "web"}) {
			t.Fatalf("decisions at %s for %v, want one for each of cache, db and web at a minute's start", at.Format(time.StampMilli), tiers)
		}
	}
}

// TestSparseTierReported: a tier sent less often than its app's one-minute
// tick is reported once, at the end of its first block of spacingGaps
// intervals, with their mean (every one and a half ticks too); a tier missing a tick now and then is
// not, nor is a backfill of ticks four minutes apart that arrives within
// seconds.
func TestSparseTierReported(t *testing.T) {
	for _, c := range []struct {
		name     string
		tick     time.Duration                          // the app's; 0 for a minute
		at       func(i int) (event, arrival time.Time) // the i-th tick
		want     int                                    // reports over 200 ticks
		wantMean time.Duration
	}{
		{"every 4 minutes", 0, func(i int) (time.Time, time.Time) {
			at := minute(4 * i).Add(17 * time.Second)
			return at, at.Add(time.Second)
		}, 1, 4 * time.Minute},
		{"every 90 s", 0, func(i int) (time.Time, time.Time) {
			at := t0.Add(time.Duration(i) * 90 * time.Second).Add(7 * time.Second)
			return at, at
		}, 1, 90 * time.Second},
		{"every minute, every tenth missed", 0, func(i int) (time.Time, time.Time) {
			at := minute(i + i/9).Add(17 * time.Second)
			return at, at
		}, 0, 0},
		{"every 15 s, down 10 minutes once", 15 * time.Second, func(i int) (time.Time, time.Time) {
			if i >= 100 {
				i += 40
			}
			at := t0.Add(time.Duration(i) * 15 * time.Second)
			return at, at.Add(time.Second)
		}, 0, 0},
		{"every minute at the half-minute, ±200 ms", 0, func(i int) (time.Time, time.Time) {
			at := minute(i).Add(30*time.Second + time.Duration((i*7)%3-1)*200*time.Millisecond)
			return at, at.Add(time.Second)
		}, 0, 0},
		{"a backfill, every 4 minutes", 0, func(i int) (time.Time, time.Time) {
			return minute(4 * i), t0.Add(time.Duration(i) * time.Millisecond)
		}, 0, 0},
		{"a backfill every minute, then every 15 s in real time (the all-in-one's defaults)", 15 * time.Second, func(i int) (time.Time, time.Time) {
			const backfilled = 103 // not a whole number of blocks
			if i < backfilled {
				return minute(i), minute(backfilled).Add(time.Duration(i) * time.Millisecond)
			}
			at := minute(backfilled).Add(time.Duration(i-backfilled) * 15 * time.Second)
			return at, at.Add(time.Second)
		}, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Policy.Tick = cmp.Or(c.tick, time.Minute)
			st := NewApps(cfg, config.DefaultLimits(), zerolog.Nop())
			var got []time.Duration
			st.Sparse = func(m *proto.Metrics, mean, tick time.Duration) {
				if tick != cfg.Policy.Tick {
					t.Errorf("reported with a tick of %v, want %v", tick, cfg.Policy.Tick)
				}
				got = append(got, mean)
			}
			for i := range 200 {
				at, arrival := c.at(i)
				st.Arrive(arrival)
				if _, err := st.Handle(&proto.Metrics{App: "shop", Tier: "web", TS: proto.Millis(at), Replicas: 2, Values: proto.Floats{"rps": 100}}); err != nil {
					t.Fatal(err)
				}
			}
			// The mean is of grid points: to a tick over the block.
			if len(got) != c.want || c.want > 0 && (got[0]-c.wantMean).Abs() > time.Minute/spacingGaps {
				t.Fatalf("reported with mean intervals %v, want %d report(s) of %v", got, c.want, c.wantMean)
			}
		})
	}
}

// TestExtraTicksReportedHourly: a tier sent twice a minute has an extra
// tick every minute, reported as first once an hour of event time; a
// lagging tier's second tick in a minute is lagging, and does not use up
// the warning of its extra ticks.
func TestExtraTicksReportedHourly(t *testing.T) {
	j := newJoiner(5*time.Minute, proto.MetricRPS)
	j.tick, j.wait = time.Minute.Milliseconds(), (2 * time.Minute).Milliseconds()
	add := func(tier string, at time.Time) (Lateness, bool) {
		return j.addMetrics(&proto.Metrics{App: "shop", Tier: tier, TS: proto.Millis(at)})
	}
	var firsts []int
	for i := range 150 {
		add("web", minute(i))
		if why, first := add("web", minute(i).Add(20*time.Second)); why != LateExtra {
			t.Fatalf("web's second tick of minute %d: %v, want extra", i, why)
		} else if first {
			firsts = append(firsts, i)
		}
	}
	if want := []int{0, 60, 120}; !slices.Equal(firsts, want) {
		t.Fatalf("extra ticks reported first at minutes %v, want %v", firsts, want)
	}
	// db starts 5 minutes behind web's newest, twice a minute.
	for k, c := range []struct {
		at        time.Time
		why       Lateness
		wantFirst bool
	}{
		{minute(145), LateBehind, true},
		{minute(145).Add(20 * time.Second), LateBehind, false},
		{minute(146), LateBehind, false},
	} {
		if why, first := add("db", c.at); why != c.why || first != c.wantFirst {
			t.Fatalf("db's tick %d: %v (first %v), want %v (first %v)", k, why, first, c.why, c.wantFirst)
		}
	}
	if st := j.tiers["db"]; st.extraAt != 0 {
		t.Fatalf("db's lagging ticks used up its extra warning (extraAt %d)", st.extraAt)
	}
}

// TestStoppedTierDoesNotHoldTheApp: a tier that stops after a tick late in
// a forecast bucket, whose grid point is in the next bucket, does not hold
// its app back: the forecaster publishes a bucket's forecast as the
// tier's first tick in it comes, so that tick waits for its own bucket's
// forecast, not the next one's, which would never come. (Judged by the grid
// point, db was decided up to minute 4 only.)
func TestStoppedTierDoesNotHoldTheApp(t *testing.T) {
	for _, offset := range []time.Duration{20 * time.Second, 40 * time.Second} {
		cfg := DefaultConfig()
		cfg.Policy.Tick = time.Minute
		st := NewApps(cfg, config.DefaultLimits(), zerolog.Nop())
		bucket := map[string]int64{} // the forecaster's last bucket opened, by tier
		var last time.Time           // of db's decisions
		handle := func(in proto.Keyed) {
			ds, err := st.Handle(in)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				if d.Tier == "db" {
					last = d.EventTime()
				}
			}
		}
		send := func(tier string, at time.Time) {
			handle(&proto.Metrics{App: "shop", Tier: tier, TS: proto.Millis(at), Replicas: 2, Values: proto.Floats{"rps": 100}})
			if b := proto.Millis(at.Truncate(cfg.ForecastStep)); b > bucket[tier] {
				bucket[tier] = b
				handle(&proto.Forecast{App: "shop", Tier: tier, TS: b})
			}
			handle(&proto.Anomaly{App: "shop", Tier: tier, TS: proto.Millis(at)})
		}
		for i := range 40 {
			if i <= 4 { // web's tick of minute 4 is its last
				send("web", minute(i).Add(offset))
			}
			send("db", minute(i).Add(offset))
		}
		// Minute 39's tick waits for a later one, minute 38's is decided.
		if want := minute(39).Add(offset).Round(time.Minute).Add(-time.Minute); !last.Equal(want) {
			t.Errorf("ticks %v into the minute, web stopped after minute 4: db decided up to %s, want %s",
				offset, last.Format(time.TimeOnly), want.Format(time.TimeOnly))
		}
	}
}

// TestSparseTierWarned: the service warns once of a tier sent less often
// than its app's tick, naming the mean interval, also when a rebuild
// replays the ticks (marked so: the join reports a run once, and the run
// found in the replay would otherwise go unsaid by this process).
func TestSparseTierWarned(t *testing.T) {
	for _, replayed := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.Policy.Tick = time.Minute
		var logs bytes.Buffer
		s, err := New(cfg, service.Deps{Log: zerolog.New(&logs).Level(zerolog.WarnLevel), Reg: prometheus.NewRegistry(), Ready: service.NewReady()})
		if err != nil {
			t.Fatal(err)
		}
		s.replayed = replayed // as the handler sets it from bus.Msg.Replayed
		for i := range 60 {
			if _, err := s.state.Handle(&proto.Metrics{App: "shop", Tier: "web", TS: proto.Millis(minute(4 * i)), Replicas: 2, Values: proto.Floats{"rps": 100}}); err != nil {
				t.Fatal(err)
			}
		}
		out := logs.String()
		if n := strings.Count(out, "less often than its app's tick"); n != 1 || !strings.Contains(out, `"mean_interval":240000`) ||
			!strings.Contains(out, fmt.Sprintf(`"replayed":%v`, replayed)) {
			t.Fatalf("replayed %v: %d warnings of a sparse tier, want 1 with a mean interval of 4m:\n%s", replayed, n, out)
		}
	}
}
