package scaleeval

import (
	"context"
	"math"
	"strings"
	"testing"
)

// TestSplitMisses: a load flat at 100, climbing to 400 over 30 minutes,
// then flat, served by two replicas of 100 throughout. Every minute above
// 200 is short; those on the climb are climbing, those after it steady;
// the first short minutes are short by less than a fifth of a replica.
// The splits add up to ScoreRun's figures.
func TestSplitMisses(t *testing.T) {
	var d []float64
	for i := 0; i < 40; i++ {
		d = append(d, 100)
	}
	for i := 1; i <= 30; i++ {
		d = append(d, 100+10*float64(i))
	}
	for i := 0; i < 40; i++ {
		d = append(d, 400)
	}
	s := Setup{Capacity: 100, MinReplicas: 1, MaxReplicas: 10}
	r := Run{Ready: make([]int, len(d)), Booting: make([]int, len(d)), Desired: make([]int, len(d))}
	for i := range d {
		r.Ready[i], r.Desired[i] = 2, 2
	}
	sp := SplitMisses(d, r, s)
	var under, small, minutes int
	var unserved, cost float64
	for _, m := range sp {
		under, small, minutes = under+m.Under, small+m.Small, minutes+m.Minutes
		unserved, cost = unserved+m.Unserved, cost+m.Cost
	}
	sc := ScoreRun(d, r, s, 0)
	if minutes != sc.Minutes || math.Abs(100*float64(under)/float64(minutes)-sc.UnderPct) > 1e-9 || cost != sc.Cost {
		t.Fatalf("splits add up to %d minutes, %d under, cost %v; ScoreRun %+v", minutes, under, cost, sc)
	}
	total := 0.0
	for _, v := range d {
		total += v
	}
	if math.Abs(100*unserved/total-sc.UnservedPct) > 1e-9 {
		t.Fatalf("unserved %v of %v, ScoreRun %v %%", unserved, total, sc.UnservedPct)
	}
	// Loads 210..400 on the climb are short (minutes 50..69 of the climb's
	// 40..69), the 40 flat minutes at 400 too: 60 short minutes.
	if under != 60 {
		t.Fatalf("%d short minutes, want 60", under)
	}
	// 210 and 210 + 10: short by 0.1 and 0.2 of a replica; only the first
	// is small (short by less than 0.2).
	if small != 1 {
		t.Fatalf("%d small misses, want 1", small)
	}
	// The climb's 20 short minutes are climbing (the load 10 minutes on is
	// more than 3 % above the load 10 minutes before), and so are the
	// first 8 at 400, whose load 10 minutes before is still 310–380; the
	// other 32 are steady.
	if c := sp[Climbing]; c.Under != 28 {
		t.Errorf("climbing: %+v, want 28 short minutes", c)
	}
	if st := sp[Steady]; st.Under != 32 || sp[Falling].Minutes != 0 {
		t.Errorf("steady %+v, falling %+v", st, sp[Falling])
	}
}

// TestBreakdownBesideHPA: on a synthetic trace the breakdown runs HPA at
// the target whose cost is nearest ours, its own split adds up to the
// score the suite prints for the row, and it lists the operating points
// the run decided at from its first minute.
func TestBreakdownBesideHPA(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the policy over a synthetic trace")
	}
	tr, err := Synthetic("diurnal-high", 1)
	if err != nil {
		t.Fatal(err)
	}
	tr.Times, tr.Demand = tr.Times[:4*1440], tr.Demand[:4*1440]
	o := DefaultOptions()
	p, err := Prepare(context.Background(), tr, o)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Score(o)
	if err != nil {
		t.Fatal(err)
	}
	rows, bs, err := p.Rows(o, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || len(bs) != 1 {
		t.Fatalf("Rows gave %d rows and %d breakdowns, want 1 and 1", len(rows), len(bs))
	}
	again, b := rows[0], bs[0]
	if again != res {
		t.Fatalf("Rows scores %+v, Score %+v", again, res)
	}
	under, minutes := 0, 0
	for _, m := range b.Ours {
		under, minutes = under+m.Under, minutes+m.Minutes
	}
	if minutes != res.Ours.Minutes || math.Abs(100*float64(under)/float64(minutes)-res.Ours.UnderPct) > 1e-9 {
		t.Fatalf("breakdown %d of %d minutes under, the row %v %% of %d", under, minutes, res.Ours.UnderPct, res.Ours.Minutes)
	}
	near := math.Inf(1)
	for _, row := range p.HPA {
		near = math.Min(near, math.Abs(row.CostRatio-res.Ours.CostRatio))
	}
	var hc float64
	for _, m := range b.HPA {
		hc += m.Cost
	}
	if got := math.Abs(hc/p.OracleCost - res.Ours.CostRatio); math.Abs(got-near) > 1e-9 {
		t.Fatalf("HPA at %.2f is %.4f of the oracle from our cost, the nearest target %.4f", b.HPATarget, got, near)
	}
	if len(b.Points) == 0 || b.Points[0].Day != 0 || b.Days != 4 {
		t.Fatalf("operating points %v over %v days: want the first from day 0, over 4 days", b.Points, b.Days)
	}
	for i, s := range b.Points[1:] {
		if s.Day <= b.Points[i].Day || s.Day >= b.Days || s.Point == b.Points[i].Point {
			t.Fatalf("operating points %v: want switches to other points, in order, within the run", b.Points)
		}
	}
	var sb strings.Builder
	PrintBreakdowns(&sb, []Breakdown{b})
	if !strings.Contains(sb.String(), "diurnal-high-s1 beside hpa@") || !strings.Contains(sb.String(), "  points (days at each): ") || strings.Count(sb.String(), "\n") != 7 {
		t.Fatalf("printed:\n%s", sb.String())
	}
}
