package detector

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/proto"
)

// lookbackStream is days of one tier's one-minute ticks: requests with a
// daily and a weekly cycle and noise, latency and errors following them,
// and every day at a different hour a 20-minute surge with slow responses,
// so that incidents open and close after any cut.
func lookbackStream(days int) []*proto.Metrics {
	rng := rand.New(rand.NewPCG(11, 3))
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // a Monday
	out := make([]*proto.Metrics, days*1440)
	for i := range out {
		day, minute := i/1440, i%1440
		rps := 300 + 150*math.Sin(2*math.Pi*float64(minute)/1440) + 20*rng.NormFloat64()
		if day%7 >= 5 {
			rps *= 0.6 // the weekend
		}
		lat := 80 + 0.05*rps + 5*rng.NormFloat64()
		if at := (day * 173) % 1300; minute >= at && minute < at+20 {
			rps *= 2.5
			lat *= 3
		}
		out[i] = proto.NewMetrics("a", "web", t0.Add(time.Duration(i)*time.Minute), 4,
			map[string]float64{"rps": rps, "latency_p95": lat, "error_rate": 0.001 * (1 + rng.Float64())})
	}
	return out
}

// TestLookbackRebuildsClosely measures what Config.Lookback promises for the
// anomaly service: Tiers rebuilt from the Lookback of METRICS before a cut
// (what a restart or a take-over replays) scores the ticks after it like
// Tiers that saw the whole stream, closely but not bit for bit. Bit for bit
// cannot hold: the detectors' state forgets exponentially (the surprise
// tails' half-life is anomaly.Config.TailHalfLife, 20,000 ticks, longer
// than the lookback's 11,520 one-minute ticks), so ticks older than any
// lookback still weigh on the scores, and the decayed means (error scales,
// hourly spreads) keep a trace of their start at any length: rebuilt from
// 9.4 days instead of 10, no score after the cut is equal, though they
// differ by 0.0014 on average. What the test asserts, on twelve days
// cut after ten at several times of day: a replay from the stream's start
// is bit for bit the same; the rebuilt scores give the same verdicts (each
// metric's anomaly flag and the open incident kinds) on at least 99 % of
// the ticks after the cut (the tolerance TestDeciderLookbackRebuild, in
// internal/stagetest, holds the decider to); and a replay of one day only
// differs more, in verdicts and in mean score, so the test can tell.
func TestLookbackRebuildsClosely(t *testing.T) {
	if testing.Short() {
		t.Skip("twelve days of ticks through the detectors, several times")
	}
	const days = 12
	stream := lookbackStream(days)
	run := func(from int) map[int64]*proto.Anomaly {
		st := NewTiers(DefaultConfig(), config.DefaultLimits())
		out := map[int64]*proto.Anomaly{}
		for _, m := range stream[from:] {
			a, _, err := st.Step(m)
			if err != nil {
				t.Fatal(err)
			}
			out[a.TS] = a
		}
		return out
	}
	whole := run(0)
	if again := run(0); !reflect.DeepEqual(again, whole) {
		t.Fatal("a replay from the stream's start scores differently")
	}
	lb := int(DefaultConfig().Lookback() / time.Minute)
	// compare returns, over the ticks from cut on, how many have exactly
	// the whole run's message, how many its verdicts, how many are
	// anomalous in either run, and the mean and largest score difference.
	compare := func(got map[int64]*proto.Anomaly, cut int) (n, exact, verdicts, anomalous int, meanDiff, maxDiff float64) {
		scores := 0
		for _, m := range stream[cut:] {
			g, w := got[m.TS], whole[m.TS]
			n++
			if reflect.DeepEqual(g, w) {
				exact++
			}
			same := slices.Equal(g.Open, w.Open) && len(g.Scores) == len(w.Scores)
			flagged := false
			for k := range g.Scores {
				if k < len(w.Scores) {
					same = same && g.Scores[k].Metric == w.Scores[k].Metric && g.Scores[k].Anomaly == w.Scores[k].Anomaly
					d := math.Abs(g.Scores[k].Score - w.Scores[k].Score)
					meanDiff, maxDiff, scores = meanDiff+d, math.Max(maxDiff, d), scores+1
					flagged = flagged || g.Scores[k].Anomaly || w.Scores[k].Anomaly
				}
			}
			if same {
				verdicts++
			}
			if flagged {
				anomalous++
			}
		}
		meanDiff /= float64(max(scores, 1))
		return
	}
	for _, cut := range []int{10 * 1440, 10*1440 + 361, 10*1440 + 733, 10*1440 + 1201} {
		n, exact, verdicts, anomalous, meanDiff, maxDiff := compare(run(cut-lb), cut)
		t.Logf("cut at minute %d, rebuilt from %s: of %d ticks after it, %d identical, %d with the same verdicts (%.2f %%), %d anomalous in either run; score difference mean %.4f, largest %.4f",
			cut, DefaultConfig().Lookback(), n, exact, verdicts, 100*float64(verdicts)/float64(n), anomalous, meanDiff, maxDiff)
		if anomalous == 0 {
			t.Fatalf("cut at minute %d: no anomalous tick after it: the test would prove nothing", cut)
		}
		if float64(verdicts) < 0.99*float64(n) {
			t.Errorf("cut at minute %d: the same verdicts on %d of %d ticks, want at least 99 %%", cut, verdicts, n)
		}
	}
	cut := 10 * 1440
	_, _, full, _, fullDiff, _ := compare(run(cut-lb), cut)
	n, _, short, _, shortDiff, _ := compare(run(cut-1440), cut)
	t.Logf("a replay of one day: the same verdicts on %d of %d ticks, score difference mean %.4f (the lookback's: %d, %.4f)", short, n, shortDiff, full, fullDiff)
	if short >= full || shortDiff <= fullDiff {
		t.Errorf("a replay of one day scores as closely as the lookback's (verdicts %d, %d of %d; mean difference %.4f, %.4f): the test cannot tell",
			short, full, n, shortDiff, fullDiff)
	}
}
