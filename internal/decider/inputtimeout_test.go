package decider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// timeoutRig drives one app's Apps by hand: inputs with their event times,
// and Expire at chosen wall times.
type timeoutRig struct {
	t       *testing.T
	cfg     Config
	st      *Apps
	overdue []OverdueTick
}

func newTimeoutRig(t *testing.T, timeout time.Duration) *timeoutRig {
	cfg := DefaultConfig()
	cfg.InputTimeout = timeout
	r := &timeoutRig{t: t, cfg: cfg, st: NewApps(cfg, config.DefaultLimits(), zerolog.Nop())}
	r.st.Overdue = func(o OverdueTick) { r.overdue = append(r.overdue, o) }
	return r
}

func (r *timeoutRig) handle(in proto.Keyed) []*proto.Decision {
	r.t.Helper()
	ds, err := r.st.Handle(in)
	if err != nil {
		r.t.Fatal(err)
	}
	return ds
}

// metrics sends the web and db ticks at at.
func (r *timeoutRig) metrics(at time.Time) []*proto.Decision {
	var ds []*proto.Decision
	for _, tier := range []string{"web", "db"} {
		ds = append(ds, r.handle(&proto.Metrics{App: "shop", Tier: tier, TS: proto.Millis(at), Replicas: 3,
			Values: proto.Floats{"rps": 300, "cpu": 0.5}})...)
	}
	return ds
}

// upstream sends both tiers' anomaly messages for the tick at at, and
// their forecasts when at starts a forecast bucket.
func (r *timeoutRig) upstream(at time.Time) []*proto.Decision {
	var ds []*proto.Decision
	ts := proto.Millis(at)
	for _, tier := range []string{"web", "db"} {
		if at.Equal(at.Truncate(r.cfg.ForecastStep)) {
			ds = append(ds, r.handle(&proto.Forecast{App: "shop", Tier: tier, TS: ts, StepMS: r.cfg.ForecastStep.Milliseconds(), Metric: "rps",
				Points: []proto.ForecastPoint{{TS: ts, Yhat: 300, Lo80: 250, Hi80: 350, Lo95: 200, Hi95: 400}}})...)
		}
		ds = append(ds, r.handle(&proto.Anomaly{App: "shop", Tier: tier, TS: ts})...)
	}
	return ds
}

func (r *timeoutRig) expire(now time.Time) []*proto.Decision { return r.st.Expire("shop", now) }

// times returns the distinct event times of ds, in order.
func times(ds []*proto.Decision) []time.Time {
	var out []time.Time
	for _, d := range ds {
		if at := d.EventTime(); len(out) == 0 || !out[len(out)-1].Equal(at) {
			out = append(out, at)
		}
	}
	return out
}

// TestInputTimeoutDecidesWithoutUpstream: while the forecaster and the
// anomaly service are down, an app's ticks are decided once they have
// waited Config.InputTimeout of wall time with their metrics in, flagged
// with what they lack and proto.FlagInputTimeout, and warned of once per
// run; before the timeout, nothing is. Without it (0), they wait for the
// backlog's bound, as before.
func TestInputTimeoutDecidesWithoutUpstream(t *testing.T) {
	tick := DefaultConfig().Policy.Tick
	start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC) // on a forecast bucket
	for _, c := range []struct {
		name    string
		timeout time.Duration
	}{{"timeout 1m", time.Minute}, {"off", 0}} {
		t.Run(c.name, func(t *testing.T) {
			r := newTimeoutRig(t, c.timeout)
			// Ticks 0..4 come live: their metrics arrive as they are stamped.
			for i := range 5 {
				if ds := r.metrics(start.Add(time.Duration(i) * tick)); len(ds) > 0 {
					t.Fatalf("tick %d decided %d times without any upstream input", i, len(ds))
				}
			}
			now := start.Add(4 * tick) // ticks 0..3 are in: a later tick came
			if ds := r.expire(now); len(ds) > 0 {
				t.Fatalf("decided %v as soon as their metrics were in", times(ds))
			}
			if ds := r.expire(now.Add(time.Minute - time.Millisecond)); len(ds) > 0 {
				t.Fatalf("decided %v before the timeout", times(ds))
			}
			ds := r.expire(now.Add(time.Minute))
			if c.timeout == 0 {
				if len(ds) > 0 || r.st.Waiting() != 5 {
					t.Fatalf("timeout off: %d decisions, %d waiting; want none and 5", len(ds), r.st.Waiting())
				}
				return
			}
			want := []time.Time{start, start.Add(tick), start.Add(2 * tick), start.Add(3 * tick)}
			if got := times(ds); !slices.EqualFunc(got, want, time.Time.Equal) || len(ds) != 2*len(want) {
				t.Fatalf("decided %v (%d decisions), want both tiers at %v", got, len(ds), want)
			}
			for _, d := range ds {
				for _, f := range []string{proto.FlagAnomalyMissing, proto.FlagForecastMissing, proto.FlagInputTimeout} {
					if !slices.Contains(d.Flags, f) {
						t.Fatalf("%s at %s: flags %v, want %s", d.Tier, d.EventTime(), d.Flags, f)
					}
				}
				if !strings.Contains(d.Reason, "not come 1m0s after the tick's metrics") {
					t.Fatalf("%s at %s: reason %q does not say why", d.Tier, d.EventTime(), d.Reason)
				}
			}
			if r.st.Waiting() != 1 {
				t.Fatalf("%d ticks waiting, want 1 (the newest, whose metrics are not in)", r.st.Waiting())
			}
			if len(r.overdue) != 4 || !r.overdue[0].First || r.overdue[1].First || !r.overdue[3].TimedOut {
				t.Fatalf("overdue reports %+v: want 4, timed out, the first first", r.overdue)
			}
			if ds := r.expire(now.Add(time.Hour)); len(ds) > 0 {
				t.Fatalf("decided %v again, or the newest tick before its metrics were in", times(ds))
			}

			// Upstream comes back: its late messages for the ticks decided
			// are ignored, and the ticks from then on are decided complete.
			for i := range 5 {
				if ds := r.upstream(start.Add(time.Duration(i) * tick)); len(ds) > 0 {
					t.Fatalf("late inputs decided %v", times(ds))
				}
			}
			r.overdue = nil
			ds = r.metrics(start.Add(5 * tick))
			if got := times(ds); len(got) != 1 || !got[0].Equal(start.Add(4*tick)) || len(ds) != 2 {
				t.Fatalf("once upstream is back, decided %v (%d decisions), want both tiers at tick 4", got, len(ds))
			}
			for _, d := range ds {
				if len(d.Flags) > 0 && (slices.Contains(d.Flags, proto.FlagInputTimeout) || slices.Contains(d.Flags, proto.FlagForecastMissing)) {
					t.Fatalf("%s at %s flagged %v once upstream was back", d.Tier, d.EventTime(), d.Flags)
				}
			}
			if len(r.overdue) != 0 {
				t.Fatalf("overdue reports %+v once upstream was back", r.overdue)
			}
		})
	}
}

// TestInputTimeoutOnlyFreshTicks: Expire lets go of a tick only while its
// decision could still be acted on (no older than the app's longest lead
// time, at least a minute, plus its tick); older ticks wait, as they do
// without the timeout, unless a fresh tick behind them is let go, and then
// go first, in order. Inputs that come in time leave nothing to expire.
func TestInputTimeoutOnlyFreshTicks(t *testing.T) {
	tick := DefaultConfig().Policy.Tick
	start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	r := newTimeoutRig(t, time.Minute)
	age := 10*time.Minute + tick // the db tier's lead time, the longest, plus the tick
	if got := r.st.apps["shop"]; got != nil {
		t.Fatal("app held before any input")
	}
	// A decider reading an hour behind the clock, upstream down.
	r.metrics(start)
	r.metrics(start.Add(tick))
	now := start.Add(time.Hour)
	r.expire(now)
	if ds := r.expire(now.Add(time.Hour)); len(ds) > 0 {
		t.Fatalf("decided %v, an hour old, by the clock", times(ds))
	}
	if a := r.st.apps["shop"].actAge(); a != age {
		t.Fatalf("actAge %v, want %v", a, age)
	}

	// Live ticks follow: the old ones go with them, oldest first.
	live := now.Add(2 * time.Hour)
	r.metrics(live)
	r.metrics(live.Add(tick))
	r.expire(live.Add(tick))
	ds := r.expire(live.Add(tick + time.Minute))
	want := []time.Time{start, start.Add(tick), live}
	if got := times(ds); !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Fatalf("decided %v, want %v", got, want)
	}

	// Inputs in time: decided complete, and nothing is left to expire.
	r2 := newTimeoutRig(t, time.Minute)
	var all []*proto.Decision
	for i := range 10 {
		at := start.Add(time.Duration(i) * tick)
		all = append(all, r2.metrics(at)...)
		all = append(all, r2.upstream(at)...)
		all = append(all, r2.expire(at.Add(time.Hour))...)
	}
	if len(all) != 2*9 {
		t.Fatalf("%d decisions with inputs in time, want 18 (ticks 0..8, both tiers)", len(all))
	}
	for _, d := range all {
		if len(d.Flags) > 0 && slices.Contains(d.Flags, proto.FlagInputTimeout) {
			t.Fatalf("%s at %s flagged %v with its inputs in time", d.Tier, d.EventTime(), d.Flags)
		}
	}
}

// TestServiceDecidesThroughUpstreamOutage runs the service on a real
// JetStream server with only metrics stored (the forecaster and the
// anomaly service down) and its clock in the test's hand. Once the clock
// passes the input timeout, the periodic round alone (no input comes)
// decides the waiting ticks, and stores them flagged; the counter and one
// warning per tier say so.
func TestServiceDecidesThroughUpstreamOutage(t *testing.T) {
	var logged natstest.Logs
	log := zerolog.New(&logged).Level(zerolog.WarnLevel)
	url := natstest.RunJetStream(t)
	admin := natstest.Connect(t, url, "admin", log, true)
	cfg := DefaultConfig()
	tick := cfg.Policy.Tick
	reg := prometheus.NewRegistry()
	ready := service.NewReady()
	d, err := New(cfg, service.Deps{Bus: natstest.Connect(t, url, "decider", log, false), Log: log, Reg: reg, Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(proto.Millis(start.Add(4 * tick)))
	d.now = func() time.Time { return proto.Time(clock.Load()) }
	d.retryEvery = 20 * time.Millisecond
	natstest.Serve(t, "decider", d.Run)
	natstest.Eventually(t, 30*time.Second, ready.Err)

	tiers := []string{"web", "db"}
	var outs []bus.Out
	for i := range 5 {
		for _, tier := range tiers {
			outs = append(outs, bus.Out{Subject: proto.MetricsSubject("apm", "api", tier),
				Msg: proto.NewMetrics("api", tier, start.Add(time.Duration(i)*tick), 2, map[string]float64{proto.MetricRPS: 100, proto.MetricCPU: 0.5})})
		}
	}
	if err := admin.PublishAll(context.Background(), outs); err != nil {
		t.Fatal(err)
	}
	waiting := func(want float64) func() error {
		return func() error {
			if got, _ := metricstest.Sum(t, reg, "headroom_decider_waiting_ticks"); got != want {
				return fmt.Errorf("%v ticks waiting, want %v", got, want)
			}
			return nil
		}
	}
	natstest.Eventually(t, 30*time.Second, waiting(5))
	if n := len(natstest.Payloads(t, admin, "DECISIONS", "apm.decision.>")); n != 0 {
		t.Fatalf("%d decisions stored before the input timeout", n)
	}

	clock.Add(cfg.InputTimeout.Milliseconds())
	natstest.Eventually(t, 30*time.Second, func() error {
		for _, tier := range tiers {
			if n := len(natstest.Payloads(t, admin, "DECISIONS", "apm.decision.api."+tier)); n != 4 {
				return fmt.Errorf("%d %s decisions stored, want 4 (ticks 0..3)", n, tier)
			}
		}
		return nil
	})
	for _, data := range natstest.Payloads(t, admin, "DECISIONS", "apm.decision.>") {
		var dd proto.Decision
		if err := proto.Decode(data, &dd); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(dd.Flags, proto.FlagInputTimeout) || !slices.Contains(dd.Flags, proto.FlagForecastMissing) {
			t.Errorf("%s at %s stored with flags %v, want %s and %s", dd.Tier, dd.EventTime(), dd.Flags, proto.FlagInputTimeout, proto.FlagForecastMissing)
		}
	}
	natstest.Eventually(t, 30*time.Second, waiting(1))
	if got := metricstest.ByLabel(t, reg, "headroom_decider_input_timeouts_total", "missing"); got["anomaly"] != 8 || got["forecast"] != 8 {
		t.Errorf("headroom_decider_input_timeouts_total by missing = %v, want 8 each (4 ticks, 2 tiers)", got)
	}
	if got := metricstest.ByLabel(t, reg, "headroom_decider_overdue_ticks_total", "missing"); got["anomaly"] != 0 || got["forecast"] != 0 {
		t.Errorf("headroom_decider_overdue_ticks_total by missing = %v, want none (the backlog was not full)", got)
	}
	var warned []string
	for _, l := range logged.Lines(t, "") {
		if msg, _ := l["message"].(string); strings.Contains(msg, "not come within -decider.input-timeout") {
			warned = append(warned, fmt.Sprint(l["tier"]))
		}
	}
	if slices.Sort(warned); !slices.Equal(warned, []string{"db", "web"}) {
		t.Errorf("warned of tiers %v, want db and web once each (at the first tick of the run)", warned)
	}
}

// TestInputTimeoutCarriesOpenIncidents: an anomaly service that is slow,
// not down (each message 40 s after its tick's metrics are in, a
// performance incident open on web), has every tick decided by the 30 s
// timeout; the decisions still see the incident, from the tier's latest
// anomaly message, as long as that judged a tick no older than the app's
// act age. Once the anomaly service has sent nothing for longer, the
// incident is no longer carried on.
func TestInputTimeoutCarriesOpenIncidents(t *testing.T) {
	tick := DefaultConfig().Policy.Tick
	start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	r := newTimeoutRig(t, 30*time.Second)
	type due struct {
		at time.Time
		in proto.Keyed
	}
	var queue []due
	var ds []*proto.Decision
	stopAnomalies := start.Add(20 * time.Minute)
	for now := start; now.Before(start.Add(40 * time.Minute)); now = now.Add(time.Second) {
		if now.Equal(now.Truncate(tick)) {
			ts := proto.Millis(now)
			ds = append(ds, r.handle(&proto.Metrics{App: "shop", Tier: "web", TS: ts, Replicas: 3, Values: proto.Floats{"rps": 300, "cpu": 0.5}})...)
			if now.Equal(now.Truncate(r.cfg.ForecastStep)) {
				ds = append(ds, r.handle(&proto.Forecast{App: "shop", Tier: "web", TS: ts, StepMS: r.cfg.ForecastStep.Milliseconds(), Metric: "rps",
					Points: []proto.ForecastPoint{{TS: ts, Yhat: 300, Lo80: 250, Hi80: 350, Lo95: 200, Hi95: 400}}})...)
			}
			if now.Before(stopAnomalies) {
				queue = append(queue, due{now.Add(tick + 40*time.Second), &proto.Anomaly{App: "shop", Tier: "web", TS: ts, Open: []string{proto.IncidentPerformance}}})
			}
		}
		for len(queue) > 0 && !queue[0].at.After(now) {
			ds = append(ds, r.handle(queue[0].in)...)
			queue = queue[1:]
		}
		if now.Sub(start)%(5*time.Second) == 0 {
			ds = append(ds, r.expire(now)...)
		}
	}
	firstJudged := start.Add(tick) // the first message comes for tick 0 at 55 s, when tick 1 already timed out
	lastCarried := stopAnomalies.Add(-tick).Add(time.Minute + tick)
	var carried, lost []time.Time
	for _, d := range ds {
		if !slices.Contains(d.Flags, proto.FlagInputTimeout) {
			t.Fatalf("%s decided without the timeout: the anomaly messages were all late", d.EventTime())
		}
		at, perf := d.EventTime(), slices.Contains(d.Flags, "performance-incident")
		switch {
		case at.After(firstJudged) && !at.After(lastCarried) && !perf:
			lost = append(lost, at)
		case at.After(lastCarried) && perf:
			carried = append(carried, at)
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d ticks decided without the open incident while the anomaly service was only slow, first %s", len(lost), lost[0])
	}
	if len(carried) > 0 {
		t.Errorf("%d ticks still carried the incident after the anomaly service had sent nothing for the act age, first %s", len(carried), carried[0])
	}
	if len(ds) < 150 {
		t.Fatalf("%d decisions in 40 minutes of 15 s ticks", len(ds))
	}
}

// TestInputTimeoutNotFarAhead: a tick stamped further ahead of the wall
// clock than the executor's default future skew (a recording replayed
// faster than real time) is not let go by the clock, whose decision a real
// driver would refuse; one within it is.
func TestInputTimeoutNotFarAhead(t *testing.T) {
	tick := DefaultConfig().Policy.Tick
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		ahead time.Duration
		want  int
	}{{maxAhead + tick, 0}, {maxAhead - tick, 1}} {
		// The tick is c.ahead ahead when its timeout has passed.
		r := newTimeoutRig(t, 30*time.Second)
		r.metrics(now.Add(30*time.Second + c.ahead))
		r.metrics(now.Add(30*time.Second + c.ahead + tick))
		r.expire(now)
		if got := len(times(r.expire(now.Add(30 * time.Second)))); got != c.want {
			t.Errorf("a tick %v ahead of the clock: %d ticks let go, want %d", c.ahead, got, c.want)
		}
	}
}

// TestInputTimeoutWallStepsForward: the wait is read off the elapsed
// clock (live, the monotonic one), not the wall. A wall clock stepped
// forward by more than the timeout, with only a second elapsed, releases
// nothing: read off the wall, the tick would be let go at once, decided
// without inputs that were only a second late. The step still ages the
// ticks for the act-age bound, which is about the decision's use.
func TestInputTimeoutWallStepsForward(t *testing.T) {
	const wait, maxAge, ahead = 30_000, 100_000, 120_000
	for _, c := range []struct {
		name          string
		step, elapsed time.Duration
		want          int
	}{
		{"a second elapsed, the wall 40s on", 40 * time.Second, time.Second, 0},
		{"the timeout elapsed, the wall with it", 30 * time.Second, 30 * time.Second, 1},
		{"the timeout elapsed, the wall 2m on", 2 * time.Minute, 30 * time.Second, 0}, // tick 0 older than maxAge
	} {
		t.Run(c.name, func(t *testing.T) {
			j := newJoiner(5*time.Minute, proto.MetricRPS)
			input{"m", "web", t0}.add(j)
			input{"m", "web", t0.Add(time.Minute)}.add(j) // tick 0's metrics are in
			now := proto.Millis(t0.Add(time.Minute))
			j.expire(now, 0, wait, maxAge, ahead)
			if got := drain(j); len(got) != 0 {
				t.Fatalf("released %v before any wait", got)
			}
			j.expire(now+c.step.Milliseconds(), c.elapsed.Milliseconds(), wait, maxAge, ahead)
			var got []int64
			for f, ok := j.timedOut(); ok; f, ok = j.timedOut() {
				got = append(got, f.ts)
			}
			if len(got) != c.want {
				t.Fatalf("released %v by the timeout, want %d ticks", got, c.want)
			}
		})
	}
}
