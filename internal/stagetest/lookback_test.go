package stagetest

import (
	"math"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/scaleeval"
	"github.com/headroomhq/headroom/proto"
)

// TestDeciderLookbackRebuild measures what decider.Config.Lookback
// promises: a decider rebuilt from only the lookback of its inputs (what a
// restart or a take-over replays) decides like one that never stopped,
// closely but not bit for bit, since the policy's hold skill and capacity
// fit forget slowly rather than at a window's edge. On five days of a
// daily wave with surges, cut after four days, it requires the same
// replica counts on at least 99 % of the minutes after the cut and on
// every one of the last day's final 12 hours, and it reports how many
// decisions differ in any field.
func TestDeciderLookbackRebuild(t *testing.T) {
	if testing.Short() {
		t.Skip("five days through the forecaster, detector and decider stages")
	}
	const days = 5
	n := days * 1440
	times := make([]time.Time, n)
	demand := make([]float64, n)
	for i := range n {
		times[i] = t0.Add(time.Duration(i) * time.Minute)
		d := 400 + 250*math.Sin(2*math.Pi*float64(i)/1440) + 30*math.Sin(float64(i)*1.7)
		if i%1440 >= 600 && i%1440 < 660 { // a daily surge, ten hours in
			d *= 2.5
		}
		demand[i] = d
	}
	o := scaleeval.DefaultOptions()
	s := scaleeval.DefaultSetup(demand)
	st := scaleeval.DefaultStages(o.Horizon)
	tier := o.Tier()
	tape, err := scaleeval.RecordTape(st, tier, times, demand)
	if err != nil {
		t.Fatal(err)
	}
	app := o.Policy(s.Capacity, s.BootDelay)
	var whole []*proto.Decision
	run, err := scaleeval.SimulateStage(times, demand, s, o, tape, func(d *proto.Decision) { whole = append(whole, d) })
	if err != nil {
		t.Fatal(err)
	}
	cut := 4 * 1440
	lb := int(st.Decider(app).Lookback() / time.Minute)
	if lb >= cut {
		t.Fatalf("lookback %d minutes: the history before the cut must be longer", lb)
	}
	// The rebuilt decider sees the inputs of the lookback before the cut
	// and everything after, with the ready counts the whole run's cluster
	// had (as a restart's replay and live delivery would give it).
	rebuild := func(from int) []*proto.Decision {
		ds, err := st.NewDeciderStage(app, []*scaleeval.Tape{tape})
		if err != nil {
			t.Fatal(err)
		}
		var out []*proto.Decision
		ds.OnDecision = func(d *proto.Decision) { out = append(out, d) }
		for i := from; i < n; i++ {
			if _, err := ds.Minute(i, times[i], []float64{demand[i]}, []int{run.Ready[i]}); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	byTS := map[int64]*proto.Decision{}
	for _, d := range whole {
		byTS[d.TS] = d
	}
	// A replay of one day only decides differently: the test can tell.
	differ := 0
	for _, d := range rebuild(cut - 1440) {
		if w := byTS[d.TS]; d.TS >= proto.Millis(times[cut]) && (w == nil || d.To != w.To || d.Reason != w.Reason) {
			differ++
		}
	}
	if differ == 0 {
		t.Fatal("a decider rebuilt from one day decides exactly alike too: the test cannot tell")
	}
	rebuilt := rebuild(cut - lb)
	after, sameCount, sameAll, lastDiff := 0, 0, 0, -1
	for _, d := range rebuilt {
		i := int(d.EventTime().Sub(t0) / time.Minute)
		if i < cut {
			continue
		}
		w := byTS[d.TS]
		if w == nil {
			t.Fatalf("minute %d: decided by the rebuilt decider only", i)
		}
		after++
		if d.To == w.To {
			sameCount++
		} else {
			lastDiff = i
		}
		if d.To == w.To && d.From == w.From && d.Action == w.Action && d.Reason == w.Reason {
			sameAll++
		}
	}
	t.Logf("lookback %s: of %d minutes after the cut, %d have the same replica count (%.2f %%) and %d the same count, action and reason; last differing count at minute %d",
		st.Decider(app).Lookback(), after, sameCount, 100*float64(sameCount)/float64(max(after, 1)), sameAll, lastDiff)
	if after < n-cut-1 {
		t.Fatalf("%d decisions after the cut, want %d", after, n-cut-1)
	}
	if float64(sameCount) < 0.99*float64(after) {
		t.Errorf("only %d of %d decisions after the cut have the count of a decider that never stopped", sameCount, after)
	}
	if lastDiff >= n-720 {
		t.Errorf("the rebuilt decider still decides another count at minute %d, within the last 12 hours", lastDiff)
	}
}
