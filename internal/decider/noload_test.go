package decider

import (
	"slices"
	"strings"
	"testing"
	"time"

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

// TestTickWithoutLoadMetricTimesOut: as the pipeline runs it, the ticks
// without rps get no forecast (the forecaster makes none without the
// metric), so each waits for the input timeout, then holds like the
// others, flagged bad-input and input-timeout; none scales down.
func TestTickWithoutLoadMetricTimesOut(t *testing.T) {
	r := newTimeoutRig(t, 30*time.Second)
	tick := r.cfg.Policy.Tick
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * tick) }
	const steady, missing = 60, 30
	var ds []*proto.Decision
	for i := range steady + missing {
		ts := proto.Millis(at(i))
		values := proto.Floats{"cpu": 0.1}
		if i < steady {
			values = proto.Floats{"rps": 300, "cpu": 0.5}
			if at(i).Equal(at(i).Truncate(r.cfg.ForecastStep)) {
				ds = append(ds, r.handle(&proto.Forecast{App: "shop", Tier: "web", TS: ts, StepMS: r.cfg.ForecastStep.Milliseconds(), Metric: "rps"})...)
			}
		}
		ds = append(ds, r.handle(&proto.Metrics{App: "shop", Tier: "web", TS: ts, Replicas: 6, Values: values})...)
		ds = append(ds, r.handle(&proto.Anomaly{App: "shop", Tier: "web", TS: ts})...)
		ds = append(ds, r.expire(at(i))...)
		ds = append(ds, r.expire(at(i).Add(31*time.Second))...)
	}
	if len(ds) != steady+missing-1 {
		t.Fatalf("%d decisions, want %d (the last tick waits for the next)", len(ds), steady+missing-1)
	}
	for _, d := range ds[steady:] {
		if d.Action != proto.ActionHold || d.To != d.From {
			t.Fatalf("%s without rps: %s %d→%d (%s), want a hold", d.EventTime().Format("15:04"), d.Action, d.From, d.To, d.Reason)
		}
		if !slices.Contains(d.Flags, "bad-input") || !slices.Contains(d.Flags, proto.FlagInputTimeout) || !slices.Contains(d.Flags, proto.FlagForecastMissing) {
			t.Fatalf("%s without rps: flags %v, want bad-input, forecast-missing and input-timeout", d.EventTime().Format("15:04"), d.Flags)
		}
	}
}
