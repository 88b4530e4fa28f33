package scaleeval

import (
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/headroomhq/headroom/proto"
)

// Point is an operating point of the policy: the quantile of demand it
// provisions for and the scale-down window it keeps replicas through. On
// a tier that selects by skill it is the selector's pick, and it changes
// when the selector switches.
type Point struct {
	Quantile float64
	Window   time.Duration
}

// String names the point as the experiment write-ups do, e.g. "p95/15m".
func (p Point) String() string {
	return fmt.Sprintf("p%g/%s", math.Round(p.Quantile*1000)/10, fmtLead(p.Window))
}

// PointSpan says from when, in days of event time since the trace's
// first minute, a run decided at Point (until the next span's Day).
type PointSpan struct {
	Day   float64
	Point Point
}

// pointOf reads a decision's operating point from its inputs (the
// quantile it sized for and the stabilisation window it held for); ok is
// false when the decision does not carry them.
func pointOf(d *proto.Decision) (p Point, ok bool) {
	q, okq := d.Inputs["quantile"]
	w, okw := d.Inputs["stabilisation_s"]
	if !okq || !okw {
		return Point{}, false
	}
	return Point{Quantile: q, Window: time.Duration(math.Round(w)) * time.Second}, true
}

// pointLog records, per tier, every switch of the operating point the
// policy ran, in event time from start.
//
// A decision sizes by the quantile picked before the selector's step of
// its tick and holds for the window picked after it, so on the tick of a
// switch it mixes the old quantile with the new window. The pick after
// tick i's step is therefore the window of decision i with the quantile of
// decision i+1, and the log reads it so: one decision late, each switch
// dated by the tick it was made on. The last tick's quantile is taken as
// the one it sized by.
type pointLog struct {
	start time.Time
	tiers map[string]*tierPoints
}

// tierPoints is one tier's spans and its last decision's point and time,
// whose quantile after the step the next decision tells.
type tierPoints struct {
	spans []PointSpan
	last  Point
	at    int64
}

func newPointLog(start time.Time) *pointLog {
	return &pointLog{start: start, tiers: map[string]*tierPoints{}}
}

// splitLog returns, when a run is split (its Breakdown wanted), a log of
// its points from ts[0] and the hook that records them; nil and nil
// otherwise.
func splitLog(split bool, ts []time.Time) (*pointLog, func(*proto.Decision)) {
	if !split || len(ts) == 0 {
		return nil, nil
	}
	l := newPointLog(ts[0])
	return l, l.record
}

// spans returns tier's spans, the last tick's included (nil when the
// tier never decided).
func (l *pointLog) spans(tier string) []PointSpan {
	tp := l.tiers[tier]
	if tp == nil {
		return nil
	}
	return l.add(slices.Clone(tp.spans), tp.last, tp.at)
}

// add appends a span at ts for p when p is not the point of the last one.
func (l *pointLog) add(spans []PointSpan, p Point, ts int64) []PointSpan {
	if n := len(spans); n > 0 && spans[n-1].Point == p {
		return spans
	}
	return append(spans, PointSpan{Day: daysSince(l.start, proto.Time(ts)), Point: p})
}

// record is an OnDecision hook: d's quantile completes the pick of the
// tier's previous tick.
func (l *pointLog) record(d *proto.Decision) {
	p, ok := pointOf(d)
	if !ok {
		return
	}
	tp := l.tiers[d.Tier]
	if tp == nil {
		tp = &tierPoints{}
		l.tiers[d.Tier] = tp
	} else {
		tp.spans = l.add(tp.spans, Point{Quantile: p.Quantile, Window: tp.last.Window}, tp.at)
	}
	tp.last, tp.at = p, d.TS
}

// daysSince is the event time from start to t, in days.
func daysSince(start, t time.Time) float64 { return t.Sub(start).Hours() / 24 }

// maxPrintedSwitches bounds the switches printed per row; the days spent
// at each point are always printed in full.
const maxPrintedSwitches = 24

// printPoints writes a row's operating points: the days of the run spent
// at each, in the order first taken, then the switches with their days.
func printPoints(w io.Writer, spans []PointSpan, endDay float64) {
	if len(spans) == 0 {
		return
	}
	var order []Point
	days := map[Point]float64{}
	for i, s := range spans {
		end := endDay
		if i+1 < len(spans) {
			end = spans[i+1].Day
		}
		if _, seen := days[s.Point]; !seen {
			order = append(order, s.Point)
		}
		days[s.Point] += end - s.Day
	}
	fmt.Fprintf(w, "  points (days at each):")
	for _, p := range order {
		fmt.Fprintf(w, " %s %.2f", p, days[p])
	}
	fmt.Fprintf(w, "; %d switches", len(spans)-1)
	for i, s := range spans[1:] {
		if i == maxPrintedSwitches {
			fmt.Fprintf(w, " … and %d more", len(spans)-1-maxPrintedSwitches)
			break
		}
		sep := ","
		if i == 0 {
			sep = ":"
		}
		fmt.Fprintf(w, "%s %.2f %s→%s", sep, s.Day, spans[i].Point, s.Point)
	}
	fmt.Fprintln(w)
}
