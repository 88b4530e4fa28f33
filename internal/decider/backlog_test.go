package decider

import (
	"bytes"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// TestJoinBacklogBounded: while the anomaly service or the forecaster is
// down, an app's join keeps at most Config.backlog ticks (the lookback's
// and the tier lag's ticks) waiting for them. Each metrics tick beyond that decides the oldest
// as it is, flagged with what it lacks, and counted on the service's
// registry by the input missing; so a week of metrics with nothing from
// upstream holds the bound, not the week. Once upstream catches up, the
// ticks still waiting are decided complete, without flags.
func TestJoinBacklogBounded(t *testing.T) {
	const week = 7 * 1440
	for _, c := range []struct {
		name                 string
		anomalies, forecasts bool // what upstream sends during the week
		missing              []string
	}{
		{"nothing from upstream", false, false, []string{"anomaly", "forecast"}},
		{"forecasts, no anomalies", false, true, []string{"anomaly"}},
		{"anomalies, no forecasts", true, false, []string{"forecast"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			cfg := DefaultConfig()
			cfg.Policy.Tick = time.Minute
			var log bytes.Buffer
			s, err := New(cfg, service.Deps{Log: zerolog.New(&log), Reg: reg, Ready: service.NewReady()})
			if err != nil {
				t.Fatal(err)
			}
			bound := cfg.backlog(time.Minute)
			buckets := bound/int(cfg.ForecastStep/time.Minute) + 2 // forecasts the waiting ticks may use
			if want := int((73*time.Hour+cfg.TierLag)/time.Minute) + 1; bound != want {
				t.Fatalf("bound %d ticks, want the lookback's and the tier lag's %d", bound, want)
			}
			var ds []*proto.Decision
			handle := func(in proto.Keyed) {
				t.Helper()
				out, err := s.state.Handle(in)
				if err != nil {
					t.Fatal(err)
				}
				ds = append(ds, out...)
			}
			at := func(i int) int64 { return proto.Millis(t0.Add(time.Duration(i) * time.Minute)) }
			forecast := func(i int) {
				if ts := at(i); proto.Time(ts).Equal(proto.Time(ts).Truncate(cfg.ForecastStep)) {
					handle(&proto.Forecast{App: "shop", Tier: "web", TS: ts, StepMS: cfg.ForecastStep.Milliseconds(), Metric: "rps",
						Points: []proto.ForecastPoint{{TS: ts, Yhat: 300, Lo80: 250, Hi80: 350, Lo95: 200, Hi95: 400}}})
				}
			}
			anomaly := func(i int) { handle(&proto.Anomaly{App: "shop", Tier: "web", TS: at(i)}) }
			for i := range week {
				if c.forecasts {
					forecast(i)
				}
				handle(&proto.Metrics{App: "shop", Tier: "web", TS: at(i), Replicas: 3, Values: proto.Floats{"rps": 300 + float64(i%60), "cpu": 0.5}})
				if c.anomalies {
					anomaly(i)
				}
				if j := s.state.app("shop").join; len(j.pending) > bound || len(j.metrics) > bound || len(j.anomalies) > bound || len(j.forecasts["web"]) > buckets {
					t.Fatalf("tick %d: %d pending, %d metrics, %d anomalies and %d forecasts held, bound %d",
						i, len(j.pending), len(j.metrics), len(j.anomalies), len(j.forecasts["web"]), bound)
				}
			}
			j := s.state.app("shop").join
			if len(j.pending) != bound || s.state.Waiting() != bound {
				t.Fatalf("after a week: %d ticks pending, %d waiting, want the bound %d", len(j.pending), s.state.Waiting(), bound)
			}
			overdue := week - bound
			if len(ds) != overdue {
				t.Fatalf("%d decisions, want %d (every tick past the bound)", len(ds), overdue)
			}
			for _, d := range ds {
				for _, in := range c.missing {
					if !slices.Contains(d.Flags, missingFlag[in]) || !strings.Contains(d.Reason, "decided without its") {
						t.Fatalf("decision at %s: flags %v, reason %q: want %s flagged", d.EventTime().Format(time.DateTime), d.Flags, d.Reason, in)
					}
				}
				if len(c.missing) == 1 && slices.Contains(d.Flags, missingFlag[map[string]string{"anomaly": "forecast", "forecast": "anomaly"}[c.missing[0]]]) {
					t.Fatalf("decision at %s flagged %v: only %v was missing", d.EventTime().Format(time.DateTime), d.Flags, c.missing)
				}
			}
			want := map[string]float64{"anomaly": 0, "forecast": 0} // both series exist from the start
			for _, in := range c.missing {
				want[in] = float64(overdue)
			}
			if got := metricstest.ByLabel(t, reg, "headroom_decider_overdue_ticks_total", "missing"); !maps.Equal(got, want) {
				t.Fatalf("headroom_decider_overdue_ticks_total by missing = %v, want %v", got, want)
			}
			if n := strings.Count(log.String(), `"level":"warn","part":"decider","app":"shop","tier":"web"`); n != 1 {
				t.Fatalf("%d warnings naming shop/web, want 1 (at the first overdue tick):\n%s", n, log.String())
			}
			// Upstream catches up: the ticks still waiting are decided
			// complete, but the last (it waits for a later tick).
			ds = nil
			for i := week - bound; i < week; i++ {
				if !c.forecasts {
					forecast(i)
				}
				if !c.anomalies {
					anomaly(i)
				}
			}
			if len(ds) != bound-1 || len(j.pending) != 1 || s.state.Waiting() != 1 {
				t.Fatalf("after catching up: %d decisions, %d pending, %d waiting; want %d, 1 and 1", len(ds), len(j.pending), s.state.Waiting(), bound-1)
			}
			if s.state.Forget("shop"); s.state.Waiting() != 0 {
				t.Fatalf("%d ticks waiting once the app is forgotten, want 0", s.state.Waiting())
			}
			for _, d := range ds {
				if len(d.Flags) > 0 && (slices.Contains(d.Flags, proto.FlagAnomalyMissing) || slices.Contains(d.Flags, proto.FlagForecastMissing)) {
					t.Fatalf("decision at %s flagged %v after upstream caught up", d.EventTime().Format(time.DateTime), d.Flags)
				}
			}
			if got := metricstest.ByLabel(t, reg, "headroom_decider_overdue_ticks_total", "missing"); !maps.Equal(got, want) {
				t.Fatalf("after catching up, headroom_decider_overdue_ticks_total by missing = %v, want still %v", got, want)
			}
		})
	}
}

// TestRebuildOrderNotOverdue: inputs replayed with the metrics first (as
// both of bus.GroupSpec's replays read them before they merged the streams
// by stored time; as they still come where the anomaly messages and
// forecasts were stored a lookback late) have all the lookback's ticks
// wait at once for their anomaly messages and forecasts.
// The backlog's bound holds them: the rebuild decides every tick complete
// and exactly as the live interleaving does. One tick more than the bound
// (the lookback's ticks, and TierLag's for a window whose first message is
// a lagging tier's) goes overdue, so the bound is no larger than it says.
func TestRebuildOrderNotOverdue(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Policy.Tick = time.Minute
	bound := cfg.backlog(time.Minute)
	inputs := func(n int) (metrics, forecasts, anomalies []proto.Keyed) {
		for i := range n {
			at := t0.Add(time.Duration(i) * time.Minute)
			ts := proto.Millis(at)
			if at.Equal(at.Truncate(cfg.ForecastStep)) {
				forecasts = append(forecasts, &proto.Forecast{App: "shop", Tier: "web", TS: ts, StepMS: cfg.ForecastStep.Milliseconds(), Metric: "rps",
					Points: []proto.ForecastPoint{{TS: ts, Yhat: 300, Lo80: 250, Hi80: 350, Lo95: 200, Hi95: 400}}})
			}
			metrics = append(metrics, &proto.Metrics{App: "shop", Tier: "web", TS: ts, Replicas: 3, Values: proto.Floats{"rps": 300 + float64(i%60), "cpu": 0.5}})
			anomalies = append(anomalies, &proto.Anomaly{App: "shop", Tier: "web", TS: ts})
		}
		return
	}
	decide := func(order []proto.Keyed) ([]*proto.Decision, int) {
		st := NewApps(cfg, config.DefaultLimits(), zerolog.Nop())
		overdue := 0
		st.Overdue = func(OverdueTick) { overdue++ }
		var out []*proto.Decision
		for _, in := range order {
			ds, err := st.Handle(in)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ds...)
		}
		return out, overdue
	}
	for _, c := range []struct {
		ticks   int
		overdue int
	}{{bound, 0}, {bound + 1, 1}} {
		m, f, a := inputs(c.ticks)
		var live []proto.Keyed
		for i := range m {
			if i%5 == 0 {
				live = append(live, f[i/5])
			}
			live = append(live, m[i], a[i])
		}
		want, _ := decide(live)
		got, overdue := decide(slices.Concat(m, f, a))
		if overdue != c.overdue {
			t.Fatalf("%d ticks replayed metrics first: %d overdue, want %d", c.ticks, overdue, c.overdue)
		}
		if c.overdue == 0 && !reflect.DeepEqual(got, want) {
			t.Fatalf("%d ticks replayed metrics first decide otherwise than live (%d and %d decisions)", c.ticks, len(got), len(want))
		}
	}
}
