package decider

import (
	"reflect"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/proto"
)

// TestReturningAppResumes: an app evicted for idleness says so, once, when
// it comes back; replaying its recorded inputs (as the runtime does)
// decides none of its stored decisions again, and the ticks after are
// decided exactly as by a decider that never evicted it.
func TestReturningAppResumes(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	inputs := func(app string, i int) []proto.Keyed {
		at := t0.Add(time.Duration(i) * time.Minute)
		ts := proto.Millis(at)
		rps := 200 + 150*float64(i%90)/90
		if i >= 515 && i < 530 {
			rps *= 3 // a surge after the return
		}
		in := []proto.Keyed{
			&proto.Anomaly{App: app, Tier: "web", TS: ts},
			&proto.Metrics{App: app, Tier: "web", TS: ts, Replicas: 4, Values: proto.Floats{"rps": rps, "cpu": 0.5}},
		}
		if at.Equal(at.Truncate(5 * time.Minute)) {
			in = append([]proto.Keyed{&proto.Forecast{App: app, Tier: "web", TS: ts, Metric: "rps", StepMS: 300000}}, in...)
		}
		return in
	}
	// feed hands minute i's inputs to as, at arrival minute arrived, and
	// returns the decisions made, marking them stored as the service's
	// flush does.
	feed := func(as *Apps, app string, i, arrived int) []*proto.Decision {
		t.Helper()
		var out []*proto.Decision
		for _, in := range inputs(app, i) {
			as.Arrive(t0.Add(time.Duration(arrived) * time.Minute))
			ds, err := as.Handle(in)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				as.app(app).sentTS[d.Tier] = d.TS
			}
			out = append(out, ds...)
		}
		return out
	}
	never := NewApps(DefaultConfig(), config.DefaultLimits(), zerolog.Nop())
	st := NewApps(DefaultConfig(), config.Limits{MaxSeriesPerApp: 10, MaxSeries: 10, IdleAfter: time.Hour}, zerolog.Nop())
	for i := range 400 {
		feed(never, "a", i, i)
		feed(st, "a", i, i)
	}
	for i := 400; i < 510; i++ { // a is quiet; b keeps the clock moving
		feed(st, "b", i, i)
	}
	if st.Has("a") {
		t.Fatal("a not evicted after 110 idle minutes")
	}
	if !st.Returning("a") || st.Returning("a") || st.Returning("b") {
		t.Fatal("Returning must say yes once, for the evicted app only")
	}
	for i := range 400 { // the runtime's replay of a's recorded inputs, as they arrived
		if ds := feed(st, "a", i, i); len(ds) > 0 {
			t.Fatalf("replayed minute %d decided again: %+v", i, ds[0])
		}
	}
	var got, want []*proto.Decision
	for i := 510; i < 560; i++ {
		got = append(got, feed(st, "a", i, i)...)
		want = append(want, feed(never, "a", i, i)...)
	}
	if len(want) < 45 || !reflect.DeepEqual(got, want) {
		t.Fatalf("after the return: %d decisions, want the %d of a decider that never evicted the app (first %+v, want %+v)", len(got), len(want), first(got), first(want))
	}
}

func first(ds []*proto.Decision) any {
	if len(ds) == 0 {
		return nil
	}
	return *ds[0]
}
