package shop

import (
	"math"
	"reflect"
	"testing"
	"time"
)

func TestIncidentSchedule(t *testing.T) {
	m := mustModel(t, nil)
	cfg := m.Config()
	const days = 60
	to := monday.Add(days * day)
	all := m.Incidents(monday, to)
	counts := map[string]int{}
	for i, inc := range all {
		counts[inc.Kind]++
		if i > 0 && inc.Start.Before(all[i-1].Start) {
			t.Errorf("incidents out of order at %d", i)
		}
		dur := inc.End.Sub(inc.Start)
		switch inc.Kind {
		case KindSpike:
			s := cfg.Spike
			if dur < s.MinDuration-time.Second || dur > s.MaxDuration || inc.Magnitude < s.MinMagnitude || inc.Magnitude > s.MaxMagnitude {
				t.Errorf("spike %+v outside its bounds", inc)
			}
			if h := inc.Start.Hour(); h < s.EarliestHour || h > s.LatestHour {
				t.Errorf("spike starts at %02d h, want %d–%d h", h, s.EarliestHour, s.LatestHour)
			}
		case KindSlowDB:
			s := cfg.SlowDB
			if dur < s.MinDuration-time.Second || dur > s.MaxDuration || inc.Magnitude < s.MinMagnitude || inc.Magnitude > s.MaxMagnitude {
				t.Errorf("slow-db %+v outside its bounds", inc)
			}
		default:
			t.Errorf("unknown incident kind %q", inc.Kind)
		}
	}
	if n := counts[KindSpike]; n < days*6/10 || n > days {
		t.Errorf("%d spikes in %d days, want about one a day", n, days)
	}
	if n := counts[KindSlowDB]; n < days*5/10 || n > days {
		t.Errorf("%d slow-db incidents in %d days, want about one a day", n, days)
	}

	// Splitting the range at arbitrary points finds the same incidents.
	var pieces []Incident
	for from := monday; from.Before(to); from = from.Add(7*time.Hour + 13*time.Minute) {
		end := from.Add(7*time.Hour + 13*time.Minute)
		if end.After(to) {
			end = to
		}
		for _, inc := range m.Incidents(from, end) {
			if !contains(pieces, inc) {
				pieces = append(pieces, inc)
			}
		}
	}
	if !reflect.DeepEqual(pieces, all) {
		t.Errorf("piecewise queries found %d incidents, whole range %d", len(pieces), len(all))
	}
	if got := m.Incidents(to, monday); got != nil {
		t.Errorf("reversed range gave %v, want nil", got)
	}
	off := mustModel(t, func(c *Config) { c.Spike.Probability, c.SlowDB.Probability = 0, 0 })
	if got := off.Incidents(monday, to); len(got) != 0 {
		t.Errorf("disabled incidents still scheduled: %v", got)
	}
}

func contains(list []Incident, inc Incident) bool {
	for _, x := range list {
		if reflect.DeepEqual(x, inc) {
			return true
		}
	}
	return false
}

// firstIncident returns the first incident of a kind in the fortnight after monday.
func firstIncident(t *testing.T, m *Model, kind string) Incident {
	t.Helper()
	for _, inc := range m.Incidents(monday, monday.Add(14*day)) {
		if inc.Kind == kind {
			return inc
		}
	}
	t.Fatalf("no %s incident in two weeks", kind)
	return Incident{}
}

func TestSpikeRaisesWebDemand(t *testing.T) {
	m := mustModel(t, nil)
	calm := mustModel(t, func(c *Config) { c.Spike.Probability = 0 })
	for _, inc := range m.Incidents(monday, monday.Add(14*day)) {
		if inc.Kind != KindSpike {
			continue
		}
		mid := inc.Start.Add(inc.End.Sub(inc.Start) / 2)
		ratio := m.Demand(mid) / calm.Demand(mid)
		if math.Abs(ratio-inc.Magnitude) > 1e-9 {
			t.Errorf("spike %v: demand ratio %.4f mid-spike, want its magnitude %.4f", inc.Start, ratio, inc.Magnitude)
		}
		// The ramp is gradual: a quarter of the way up the ramp is well
		// below full strength.
		early := inc.Start.Add(inc.Ramp / 4)
		if r := m.Demand(early) / calm.Demand(early); r <= 1 || r >= 1+(inc.Magnitude-1)/2 {
			t.Errorf("spike %v: ratio %.3f a quarter into the ramp, want between 1 and half strength", inc.Start, r)
		}
		if r := m.Demand(inc.End) / calm.Demand(inc.End); r != 1 {
			t.Errorf("spike %v: ratio %.3f at its end, want 1", inc.Start, r)
		}
		ready := map[string]int{TierWeb: 40, TierCache: 30, TierDB: 20}
		if a, b := value(t, m.Tick(mid, ready), TierWeb, MetricRPS), value(t, calm.Tick(mid, ready), TierWeb, MetricRPS); a < 1.9*b {
			t.Errorf("spike %v: web rps %.0f, want about %.1f × %.0f", inc.Start, a, inc.Magnitude, b)
		}
	}
}

func TestSlowDBRaisesLatencyAndErrorsNotDemand(t *testing.T) {
	m := mustModel(t, nil)
	healthy := mustModel(t, func(c *Config) { c.SlowDB.Probability = 0 })
	inc := firstIncident(t, m, KindSlowDB)
	mid := inc.Start.Add(inc.End.Sub(inc.Start) / 2)
	ready := m.InitialReplicas(mid, 0.6)
	sick, well := m.Tick(mid, ready), healthy.Tick(mid, ready)

	if a, b := value(t, sick, TierWeb, MetricRPS), value(t, well, TierWeb, MetricRPS); a != b {
		t.Errorf("web rps %v during slow-db, want unchanged %v", a, b)
	}
	if a, b := value(t, sick, TierDB, MetricLatencyP50), value(t, well, TierDB, MetricLatencyP50); a < 0.8*inc.Magnitude*b {
		t.Errorf("db p50 %.1f ms during slow-db (×%.1f), healthy %.1f ms", a, inc.Magnitude, b)
	}
	if a, b := value(t, sick, TierDB, MetricErrorRate), value(t, well, TierDB, MetricErrorRate); a < b+0.03 {
		t.Errorf("db error rate %.4f during slow-db, healthy %.4f", a, b)
	}
	if a, b := value(t, sick, TierWeb, MetricErrorRate), value(t, well, TierWeb, MetricErrorRate); a <= b {
		t.Errorf("web error rate %.4f during slow-db, healthy %.4f", a, b)
	}
	if a, b := value(t, sick, TierWeb, MetricLatencyP95), value(t, well, TierWeb, MetricLatencyP95); a <= b {
		t.Errorf("web p95 %.1f ms during slow-db, healthy %.1f ms", a, b)
	}
	// Outside the incident the two models agree exactly.
	after := inc.End.Add(time.Minute)
	if a, b := m.Tick(after, ready), healthy.Tick(after, ready); !reflect.DeepEqual(a, b) {
		t.Errorf("after the incident ticks differ:\n%v\n%v", a, b)
	}
}
