package scaleeval

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/proto"
)

// TestPointLogReadsThePicks: the selector's pick after each tick's step
// is what the log reports, one span per point from the tick of its
// switch, although each decision sizes by the pick before the step (the
// old quantile on a switch's tick) and holds for the window after it.
// The decisions here are made from a sequence of picks the way the
// policy makes them.
func TestPointLogReadsThePicks(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pt := func(q float64, minutes int) Point {
		return Point{Quantile: q, Window: time.Duration(minutes) * time.Minute}
	}
	const day = 1440 // minutes
	dayOf := func(m int) float64 { return (time.Duration(m) * time.Minute).Hours() / 24 }
	cases := []struct {
		name string
		// switches[m] is the pick from minute m's step on.
		switches map[int]Point
		want     []PointSpan
	}{
		{"no switch", map[int]Point{0: pt(0.9, 1)}, []PointSpan{{0, pt(0.9, 1)}}},
		{"one switch", map[int]Point{0: pt(0.9, 1), day: pt(0.95, 15)},
			[]PointSpan{{0, pt(0.9, 1)}, {1, pt(0.95, 15)}}},
		{"two switches on consecutive ticks (surges-s80's day 2.26)",
			map[int]Point{0: pt(0.9, 1), day: pt(0.95, 15), day + 1: pt(0.98, 1)},
			[]PointSpan{{0, pt(0.9, 1)}, {1, pt(0.95, 15)}, {dayOf(day + 1), pt(0.98, 1)}}},
		{"the window alone", map[int]Point{0: pt(0.9, 15), day: pt(0.9, 3)},
			[]PointSpan{{0, pt(0.9, 15)}, {1, pt(0.9, 3)}}},
		{"the quantile alone, and back", map[int]Point{0: pt(0.9, 3), day: pt(0.95, 3), 2 * day: pt(0.9, 3)},
			[]PointSpan{{0, pt(0.9, 3)}, {1, pt(0.95, 3)}, {2, pt(0.9, 3)}}},
		{"a switch on the last tick", map[int]Point{0: pt(0.9, 1), 3*day - 1: pt(0.95, 15)},
			[]PointSpan{{0, pt(0.9, 1)}, {dayOf(3*day - 1), pt(0.9, 15)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newPointLog(start)
			pick := c.switches[0]
			for m := range 3 * day {
				before := pick
				if p, ok := c.switches[m]; ok {
					pick = p
				}
				l.record(&proto.Decision{Tier: "db", TS: proto.Millis(start.Add(time.Duration(m) * time.Minute)),
					Inputs: proto.Floats{"quantile": before.Quantile, "stabilisation_s": pick.Window.Seconds()}})
			}
			l.record(&proto.Decision{Tier: "db", TS: proto.Millis(start.Add(3 * day * time.Minute))}) // no inputs: ignored
			if got := l.spans("db"); !reflect.DeepEqual(got, c.want) {
				t.Errorf("spans %v\nwant  %v", got, c.want)
			}
			if got := l.spans("web"); got != nil {
				t.Errorf("a tier that never decided has spans %v", got)
			}
		})
	}
}

// TestPrintPoints: the days at each point add up to the run, in the order
// first taken, and the switches are listed with their days up to
// maxPrintedSwitches.
func TestPrintPoints(t *testing.T) {
	p90, p95 := Point{0.9, time.Minute}, Point{0.95, 15 * time.Minute}
	var sb strings.Builder
	printPoints(&sb, []PointSpan{{0, p90}, {2.25, p95}, {10.5, p90}}, 21)
	want := "  points (days at each): p90/1m 12.75 p95/15m 8.25; 2 switches: 2.25 p90/1m→p95/15m, 10.50 p95/15m→p90/1m\n"
	if sb.String() != want {
		t.Errorf("printed %q\nwant    %q", sb.String(), want)
	}

	var spans []PointSpan
	for i := range maxPrintedSwitches + 3 {
		spans = append(spans, PointSpan{float64(i) / 4, []Point{p90, p95}[i%2]})
	}
	sb.Reset()
	printPoints(&sb, spans, 10)
	if got := strings.Count(sb.String(), "→"); got != maxPrintedSwitches {
		t.Errorf("printed %d switches of %d, want %d", got, len(spans)-1, maxPrintedSwitches)
	}
	if !strings.Contains(sb.String(), "… and 2 more") {
		t.Errorf("printed %q: want the switches left out counted", sb.String())
	}
	sb.Reset()
	printPoints(&sb, nil, 10)
	if sb.Len() != 0 {
		t.Errorf("printed %q for a row without points", sb.String())
	}
}

// TestShopBreakdownHasEachTiersPoints: a three-tier app's breakdown gives
// every tier the points its own decisions ran, and splitting does not
// change the scores (the hook only reads the decisions).
func TestShopBreakdownHasEachTiersPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("four days of three tiers")
	}
	o := DefaultOptions()
	o.Warmup = 1440
	p, err := PrepareShop(context.Background(), 1, 4, o)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := p.Score(o)
	if err != nil {
		t.Fatal(err)
	}
	rows, bs, err := p.Rows(o, true)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows, plain) || len(bs) != len(rows) {
		t.Fatalf("split rows %+v (%d breakdowns), unsplit %+v", rows, len(bs), plain)
	}
	for _, b := range bs {
		if len(b.Points) == 0 || b.Points[0].Day != 0 || b.Points[0].Point.Quantile <= 0 {
			t.Errorf("%s: operating points %v, want the first from day 0", b.Name, b.Points)
		}
	}
}
