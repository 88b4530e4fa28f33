package decider

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/headroomhq/headroom/proto"
)

// timeoutSim drives one app's Apps through a random interleaving of its
// tiers' metrics ticks (each tier at its own pace, some ticks skipped),
// their anomaly messages and forecasts (in order per tier, dropped while
// an outage lasts), Expire calls, and steps back of the decider's wall
// clock, and checks after every step what the input timeout must keep.
type timeoutSim struct {
	t    *testing.T
	rig  *timeoutRig
	rng  *rand.Rand
	tick time.Duration
	wait time.Duration
	// real is the time that passes (ms); the collector stamps its ticks
	// by it, the decider's wall clock is real+skew (skew only goes down).
	real, skew int64
	start      int64
	next       map[string]int     // per tier: index of its next tick
	upstream   map[string][]int64 // per tier: ticks sent, their inputs not yet
	outage     bool
	// inAt is the real time of the first Expire that found a tick's
	// metrics in: the timeout counts from there.
	inAt map[int64]int64
	// lastTS is, per tier, the newest decision's time.
	lastTS map[string]int64
	// timedOut counts the decisions the timeout made, bound those the
	// backlog's bound made.
	timedOut, bound int
}

var simTiers = []string{"web", "db", "cache"}

func (s *timeoutSim) join() *joiner { return s.rig.st.apps["shop"].join }

func (s *timeoutSim) wall() int64 { return s.real + s.skew }

func (s *timeoutSim) step() string {
	s.real += s.rng.Int64N(8000)
	switch op := s.rng.IntN(20); {
	case op < 7: // a tier's next tick, if the collector's clock has reached it
		tier := simTiers[s.rng.IntN(len(simTiers))]
		if s.rng.IntN(15) == 0 {
			s.next[tier]++ // a tick lost
		}
		ts := s.start + int64(s.next[tier])*s.tick.Milliseconds()
		if ts > s.real {
			return "wait"
		}
		s.next[tier]++
		s.check(s.rig.handle(&proto.Metrics{App: "shop", Tier: tier, TS: ts, Replicas: 3, Values: proto.Floats{"rps": 300, "cpu": 0.5}}), false)
		s.upstream[tier] = append(s.upstream[tier], ts)
		return fmt.Sprintf("metrics %s %d", tier, ts)
	case op < 13: // a tier's oldest tick's inputs, unless upstream is down
		tier := simTiers[s.rng.IntN(len(simTiers))]
		if len(s.upstream[tier]) == 0 {
			return "no upstream"
		}
		ts := s.upstream[tier][0]
		s.upstream[tier] = s.upstream[tier][1:]
		if s.outage {
			return "dropped"
		}
		bucket := proto.Millis(proto.Time(ts).Truncate(s.rig.cfg.ForecastStep))
		s.check(s.rig.handle(&proto.Forecast{App: "shop", Tier: tier, TS: bucket, StepMS: s.rig.cfg.ForecastStep.Milliseconds(), Metric: "rps",
			Points: []proto.ForecastPoint{{TS: bucket, Yhat: 300, Lo80: 250, Hi80: 350, Lo95: 200, Hi95: 400}}}), false)
		s.check(s.rig.handle(&proto.Anomaly{App: "shop", Tier: tier, TS: ts}), false)
		return fmt.Sprintf("upstream %s %d", tier, ts)
	case op < 18:
		return s.expire()
	case op < 19:
		s.outage = !s.outage
		return fmt.Sprintf("outage %v", s.outage)
	default: // the decider's clock steps back, but no further behind the collector's than maxAhead (less a couple of ticks)
		s.skew = max(s.skew-s.rng.Int64N(int64(3*time.Minute/time.Millisecond)), -(maxAhead - 2*s.tick).Milliseconds())
		return fmt.Sprintf("clock skew %d", s.skew)
	}
}

func (s *timeoutSim) expire() string {
	if s.rig.st.apps["shop"] == nil {
		return "no app"
	}
	ds := s.rig.expire(proto.Time(s.wall()))
	s.check(ds, true)
	j := s.join()
	for _, ts := range j.pending {
		if _, ok := s.inAt[ts]; !ok && j.metricsIn(ts) {
			s.inAt[ts] = s.real
		}
	}
	return fmt.Sprintf("expire at %d: %d decisions", s.wall(), len(ds))
}

// check asserts what the decisions of one step must satisfy, and the
// join's invariants after it.
func (s *timeoutSim) check(ds []*proto.Decision, fromExpire bool) {
	s.t.Helper()
	// newest is the newest tick decided in ds: when the timeout decided
	// some, the tick Expire let them go with (the newest that waited the
	// timeout, complete or not) is among ds, and must be fresh.
	var newest, newestTimedOut int64
	for _, d := range ds {
		newest = max(newest, d.TS)
		if d.TS <= s.lastTS[d.Tier] {
			s.t.Fatalf("%s decided at %d after %d", d.Tier, d.TS, s.lastTS[d.Tier])
		}
		s.lastTS[d.Tier] = d.TS
		if !slices.Contains(d.Flags, proto.FlagInputTimeout) {
			if slices.Contains(d.Flags, proto.FlagAnomalyMissing) || slices.Contains(d.Flags, proto.FlagForecastMissing) {
				s.bound++
			}
			continue
		}
		s.timedOut++
		if !fromExpire {
			s.t.Fatalf("%s at %d timed out by an input, not by Expire", d.Tier, d.TS)
		}
		in, ok := s.inAt[d.TS]
		if !ok {
			s.t.Fatalf("%s at %d timed out though no Expire found its metrics in", d.Tier, d.TS)
		}
		if waited := s.real - in; waited < s.wait.Milliseconds() {
			s.t.Fatalf("%s at %d timed out after %d ms of real time, less than the timeout", d.Tier, d.TS, waited)
		}
		newestTimedOut = max(newestTimedOut, d.TS)
	}
	if a := s.rig.st.apps["shop"]; newestTimedOut > 0 && s.wall()-newest > a.actAge().Milliseconds() {
		s.t.Fatalf("tick %d timed out with none newer than %d, %d ms old by the wall clock, beyond actAge %v", newestTimedOut, newest, s.wall()-newest, a.actAge())
	}
	if s.rig.st.apps["shop"] == nil {
		return
	}
	j := s.join()
	if len(j.inSince) > len(j.pending) {
		s.t.Fatalf("inSince holds %d times for %d pending ticks", len(j.inSince), len(j.pending))
	}
	for i := range j.inSince {
		if !j.metricsIn(j.pending[i]) {
			s.t.Fatalf("inSince[%d] set for tick %d whose metrics are not in", i, j.pending[i])
		}
	}
	if got := s.rig.st.Waiting(); got != len(j.pending) {
		s.t.Fatalf("Waiting() %d, join holds %d", got, len(j.pending))
	}
}

// TestInputTimeoutInvariants: over random interleavings (a tier that
// starts late; half the seeds with a small backlog bound), inSince stays
// aligned with the prefix of pending whose metrics are in; Waiting counts
// the pending ticks; each tier's decisions come once each, in order; a
// tick is decided by the timeout only from Expire, after its metrics have
// been in for the timeout in real time (however the wall clock stepped
// back), and only with a tick fresh by the wall clock; and, upstream down,
// every tick whose metrics are in and fresh is decided once the timeout
// has passed.
func TestInputTimeoutInvariants(t *testing.T) {
	bound := 0
	defer func() {
		if bound == 0 {
			t.Error("the backlog's bound released no tick in any seed")
		}
	}()
	for seed := range uint64(100) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rig := newTimeoutRig(t, 30*time.Second)
			start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
			s := &timeoutSim{t: t, rig: rig, rng: rand.New(rand.NewPCG(seed, 56)), tick: rig.cfg.Policy.Tick, wait: rig.cfg.InputTimeout,
				real: proto.Millis(start), start: proto.Millis(start), next: map[string]int{}, upstream: map[string][]int64{},
				inAt: map[int64]int64{}, lastTS: map[string]int64{}}
			// cache starts late, and every other seed bounds the backlog at
			// 12 ticks, so the bound's releases interleave with the timeout's.
			s.next["cache"] = s.rng.IntN(200)
			if seed%2 == 1 {
				s.rig.handle(&proto.Metrics{App: "shop", Tier: "web", TS: s.start, Replicas: 3, Values: proto.Floats{"rps": 300, "cpu": 0.5}})
				s.next["web"], s.upstream["web"] = 1, []int64{s.start}
				s.join().limit = 12
			}
			var trace []string
			defer func() {
				if t.Failed() {
					n := max(0, len(trace)-30)
					t.Logf("last steps:\n%v", trace[n:])
				}
			}()
			for range 3000 {
				trace = append(trace, s.step())
			}
			// Upstream down for good; every tier's ticks come on time: once
			// the timeout has passed twice over, only the ticks whose
			// metrics are not in yet wait.
			s.outage = true
			for range 20 {
				s.real += s.tick.Milliseconds()
				for _, tier := range simTiers {
					s.next[tier] = int((s.real - s.start) / s.tick.Milliseconds())
					ts := s.start + int64(s.next[tier])*s.tick.Milliseconds()
					s.check(s.rig.handle(&proto.Metrics{App: "shop", Tier: tier, TS: ts, Replicas: 3, Values: proto.Floats{"rps": 300, "cpu": 0.5}}), false)
				}
				trace = append(trace, s.expire())
			}
			s.real += 2 * s.wait.Milliseconds()
			trace = append(trace, s.expire())
			if j := s.join(); len(j.pending) > 1 {
				t.Errorf("upstream down: %d ticks wait (%v), want only the newest", len(j.pending), j.pending)
			}
			if s.timedOut == 0 {
				t.Error("no tick timed out: the simulation tests nothing")
			}
			bound += s.bound
		})
	}
}

// TestInputTimeoutClockStepsBack: the wall clock Expire is given steps
// back (an NTP step, a VM restored) between the tick's metrics being in
// and its timeout. The tick waits the timeout from where it was, not from
// the later time it was first found in: that would hold it, and every tick
// behind it, for as long as the step. A step that leaves the ticks further
// ahead of the clock than maxAhead holds them all the same: a real driver
// on that clock would refuse their decisions as from the future.
func TestInputTimeoutClockStepsBack(t *testing.T) {
	tick := DefaultConfig().Policy.Tick
	start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for _, back := range []time.Duration{0, 5 * time.Second, maxAhead - 2*tick, time.Hour} {
		t.Run(back.String(), func(t *testing.T) {
			r := newTimeoutRig(t, 30*time.Second)
			r.metrics(start)
			r.metrics(start.Add(tick)) // tick 0 in
			now := start.Add(tick)
			r.expire(now)
			now = now.Add(-back)
			if ds := r.expire(now); len(ds) > 0 {
				t.Fatalf("decided %v as the clock stepped back", times(ds))
			}
			r.metrics(start.Add(2 * tick)) // tick 1 in
			r.expire(now.Add(10 * time.Second))
			ds := r.expire(now.Add(30 * time.Second))
			if back > maxAhead {
				if len(ds) > 0 {
					t.Fatalf("decided ticks %v ahead of the clock", back)
				}
				// Once the clock has caught up to within maxAhead, they go.
				if got := times(r.expire(now.Add(back - maxAhead + tick))); len(got) != 2 {
					t.Fatalf("with the clock caught up, decided %v, want ticks 0 and 1", got)
				}
				return
			}
			if got := times(ds); len(got) != 1 || !got[0].Equal(start) {
				t.Fatalf("30s after tick 0's metrics were in, decided %v, want tick 0 (%v)", got, start)
			}
			ds = r.expire(now.Add(40 * time.Second))
			if got := times(ds); len(got) != 1 || !got[0].Equal(start.Add(tick)) {
				t.Fatalf("30s after tick 1's metrics were in, decided %v, want tick 1", got)
			}
		})
	}
}

// TestInputTimeoutActAgeOfTiersSent: a tick is let go by the timeout only
// while a tier the app sends could still be acted on: its age is bounded
// by the lead times of the tiers the app has, not of tiers its policy
// names that never send (an app pushed unconfigured gets the default
// policy, whose db tier leads by 10m, and its own tiers the front tier's
// minute). As the executor's maxAge, a tier without a lead time counts a
// minute.
func TestInputTimeoutActAgeOfTiersSent(t *testing.T) {
	tick := DefaultConfig().Policy.Tick
	start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		tiers []string
		age   time.Duration // actAge
	}{
		{"pushed frontend only", []string{"frontend"}, time.Minute + tick},
		{"web only", []string{"web"}, time.Minute + tick},
		{"web and cache", []string{"web", "cache"}, 3*time.Minute + tick},
		{"web and db", []string{"web", "db"}, 10*time.Minute + tick},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newTimeoutRig(t, 30*time.Second)
			send := func(at time.Time) {
				for _, tier := range c.tiers {
					r.handle(&proto.Metrics{App: "shop", Tier: tier, TS: proto.Millis(at), Replicas: 3, Values: proto.Floats{"rps": 300, "cpu": 0.5}})
				}
			}
			send(start)
			send(start.Add(tick))
			if got := r.st.apps["shop"].actAge(); got != c.age {
				t.Fatalf("actAge %v, want %v", got, c.age)
			}
			// Read late: tick 0 in at 2 minutes; its timeout passes at 2m30s,
			// past a 1-minute tier's age.
			r.expire(start.Add(2 * time.Minute))
			ds := r.expire(start.Add(2*time.Minute + 30*time.Second))
			if want := c.age >= 2*time.Minute+30*time.Second; (len(ds) > 0) != want {
				t.Fatalf("2m30s after tick 0: decided %v; want it decided %v (actAge %v)", times(ds), want, c.age)
			}
		})
	}
}

// TestInputTimeoutOfAMinuteNeverFires is why Config.Validate refuses a
// timeout of a minute or more: a web-only app (lead 1m), its ticks live
// every 15s, each a second late, and Expire every 5s, upstream down for
// ten minutes, is never decided by a 1m timeout (each tick is in 16s after
// its time at the soonest, and too old at 1m15s); by 45s it is.
func TestInputTimeoutOfAMinuteNeverFires(t *testing.T) {
	tick := DefaultConfig().Policy.Tick
	start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		timeout time.Duration
		decided bool
	}{{45 * time.Second, true}, {time.Minute, false}} {
		t.Run(c.timeout.String(), func(t *testing.T) {
			r := newTimeoutRig(t, c.timeout)
			n := 0
			// Each tick reaches the decider a second after its time; Expire
			// runs every 5s, 3s into the tick.
			for now := start; now.Before(start.Add(10 * time.Minute)); now = now.Add(time.Second) {
				if at := now.Add(-time.Second); at.Equal(at.Truncate(tick)) {
					r.handle(&proto.Metrics{App: "shop", Tier: "web", TS: proto.Millis(at), Replicas: 3, Values: proto.Floats{"rps": 300, "cpu": 0.5}})
				}
				if now.Sub(start)%(5*time.Second) == 3*time.Second {
					n += len(r.expire(now))
				}
			}
			if got := n > 0; got != c.decided {
				t.Fatalf("%d decisions in ten minutes, want some %v", n, c.decided)
			}
			if c.decided && r.st.Waiting() > 4 {
				t.Fatalf("%d ticks waiting, want at most the ticks of the timeout", r.st.Waiting())
			}
		})
	}
}

// TestInputTimeoutStoredTicksNotReported: a member that takes an app over
// during an upstream outage replays the outage's ticks, which the member
// before it decided by the timeout and stored; its timeout lets them go
// again (so its policy state is rebuilt), without publishing them, and
// must not report them to Overdue either: they were counted and warned of
// when decided, and a take-over would otherwise count every tick of the
// outage so far again. The first tick not stored is reported, as the
// first of a run.
func TestInputTimeoutStoredTicksNotReported(t *testing.T) {
	tick := DefaultConfig().Policy.Tick
	start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	r := newTimeoutRig(t, 30*time.Second)
	for _, tier := range []string{"web", "db"} {
		r.st.SetSent("shop", tier, start.Add(20*tick)) // stored before the take-over
	}
	for i := range 23 {
		r.metrics(start.Add(time.Duration(i) * tick))
	}
	now := start.Add(22 * tick)
	r.expire(now)
	ds := r.expire(now.Add(30 * time.Second))
	if got := times(ds); len(got) != 1 || !got[0].Equal(start.Add(21*tick)) {
		t.Fatalf("published %v, want only tick 21 (the rest were stored)", got)
	}
	if r.st.Waiting() != 1 {
		t.Fatalf("%d ticks waiting, want the newest", r.st.Waiting())
	}
	if len(r.overdue) != 1 || r.overdue[0].TS != proto.Millis(start.Add(21*tick)) || !r.overdue[0].First || !r.overdue[0].TimedOut {
		t.Fatalf("reported %d ticks to Overdue (%+v), want tick 21 alone, timed out, first of its run", len(r.overdue), r.overdue)
	}
}
