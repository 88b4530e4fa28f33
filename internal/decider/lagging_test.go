package decider

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// minute is the time of the tick i minutes after t0.
func minute(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }

// upstream returns what the anomaly service and the forecaster make for
// minutes ticks of tiers, in order: an anomaly message per tier per minute,
// and a forecast per tier at the start of every 5-minute bucket.
func upstream(minutes int, tiers ...string) []input {
	var in []input
	for i := range minutes {
		for _, tier := range tiers {
			in = append(in, input{"a", tier, minute(i)})
			if i%5 == 0 {
				in = append(in, input{"f", tier, minute(i)})
			}
		}
	}
	return in
}

// laggingStreams returns minutes ticks of two tiers of one app as the three
// input streams hold them when db's metrics are pushed separately and lag:
// the metrics stream holds db's tick of minute i after web's tick of minute
// i+lag (lag 0: right after it).
func laggingStreams(minutes, lag int) map[string][]input {
	streams := map[string][]input{}
	for _, in := range upstream(minutes, "web", "db") {
		streams[in.kind] = append(streams[in.kind], in)
	}
	for i := range minutes {
		streams["m"] = append(streams["m"], input{"m", "web", minute(i)})
		if i >= lag { // db's last lag ticks are still on their way
			streams["m"] = append(streams["m"], input{"m", "db", minute(i - lag)})
		}
	}
	return streams
}

// feed adds the inputs of the three streams to j, each stream in its own
// order (as JetStream keeps it), taking the next input from the stream pick
// chooses among those not yet done (nil: the metrics first, the order that
// holds most back), and returns the frames released. after, when set, runs after
// each input.
func feed(j *joiner, streams map[string][]input, pick func(kinds []string) string, after func()) []string {
	pos := map[string]int{}
	var frames []string
	for {
		var kinds []string
		for _, k := range []string{"m", "a", "f"} {
			if pos[k] < len(streams[k]) {
				kinds = append(kinds, k)
			}
		}
		if len(kinds) == 0 {
			return frames
		}
		k := kinds[0]
		if pick != nil {
			k = pick(kinds)
		}
		streams[k][pos[k]].add(j)
		pos[k]++
		frames = append(frames, drain(j)...)
		if after != nil {
			after()
		}
	}
}

// TestJoinLaggingTierOrderIndependent checks that a tier whose metrics lag
// the app's other tier (two pushers of one app's tiers, one slower) is
// joined the same way whatever the interleaving of the three input streams
// (a take-over's replay, in whatever order it reads them, must decide as a
// member that never stopped), and that a join that waits for lagging tiers puts
// the slow tier's ticks in their frames once it knows the tier: its first
// lag ticks come after their frames' metrics were in. Without a wait, or
// with one shorter than the lag, the slow tier is never decided.
func TestJoinLaggingTierOrderIndependent(t *testing.T) {
	const minutes = 30
	for _, tc := range []struct {
		name     string
		lag      int
		wait     time.Duration
		released int // ticks released once every input is in
		dbFrom   int // first minute whose frame holds db; minutes for none
	}{
		{"one tick behind, no wait", 1, 0, minutes - 1, minutes},
		{"one tick behind", 1, 2 * time.Minute, minutes - 1, 1},
		{"three ticks behind", 3, 5 * time.Minute, minutes - 3, 3},
		{"three ticks behind a shorter wait", 3, 2 * time.Minute, minutes - 1, minutes},
		{"in step", 0, 2 * time.Minute, minutes - 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			streams := laggingStreams(minutes, tc.lag)
			var want []string
			for seed := range uint64(50) {
				rng := rand.New(rand.NewPCG(seed, 11))
				j := newJoiner(5*time.Minute, proto.MetricRPS)
				j.wait = tc.wait.Milliseconds()
				var pick func([]string) string // seed 0: metrics first
				if seed > 0 {
					pick = func(kinds []string) string { return kinds[rng.IntN(len(kinds))] }
				}
				got := feed(j, streams, pick, nil)
				if len(got) != tc.released {
					t.Fatalf("seed %d: released %d ticks, want %d", seed, len(got), tc.released)
				}
				if want == nil {
					want = got
					for i, f := range got {
						if hasDB := strings.Contains(f, "db("); hasDB != (i >= tc.dbFrom) {
							t.Fatalf("minute %d's frame %q: holds db %v, want db from minute %d", i, f, hasDB, tc.dbFrom)
						}
					}
					continue
				}
				if !slices.Equal(got, want) {
					t.Fatalf("seed %d released different frames from the metrics-first order:\n%v\nwant\n%v", seed, got, want)
				}
			}
		})
	}
}

// TestJoinStopsWaitingForAStoppedTier: a tier that stops holds its app's
// ticks back by the wait, no longer; the ticks it held are then released
// without it, and a tier that comes back is joined again: at once if its
// ticks are in step, else once the ticks that were complete when it came
// back are past.
func TestJoinStopsWaitingForAStoppedTier(t *testing.T) {
	const stop, back, minutes = 10, 20, 30
	for _, tc := range []struct {
		name   string
		lag    int // of db's ticks once back
		dbFrom int // first minute after the stop whose frame holds db
	}{
		{"back in step", 0, back},
		{"back two ticks behind", 2, back + 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := newJoiner(5*time.Minute, proto.MetricRPS)
			j.wait = (5 * time.Minute).Milliseconds()
			// Every anomaly message and forecast is in first, so only the
			// metrics decide when a tick is released.
			for _, in := range upstream(minutes, "web", "db") {
				in.add(j)
			}
			var frames []string
			for i := range minutes {
				at := minute(i)
				input{"m", "web", at}.add(j)
				got := drain(j)
				frames = append(frames, got...)
				// db's last tick is minute 9: web's minutes 11 to 14 are
				// at most the wait ahead of it, so minutes 10 to 13 wait
				// for db; web's minute 15 is more than the wait ahead,
				// and minutes 10 to 14 are released without db.
				switch {
				case i > stop && i < stop+5:
					if len(got) != 0 {
						t.Fatalf("after web's minute %d: released %v, want the ticks after db's stop held for the wait", i, got)
					}
				case i == stop+5:
					if len(got) != 5 {
						t.Fatalf("after web's minute %d: released %d ticks (%v), want the 5 held", i, len(got), got)
					}
				}
				switch { // db in step up to its stop, then back lag behind
				case i < stop:
					input{"m", "db", at}.add(j)
				case i >= back+tc.lag:
					input{"m", "db", at.Add(-time.Duration(tc.lag) * time.Minute)}.add(j)
				}
				frames = append(frames, drain(j)...)
			}
			if want := minutes - max(1, tc.lag); len(frames) != want {
				t.Fatalf("released %d ticks, want %d", len(frames), want)
			}
			for i, f := range frames {
				want := i < stop || i >= tc.dbFrom
				if got := strings.Contains(f, "db("); got != want {
					t.Fatalf("minute %d's frame %q: holds db %v, want %v", i, f, got, want)
				}
			}
		})
	}
}

// TestLaggingTierDecided: the decider's TierLag reaches the join, so a
// tier pushed a tick behind its app's other tier is decided (all but its
// first tick, which came after its frame's metrics were in, and is counted
// late), and without a wait it is not decided at all: each of its ticks is
// counted as lagging, with one warning for the run; but not when a rebuild
// replays them (they were counted when delivered live).
func TestLaggingTierDecided(t *testing.T) {
	for _, tc := range []struct {
		lag                   time.Duration
		replayed              bool
		wantDB, late, lagging int
	}{
		{2 * time.Minute, false, 18, 1, 0}, // minutes 1 to 18; minute 19 waits for db's tick
		{0, false, 0, 0, 19},
		{0, true, 0, 0, 0},
	} {
		cfg := DefaultConfig()
		cfg.Policy.Tick = time.Minute
		cfg.TierLag = tc.lag
		reg := prometheus.NewRegistry()
		var logs bytes.Buffer
		s, err := New(cfg, service.Deps{Log: zerolog.New(&logs).Level(zerolog.WarnLevel), Reg: reg, Ready: service.NewReady()})
		if err != nil {
			t.Fatal(err)
		}
		s.replayed = tc.replayed // as the handler sets it from bus.Msg.Replayed
		decided := map[string]int{}
		handle := func(in proto.Keyed) {
			t.Helper()
			ds, err := s.state.Handle(in)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				decided[d.Tier]++
			}
		}
		for i := range 20 {
			ts := proto.Millis(minute(i))
			for _, tier := range []string{"web", "db"} {
				if at := proto.Time(ts); at.Equal(at.Truncate(cfg.ForecastStep)) {
					handle(&proto.Forecast{App: "shop", Tier: tier, TS: ts})
				}
				handle(&proto.Anomaly{App: "shop", Tier: tier, TS: ts})
			}
			handle(shopTick("web", i))
			if i > 0 {
				handle(shopTick("db", i-1))
			}
		}
		if decided["web"] != 19 || decided["db"] != tc.wantDB {
			t.Errorf("tier lag %v: decisions by tier %v, want web 19, db %d", tc.lag, decided, tc.wantDB)
		}
		got := metricstest.ByLabel(t, reg, "headroom_decider_late_ticks_total", "reason")
		if got["late"] != float64(tc.late) || got["lagging"] != float64(tc.lagging) || got["redelivered"] != 0 {
			t.Errorf("tier lag %v: headroom_decider_late_ticks_total by reason %v, want late %d, lagging %d", tc.lag, got, tc.late, tc.lagging)
		}
		warnings := strings.Count(logs.String(), `"level":"warn"`)
		if want := min(tc.lagging, 1); warnings != want {
			t.Errorf("tier lag %v: %d warnings of a lagging tier, want %d:\n%s", tc.lag, warnings, want, logs.String())
		}
	}
}

// TestJoinMetricsInProperties feeds random metrics streams of three tiers,
// each with its own lag (changing now and then), gaps, a stop and a return,
// a late start, and redeliveries of earlier ticks, and checks after every
// input that whether a tick's metrics are in never goes from true to false
// and holds for every tick before one that is in; and that the frames are
// the same whatever the interleaving of the three streams and whether the
// redeliveries (which a take-over's replay of the stored stream does not
// hold) happened. In every other stream the ticks are off the one-minute
// grid, each at its own second of its minute, and a tier now and then
// sends a second tick in a minute; the anomaly messages then judge those
// ticks as the anomaly service does: one each, in stream order, for every
// tick newer than its tier's last.
func TestJoinMetricsInProperties(t *testing.T) {
	const minutes = 25
	for seed := range uint64(400) {
		rng := rand.New(rand.NewPCG(seed, 13))
		offGrid := seed%2 == 1
		stream, redelivery := randomMetrics(rng, minutes, offGrid)
		wait := time.Duration(rng.IntN(4)) * time.Minute
		others := upstream(minutes, "web", "cache", "db")
		if offGrid {
			others = nil
			for _, in := range upstream(minutes, "web", "cache", "db") {
				if in.kind == "f" {
					others = append(others, in)
				}
			}
			scored := map[string]time.Time{} // the anomaly service scores a tier's ticks newer than its last only
			for _, in := range stream {
				if in.at.After(scored[in.tier]) {
					scored[in.tier] = in.at
					others = append(others, input{"a", in.tier, in.at})
				}
			}
		}
		run := func(redelivered bool, order *rand.Rand) []string {
			j := newJoiner(5*time.Minute, proto.MetricRPS)
			j.tick = time.Minute.Milliseconds()
			j.wait = wait.Milliseconds()
			streams := map[string][]input{}
			for i, in := range stream {
				if redelivered || !redelivery[i] {
					streams["m"] = append(streams["m"], in)
				}
			}
			for _, in := range others {
				streams[in.kind] = append(streams[in.kind], in)
			}
			var pick func([]string) string
			if order != nil {
				pick = func(kinds []string) string { return kinds[order.IntN(len(kinds))] }
			}
			wasIn := make([]bool, minutes+1)
			return feed(j, streams, pick, func() {
				for i := range wasIn {
					in := j.metricsIn(proto.Millis(minute(i)))
					if wasIn[i] && !in {
						t.Fatalf("seed %d: minute %d's metrics were in, and then not", seed, i)
					}
					if in && i > 0 && !j.metricsIn(proto.Millis(minute(i-1))) {
						t.Fatalf("seed %d: minute %d's metrics are in, minute %d's not", seed, i, i-1)
					}
					wasIn[i] = in
				}
			})
		}
		want := run(false, nil) // the stored stream, metrics first
		for o := range uint64(3) {
			if got := run(true, rand.New(rand.NewPCG(seed, o))); !slices.Equal(got, want) {
				t.Fatalf("seed %d (wait %v, off the grid %v), interleaving %d with redeliveries: frames\n%v\nwant\n%v", seed, wait, offGrid, o, got, want)
			}
		}
	}
}

// randomMetrics returns a metrics stream of three tiers over minutes, in
// the order their ticks reach the stream, and which of its entries are
// redeliveries of an earlier entry. Off the grid, each tick is at a random
// millisecond within half a minute of its minute, and one in six has a
// second tick later in that span.
func randomMetrics(rng *rand.Rand, minutes int, offGrid bool) (stream []input, redelivery []bool) {
	type arrival struct {
		at float64 // when the tick reaches the stream, in minutes
		in input
	}
	var arrivals []arrival
	for k, tier := range []string{"web", "cache", "db"} {
		lag := rng.IntN(5)
		stop, back := minutes, minutes
		if rng.IntN(2) == 0 {
			stop = rng.IntN(minutes)
			back = stop + rng.IntN(10)
		}
		start := 0
		if rng.IntN(3) == 0 {
			start = rng.IntN(10)
		}
		for i := start; i < minutes; i++ {
			if i >= stop && i < back || rng.IntN(10) == 0 {
				continue // stopped, or a gap
			}
			l := lag
			if rng.IntN(4) == 0 {
				l = rng.IntN(5)
			}
			arrive := float64(i+l) + float64(k)*0.1 + rng.Float64()*0.05
			if !offGrid {
				arrivals = append(arrivals, arrival{arrive, input{"m", tier, minute(i)}})
				continue
			}
			ms := rng.IntN(60000)
			from := minute(i).Add(-30 * time.Second)
			arrivals = append(arrivals, arrival{arrive, input{"m", tier, from.Add(time.Duration(ms) * time.Millisecond)}})
			if rng.IntN(6) == 0 {
				second := ms + 1 + rng.IntN(60000-ms)
				if second < 60000 {
					arrivals = append(arrivals, arrival{arrive + 0.01, input{"m", tier, from.Add(time.Duration(second) * time.Millisecond)}})
				}
			}
		}
	}
	slices.SortFunc(arrivals, func(a, b arrival) int { return cmp.Compare(a.at, b.at) })
	for _, a := range arrivals {
		stream, redelivery = append(stream, a.in), append(redelivery, false)
		if rng.IntN(6) == 0 {
			stream, redelivery = append(stream, stream[rng.IntN(len(stream))]), append(redelivery, true)
		}
	}
	return stream, redelivery
}

// TestJoinRedeliveryChangesNothing: a redelivery of a stopped tier's old
// tick, which the stored stream a take-over replays does not hold, must
// not change which later ticks the tier is waited for. (A join that
// restarted the wait for a tier at any tick it did not add made minute
// 12's frame [web] live and [db web] replayed.)
func TestJoinRedeliveryChangesNothing(t *testing.T) {
	run := func(redeliver bool) []string {
		j := newJoiner(5*time.Minute, proto.MetricRPS)
		j.wait = (2 * time.Minute).Milliseconds()
		for _, in := range upstream(20, "web", "cache", "db") { // every anomaly message and forecast first
			in.add(j)
		}
		var frames []string
		m := func(tier string, i int) {
			input{"m", tier, minute(i)}.add(j)
			frames = append(frames, drain(j)...)
		}
		m("web", 0)
		m("db", 0)
		m("cache", 0)
		for i := 1; i <= 10; i++ { // db stops after minute 0
			m("web", i)
			m("cache", i)
		}
		m("web", 11)
		m("web", 12) // cache two behind, within the wait
		if redeliver {
			m("db", 0)
		}
		m("db", 11) // db back a tick behind
		m("web", 13)
		m("db", 12)
		m("web", 14)
		m("db", 13)
		m("web", 15)
		return frames
	}
	if live, replay := run(true), run(false); !slices.Equal(live, replay) {
		t.Fatalf("a redelivery changed the frames:\nlive     %v\nreplayed %v", live, replay)
	}
}

// TestJoinLateness: why the join did not add a metrics tick. Only a tick
// newer than any of its tier's before, and more than the wait behind the
// app's newest, says its tier lags (the first of a run says so once); an
// old copy of a decided tick is out of order, a copy of the last decided
// one redelivered, and a copy of a tick still waiting is added again.
func TestJoinLateness(t *testing.T) {
	type tick struct {
		tier string
		i    int
	}
	type late struct {
		why   Lateness
		first bool
	}
	for _, tc := range []struct {
		name  string
		wait  time.Duration
		ticks []tick // after web and db in step to minute 9, and web's minute 10
		want  []late // what the join says of each; 0 for added
	}{
		{"copies of in-step ticks", 2 * time.Minute,
			[]tick{{"web", 5}, {"db", 9}, {"web", 10}},
			[]late{{LateOutOfOrder, false}, {LateRedelivered, false}, {}}},
		{"a tier further behind than the wait, twice", 2 * time.Minute,
			[]tick{{"web", 11}, {"web", 12}, {"web", 13}, {"web", 14}, {"db", 10}, {"db", 11}, {"db", 11}, {"db", 15},
				{"web", 16}, {"web", 17}, {"web", 18}, {"web", 19}, {"db", 16}},
			[]late{{}, {}, {}, {}, {LateBehind, true}, {LateBehind, false}, {LateRedelivered, false}, {},
				{}, {}, {}, {}, {LateBehind, true}}},
		{"within the wait, after its frame was in", 2 * time.Minute,
			[]tick{{"web", 11}, {"web", 12}, {"web", 13}, {"db", 10}, {"db", 11}},
			[]late{{}, {}, {}, {LateBehind, true}, {LateOutOfOrder, false}}},
		{"no wait: any tier behind the newest", 0,
			[]tick{{"web", 11}, {"db", 10}},
			[]late{{}, {LateBehind, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := newJoiner(5*time.Minute, proto.MetricRPS)
			j.wait = tc.wait.Milliseconds()
			for _, in := range upstream(30, "web", "db") { // every anomaly message and forecast first
				in.add(j)
			}
			add := func(tk tick) late {
				why, first := j.addMetrics(&proto.Metrics{App: "shop", Tier: tk.tier, TS: proto.Millis(minute(tk.i))})
				drain(j)
				return late{why, first}
			}
			for i := range 10 {
				add(tick{"web", i})
				add(tick{"db", i})
			}
			add(tick{"web", 10})
			for k, tk := range tc.ticks {
				if got := add(tk); got != tc.want[k] {
					t.Fatalf("%s at minute %d (input %d): %+v, want %+v", tk.tier, tk.i, k, got, tc.want[k])
				}
			}
		})
	}
}
