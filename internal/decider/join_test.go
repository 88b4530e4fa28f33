package decider

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/headroomhq/headroom/proto"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type input struct {
	kind string
	tier string
	at   time.Time
}

func (in input) add(j *joiner) {
	ts := proto.Millis(in.at)
	switch in.kind {
	case "m":
		j.addMetrics(&proto.Metrics{App: "shop", Tier: in.tier, TS: ts, Replicas: 1, Values: proto.Floats{"rps": 1}})
	case "a":
		j.addAnomaly(&proto.Anomaly{App: "shop", Tier: in.tier, TS: ts, Open: []string{fmt.Sprint(ts)}})
	case "f":
		j.addForecast(&proto.Forecast{App: "shop", Tier: in.tier, TS: ts})
	}
}

func drain(j *joiner) []string {
	var out []string
	for {
		f, ok := j.next()
		if !ok {
			return out
		}
		var tiers []string
		for tier := range f.metrics {
			fc := "-"
			if f.forecasts[tier] != nil {
				fc = proto.Time(f.forecasts[tier].TS).Format("15:04")
			}
			tiers = append(tiers, fmt.Sprintf("%s(f%s,a%v)", tier, fc, f.incidents[tier]))
		}
		slices.Sort(tiers)
		out = append(out, fmt.Sprintf("%s %v", proto.Time(f.ts).Format("15:04"), tiers))
	}
}

// inputs is what the pipeline produces for minutes ticks of two tiers: a
// metrics tick and an anomaly message per tier per minute, and a forecast
// per tier at the start of every 5-minute bucket.
func inputs(minutes int) []input {
	var in []input
	for i := range minutes {
		at := t0.Add(time.Duration(i) * time.Minute)
		for _, tier := range []string{"web", "db"} {
			in = append(in, input{"m", tier, at}, input{"a", tier, at})
			if i%5 == 0 {
				in = append(in, input{"f", tier, at})
			}
		}
	}
	return in
}

func TestJoinWaitsForEveryInput(t *testing.T) {
	j := newJoiner(5*time.Minute, proto.MetricRPS)
	step := func(in input, want int) {
		t.Helper()
		in.add(j)
		if got := drain(j); len(got) != want {
			t.Fatalf("after %+v: released %v, want %d ticks", in, got, want)
		}
	}
	step(input{"m", "web", t0}, 0)
	step(input{"m", "db", t0}, 0)
	step(input{"a", "web", t0}, 0)
	step(input{"f", "web", t0}, 0)
	step(input{"f", "db", t0}, 0)
	step(input{"a", "db", t0}, 0)                   // all of t0 is in, but no later tick yet
	step(input{"m", "web", t0.Add(time.Minute)}, 1) // a later tick proves t0 complete
	step(input{"m", "db", t0.Add(time.Minute)}, 0)  // t1 lacks anomalies
	step(input{"a", "db", t0.Add(time.Minute)}, 0)  //
	step(input{"a", "web", t0.Add(time.Minute)}, 0) // and a later tick
	step(input{"m", "web", t0.Add(2 * time.Minute)}, 1)
}

// TestJoinOrderIndependent feeds the same inputs in many interleavings (each
// stream keeping its own order, as JetStream guarantees) and expects the
// same released frames every time: the basis of deterministic decisions.
func TestJoinOrderIndependent(t *testing.T) {
	all := inputs(30)
	streams := map[string][]input{}
	for _, in := range all {
		streams[in.kind] = append(streams[in.kind], in)
	}
	var want []string
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 7))
		j := newJoiner(5*time.Minute, proto.MetricRPS)
		pos := map[string]int{}
		var got []string
		for len(got) < 29 || pos["m"] < len(streams["m"]) || pos["a"] < len(streams["a"]) || pos["f"] < len(streams["f"]) {
			kinds := []string{}
			for _, k := range []string{"m", "a", "f"} {
				if pos[k] < len(streams[k]) {
					kinds = append(kinds, k)
				}
			}
			if len(kinds) == 0 {
				break
			}
			k := kinds[rng.IntN(len(kinds))]
			streams[k][pos[k]].add(j)
			pos[k]++
			got = append(got, drain(j)...)
		}
		if len(got) != 29 {
			t.Fatalf("seed %d: released %d ticks, want 29 (the last waits for a later one)", seed, len(got))
		}
		if want == nil {
			want = got
			continue
		}
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d released different frames:\n%v\nwant\n%v", seed, got, want)
		}
	}
	if want[7] != "00:07 [db(f00:05,a[1767226020000]) web(f00:05,a[1767226020000])]" {
		t.Fatalf("frame 7 = %q", want[7])
	}
}
