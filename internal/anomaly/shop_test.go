package anomaly_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/anomaly"
	"github.com/headroomhq/headroom/internal/shop"
)

// shopRun drives the simulated shop minute by minute through one detector
// per tier and metric and one classifier per tier, as the live service does.
type shopRun struct {
	m       *shop.Model
	dets    map[string]*anomaly.Detector
	cls     map[string]*anomaly.Classifier
	replica map[string]int
}

func newShopRun(t *testing.T, seed int64) *shopRun {
	cfg := shop.DefaultConfig()
	cfg.Seed = seed
	cfg.Spike.Probability = 0 // incidents are planted by the test only
	cfg.SlowDB.Probability = 0
	cfg.Bursts.Probability = 0 // a quiet shop: no everyday surges either
	m, err := shop.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &shopRun{m: m, dets: map[string]*anomaly.Detector{}, cls: map[string]*anomaly.Classifier{}}
	for _, tier := range cfg.TierNames() {
		r.cls[tier] = anomaly.NewClassifier(anomaly.DefaultClassifierConfig())
	}
	return r
}

// plant alters one tick: demand and the tier samples, during an incident.
type plant struct {
	kind       string
	start, end time.Time
	demand     float64                                 // demand multiplier, 0 for none
	edit       func(tier string, v map[string]float64) // sample edit, may be nil
}

// step runs one minute and returns the incidents opened at it, as
// "tier:kind" strings.
func (r *shopRun) step(at time.Time, p *plant) []string {
	in := p != nil && !at.Before(p.start) && at.Before(p.end)
	if r.replica == nil {
		// A fixed cluster sized for the busiest minute of a day at 70 %
		// utilisation: no scaling steps, so the quiet day is quiet.
		r.replica = map[string]int{}
		for m := at; m.Before(at.Add(24 * time.Hour)); m = m.Add(time.Minute) {
			for tier, n := range r.m.InitialReplicas(m, 0.7) {
				r.replica[tier] = max(r.replica[tier], n)
			}
		}
	}
	demand := r.m.Demand(at)
	if in && p.demand > 0 {
		demand *= p.demand
	}
	var opened []string
	for _, s := range r.m.TickWithDemand(at, r.replica, demand) {
		vals := maps.Clone(s.Values)
		if in && p.edit != nil {
			p.edit(s.Tier, vals)
		}
		scores := map[string]anomaly.Score{}
		for name, v := range vals {
			key := s.Tier + "/" + name
			d := r.dets[key]
			if d == nil {
				d = anomaly.NewDetector(anomaly.DefaultConfig())
				r.dets[key] = d
			}
			scores[name] = d.Observe(at, v)
		}
		for _, inc := range r.cls[s.Tier].Observe(at, vals, scores) {
			if inc.State == anomaly.StateOpen {
				opened = append(opened, s.Tier+":"+inc.Kind+" "+strings.Join(inc.Evidence, "; "))
			}
		}
	}
	return opened
}

// TestShopIncidentsClassified plants one incident of each kind on the
// simulated shop, a day apart and at different hours, after two weeks
// of learning and a quiet day. Each day must open exactly its incident's kind
// (on whichever tiers it reaches), close to its start, and the quiet day
// must open nothing.
func TestShopIncidentsClassified(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates nineteen days of the shop")
	}
	for _, seed := range []int64{2, 7} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			shopIncidents(t, seed)
		})
	}
}

func shopIncidents(t *testing.T, seed int64) {
	r := newShopRun(t, seed)
	day0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // a Monday
	at := func(d, h int) time.Time { return day0.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour) }
	latency := func(f float64) func(string, map[string]float64) {
		return func(tier string, v map[string]float64) {
			if tier != shop.TierWeb {
				return
			}
			for k := range v {
				if strings.HasPrefix(k, "latency") {
					v[k] *= f
				}
			}
		}
	}
	plants := []plant{
		{kind: anomaly.KindLoad, start: at(15, 11), demand: 2.5},
		{kind: anomaly.KindDrop, start: at(16, 14), demand: 0.15},
		{kind: anomaly.KindPerformance, start: at(17, 16), edit: latency(5)},
		{kind: anomaly.KindErrors, start: at(18, 10), edit: func(tier string, v map[string]float64) {
			if tier == shop.TierWeb {
				v[shop.MetricErrorRate] += 0.08
			}
		}},
	}
	for i := range plants {
		plants[i].end = plants[i].start.Add(30 * time.Minute)
	}
	// Two weeks of learning (weekly patterns need one to be learned and
	// one to be checked), then day 14 is the quiet day.
	for m := at(0, 0); m.Before(at(14, 0)); m = m.Add(time.Minute) {
		r.step(m, nil)
	}
	var quiet []string
	for m := at(14, 0); m.Before(at(15, 0)); m = m.Add(time.Minute) {
		for _, o := range r.step(m, nil) {
			quiet = append(quiet, m.Format("15:04 ")+o)
		}
	}
	if len(quiet) > 0 {
		t.Errorf("quiet day opened %d incidents:\n%s", len(quiet), strings.Join(quiet, "\n"))
	}
	for d, p := range plants {
		kinds := map[string]bool{}
		var log []string
		first := time.Time{}
		for m := at(15+d, 0); m.Before(at(16+d, 0)); m = m.Add(time.Minute) {
			for _, o := range r.step(m, &p) {
				kind := strings.SplitN(strings.SplitN(o, ":", 2)[1], " ", 2)[0]
				kinds[kind] = true
				log = append(log, m.Format("15:04 ")+o)
				if kind == p.kind && first.IsZero() {
					first = m
				}
			}
		}
		got := slices.Sorted(maps.Keys(kinds))
		if fmt.Sprint(got) != fmt.Sprint([]string{p.kind}) {
			t.Errorf("%s planted at %s: opened kinds %v, want exactly [%s]:\n%s", p.kind, p.start.Format("Mon 15:04"), got, p.kind, strings.Join(log, "\n"))
			continue
		}
		if first.Before(p.start) || first.After(p.start.Add(10*time.Minute)) {
			t.Errorf("%s planted at %s opened at %s, want within 10 minutes:\n%s", p.kind, p.start.Format("15:04"), first.Format("15:04"), strings.Join(log, "\n"))
		}
	}
}
