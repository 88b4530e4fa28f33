package decider

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// laggingStreams returns minutes ticks of two tiers of one app as the three
// input streams hold them when db's metrics are pushed separately and lag:
// the metrics stream holds db's tick of minute i after web's tick of minute
// i+lag (lag 0: right after it).
func laggingStreams(minutes, lag int) map[string][]input {
	streams := map[string][]input{}
	for i := range minutes {
		at := t0.Add(time.Duration(i) * time.Minute)
		streams["m"] = append(streams["m"], input{"m", "web", at})
		for _, tier := range []string{"web", "db"} {
			streams["a"] = append(streams["a"], input{"a", tier, at})
			if i%5 == 0 {
				streams["f"] = append(streams["f"], input{"f", tier, at})
			}
		}
		if i >= lag { // db's last lag ticks are still on their way
			streams["m"] = append(streams["m"], input{"m", "db", at.Add(-time.Duration(lag) * time.Minute)})
		}
	}
	return streams
}

// TestJoinLaggingTierOrderIndependent checks that a tier whose metrics lag
// the app's other tier (two pushers of one app's tiers, one slower) is
// joined the same way whatever the interleaving of the three input streams
// (a take-over, which replays the metrics first, must decide as a member
// that never stopped), and that a join that waits for lagging tiers puts
// the slow tier's ticks in their frames once it knows the tier: its first
// lag+1 ticks come after their frames' metrics were in. Without a wait the
// slow tier is never decided.
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
		{"one tick behind", 1, 2 * time.Minute, minutes - 1, 2},
		{"three ticks behind", 3, 5 * time.Minute, minutes - 3, 4},
		{"three ticks behind a shorter wait", 3, 2 * time.Minute, minutes - 1, minutes},
		{"in step", 0, 2 * time.Minute, minutes - 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			streams := laggingStreams(minutes, tc.lag)
			orders := []func(rng *rand.Rand, kinds []string) string{
				func(_ *rand.Rand, kinds []string) string { return kinds[0] }, // metrics first, as a rebuild replays
				func(rng *rand.Rand, kinds []string) string { return kinds[rng.IntN(len(kinds))] },
			}
			var want []string
			for seed := range uint64(50) {
				rng := rand.New(rand.NewPCG(seed, 11))
				pick := orders[min(seed, 1)]
				j := newJoiner(5 * time.Minute)
				j.wait = tc.wait.Milliseconds()
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
					k := pick(rng, kinds)
					streams[k][pos[k]].add(j)
					pos[k]++
					got = append(got, drain(j)...)
				}
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
// ticks are in step, else from the first tick after the newest when it came
// back (its first ticks came after their frames' metrics were in).
func TestJoinStopsWaitingForAStoppedTier(t *testing.T) {
	const stop, back, minutes = 10, 20, 30
	for _, tc := range []struct {
		name   string
		lag    int // of db's ticks once back
		dbFrom int // first minute after the stop whose frame holds db
	}{
		{"back in step", 0, back},
		{"back two ticks behind", 2, back + 2 + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := newJoiner(5 * time.Minute)
			j.wait = (5 * time.Minute).Milliseconds()
			// Every anomaly message and forecast is in first, so only the
			// metrics decide when a tick is released.
			for i := range minutes {
				at := t0.Add(time.Duration(i) * time.Minute)
				for _, tier := range []string{"web", "db"} {
					input{"a", tier, at}.add(j)
					if i%5 == 0 {
						input{"f", tier, at}.add(j)
					}
				}
			}
			var frames []string
			for i := range minutes {
				at := t0.Add(time.Duration(i) * time.Minute)
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

// TestLaggingTierDecided: the decider's -decider.tier-lag reaches the join,
// so a tier pushed a tick behind its app's other tier is decided (all but
// its first ticks, which came after their frames' metrics were in), and
// without a wait it is not decided at all and its ticks are counted late.
func TestLaggingTierDecided(t *testing.T) {
	for _, tc := range []struct {
		lag    time.Duration
		wantDB int
	}{
		{2 * time.Minute, 20 - 3}, // minutes 2 to 18; minute 19 waits for db's tick
		{0, 0},
	} {
		cfg := DefaultConfig()
		cfg.Policy.Tick = time.Minute
		cfg.TierLag = tc.lag
		s, err := New(cfg, service.Deps{Log: zerolog.Nop(), Ready: service.NewReady()})
		if err != nil {
			t.Fatal(err)
		}
		late := 0
		s.state.Late = func(*proto.Metrics, int64, bool) { late++ }
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
		metrics := func(tier string, i int) *proto.Metrics {
			return &proto.Metrics{App: "shop", Tier: tier, TS: proto.Millis(t0.Add(time.Duration(i) * time.Minute)), Replicas: 2, Values: proto.Floats{"rps": 100, "cpu": 0.5}}
		}
		for i := range 20 {
			ts := proto.Millis(t0.Add(time.Duration(i) * time.Minute))
			for _, tier := range []string{"web", "db"} {
				if at := proto.Time(ts); at.Equal(at.Truncate(cfg.ForecastStep)) {
					handle(&proto.Forecast{App: "shop", Tier: tier, TS: ts})
				}
				handle(&proto.Anomaly{App: "shop", Tier: tier, TS: ts})
			}
			handle(metrics("web", i))
			if i > 0 {
				handle(metrics("db", i-1))
			}
		}
		if decided["web"] != 19 || decided["db"] != tc.wantDB {
			t.Errorf("tier lag %v: decisions by tier %v, want web 19, db %d", tc.lag, decided, tc.wantDB)
		}
		if wantLate := 19 - tc.wantDB; late != wantLate {
			t.Errorf("tier lag %v: %d ticks late, want %d", tc.lag, late, wantLate)
		}
	}
}
