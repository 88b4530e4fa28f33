package decider

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// TestSeriesOfAppsNoLongerDecidedAreDropped: a member's per-app series
// (headroom_decider_bad_input_decisions_total{app,tier}) go when it stops
// deciding the app: evicted for idleness, or its partition handed over.
// Kept, every app.tier the process ever decided stayed on /metrics, so apps
// coming and going within the series limits grew it without bound.
func TestSeriesOfAppsNoLongerDecidedAreDropped(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := New(DefaultConfig(), service.Deps{Log: zerolog.Nop(), Reg: reg, Ready: service.NewReady()})
	if err != nil {
		t.Fatal(err)
	}
	apps := func() []string {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, mf := range mfs {
			if mf.GetName() != "headroom_decider_bad_input_decisions_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "app" {
						names = append(names, l.GetValue())
					}
				}
			}
		}
		slices.Sort(names)
		return names
	}
	// Each app's first decision published starts its series (publish).
	for _, app := range []string{"gone", "live", "moved"} {
		s.badInput.WithLabelValues(app, "web")
	}

	// moved's partition is handed to another member.
	s.apps.Note("moved", 3)
	s.release(3)
	if got, want := apps(), []string{"gone", "live"}; !slices.Equal(got, want) {
		t.Fatalf("after moved's partition was handed over: series of %v, want %v", got, want)
	}

	// gone stops arriving; live keeps arriving past the idle limit.
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	feed := func(app string, at time.Time) {
		t.Helper()
		ts := proto.Millis(at)
		for _, in := range []proto.Keyed{
			&proto.Forecast{App: app, Tier: "web", TS: proto.Millis(at.Truncate(5 * time.Minute))},
			&proto.Anomaly{App: app, Tier: "web", TS: ts},
			&proto.Metrics{App: app, Tier: "web", TS: ts, Replicas: 2, Values: proto.Floats{"rps": 10}},
		} {
			s.state.Arrive(at)
			if _, err := s.state.Handle(in); err != nil {
				t.Fatal(err)
			}
		}
	}
	for m := range 3 {
		feed("gone", now.Add(time.Duration(m)*time.Minute))
	}
	idle := 6 * time.Hour // config.Limits' default IdleAfter
	for m := range int((idle + time.Hour) / (10 * time.Minute)) {
		feed("live", now.Add(time.Duration(m)*10*time.Minute))
	}
	if s.state.Has("gone") || !s.state.Has("live") {
		t.Fatalf("gone held %v, live held %v: want gone evicted", s.state.Has("gone"), s.state.Has("live"))
	}
	if got, want := apps(), []string{"live"}; !slices.Equal(got, want) {
		t.Fatalf("after gone was evicted: series of %v, want %v", got, want)
	}
}
