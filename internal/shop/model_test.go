package shop

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// monday is a Monday 00:00 UTC used as a fixed origin.
var monday = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

func mustModel(tb testing.TB, edit func(*Config)) *Model {
	tb.Helper()
	cfg := DefaultConfig()
	if edit != nil {
		edit(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return m
}

func value(tb testing.TB, samples []Sample, tier, metric string) float64 {
	tb.Helper()
	for _, s := range samples {
		if s.Tier == tier {
			v, ok := s.Values[metric]
			if !ok {
				tb.Fatalf("tier %s has no metric %s", tier, metric)
			}
			return v
		}
	}
	tb.Fatalf("no tier %s in %v", tier, samples)
	return 0
}

func TestDeterministicWhateverTheCallPattern(t *testing.T) {
	ready := map[string]int{TierWeb: 12, TierCache: 8, TierDB: 5}
	from := monday.Add(40 * time.Hour)
	const n = 4 * 60 * 6 // six hours at 15 s
	live := mustModel(t, nil)
	series := make([][]Sample, n)
	for i := range n {
		series[i] = live.Tick(from.Add(time.Duration(i)*15*time.Second), ready)
	}
	// Another process, same seed: backfill at 60 s spacing, newest first.
	other := mustModel(t, nil)
	for i := n - 4; i >= 0; i -= 4 {
		got := other.Tick(from.Add(time.Duration(i)*15*time.Second), ready)
		if !reflect.DeepEqual(got, series[i]) {
			t.Fatalf("tick %d differs between call patterns:\n%v\n%v", i, got, series[i])
		}
	}
	// A different seed gives a different series.
	reseeded := mustModel(t, func(c *Config) { c.Seed = 2 })
	same := 0
	for i := 0; i < n; i += 40 {
		if reseeded.Demand(from.Add(time.Duration(i)*15*time.Second)) == live.Demand(from.Add(time.Duration(i)*15*time.Second)) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("seed 2 reproduced seed 1's demand at %d instants", same)
	}
}

func TestTickShape(t *testing.T) {
	m := mustModel(t, nil)
	got := m.Tick(monday.Add(15*time.Hour), map[string]int{TierWeb: 15, TierCache: 10, TierDB: 6})
	if len(got) != 3 {
		t.Fatalf("got %d samples, want 3", len(got))
	}
	base := []string{MetricRPS, MetricCPU, MetricMem, MetricLatencyP50, MetricLatencyP95, MetricLatencyP99, MetricErrorRate}
	for i, tier := range m.Config().TierNames() {
		s := got[i]
		if s.Tier != tier {
			t.Errorf("sample %d is tier %q, want %q", i, s.Tier, tier)
		}
		want := len(base)
		if tier == TierCache {
			want++
			if _, ok := s.Values[MetricHitRatio]; !ok {
				t.Errorf("cache sample lacks %s", MetricHitRatio)
			}
		}
		if len(s.Values) != want {
			t.Errorf("tier %s has %d metrics, want %d: %v", tier, len(s.Values), want, s.Values)
		}
		for _, k := range base {
			if _, ok := s.Values[k]; !ok {
				t.Errorf("tier %s lacks %s", tier, k)
			}
		}
	}
}

func TestLoadFlowsDownTheTiers(t *testing.T) {
	m := mustModel(t, nil)
	cfg := m.Config()
	at := monday.Add(14 * time.Hour)
	s := m.Tick(at, map[string]int{TierWeb: 40, TierCache: 30, TierDB: 20})
	web, cache, db := value(t, s, TierWeb, MetricRPS), value(t, s, TierCache, MetricRPS), value(t, s, TierDB, MetricRPS)
	if web != m.Demand(at) {
		t.Errorf("web rps %v, want the demand %v", web, m.Demand(at))
	}
	if math.Abs(cache-web*cfg.CacheCallsPerRequest) > 1e-9*cache {
		t.Errorf("cache ops %v, want web × %v = %v", cache, cfg.CacheCallsPerRequest, web*cfg.CacheCallsPerRequest)
	}
	hit := value(t, s, TierCache, MetricHitRatio)
	want := web * cfg.DBQueriesPerRequest * (1 - hit)
	if math.Abs(db-want) > 1e-9*want {
		t.Errorf("db qps %v, want web × queries × miss = %v", db, want)
	}
}

func TestMoreReplicasLowerCPUAndLatency(t *testing.T) {
	m := mustModel(t, func(c *Config) { c.Spike.Probability, c.SlowDB.Probability = 0, 0 })
	at := monday.Add(19 * time.Hour)
	load := m.Demand(at)
	base := m.NeededReplicas(TierWeb, load, 1)
	prevCPU, prevP99 := math.Inf(1), math.Inf(1)
	for n := base; n <= 2*base; n++ {
		s := m.Tick(at, map[string]int{TierWeb: n, TierCache: 30, TierDB: 20})
		cpu, p99 := value(t, s, TierWeb, MetricCPU), value(t, s, TierWeb, MetricLatencyP99)
		if cpu >= prevCPU || p99 > prevP99 {
			t.Errorf("web at %d replicas: cpu %.3f p99 %.1f ms, not below %.3f / %.1f with one fewer", n, cpu, p99, prevCPU, prevP99)
		}
		prevCPU, prevP99 = cpu, p99
	}
	// Under-provisioned web fails requests; provisioned web does not.
	short := m.Tick(at, map[string]int{TierWeb: base / 2, TierCache: 30, TierDB: 20})
	ample := m.Tick(at, map[string]int{TierWeb: 2 * base, TierCache: 30, TierDB: 20})
	if e := value(t, short, TierWeb, MetricErrorRate); e < 0.4 {
		t.Errorf("web at half capacity: error rate %.3f, want >= 0.4", e)
	}
	if e := value(t, ample, TierWeb, MetricErrorRate); e > 0.01 {
		t.Errorf("web at double capacity: error rate %.3f, want <= 0.01", e)
	}
}

func TestZeroReplicasErrorEverything(t *testing.T) {
	m := mustModel(t, nil)
	at := monday.Add(10 * time.Hour)
	full := map[string]int{TierWeb: 30, TierCache: 20, TierDB: 12}
	for _, tier := range m.Config().TierNames() {
		ready := map[string]int{}
		for k, v := range full {
			ready[k] = v
		}
		delete(ready, tier) // a missing tier has no replicas
		s := m.Tick(at, ready)
		if e := value(t, s, tier, MetricErrorRate); e != 1 {
			t.Errorf("%s with 0 replicas: error rate %v, want 1", tier, e)
		}
		if c := value(t, s, tier, MetricCPU); c != 0 {
			t.Errorf("%s with 0 replicas: cpu %v, want 0", tier, c)
		}
	}
	// Losing the cache sends every lookup to the database.
	noCache := m.Tick(at, map[string]int{TierWeb: 30, TierDB: 12})
	withCache := m.Tick(at, full)
	if a, b := value(t, noCache, TierDB, MetricRPS), value(t, withCache, TierDB, MetricRPS); a < 3*b {
		t.Errorf("db qps without cache %v, want well above %v with it", a, b)
	}
	if h := value(t, noCache, TierCache, MetricHitRatio); h != 0 {
		t.Errorf("hit ratio with no cache replicas %v, want 0", h)
	}
}

func TestValuesFiniteAndInRange(t *testing.T) {
	m := mustModel(t, nil)
	cfg := m.Config()
	rng := rand.New(rand.NewPCG(7, 11))
	span := int64(5 * 365 * 24 * time.Hour)
	for i := range 3000 {
		at := monday.Add(time.Duration(rng.Int64N(2*span) - span))
		ready := map[string]int{TierWeb: rng.IntN(60), TierCache: rng.IntN(30), TierDB: rng.IntN(20)}
		if i%10 == 0 {
			ready[TierDB] = -3 // nonsense counts are taken as none
		}
		for _, s := range m.Tick(at, ready) {
			tc, _ := cfg.tier(s.Tier)
			for k, v := range s.Values {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Fatalf("%s %s %s = %v at %v ready %v", s.Tier, k, at, v, at, ready)
				}
			}
			for _, k := range []string{MetricCPU, MetricMem, MetricErrorRate, MetricHitRatio} {
				if v, ok := s.Values[k]; ok && v > 1 {
					t.Fatalf("%s %s = %v > 1 at %v", s.Tier, k, v, at)
				}
			}
			p50, p95, p99 := s.Values[MetricLatencyP50], s.Values[MetricLatencyP95], s.Values[MetricLatencyP99]
			if !(p50 <= p95 && p95 <= p99 && p99 <= tc.TimeoutMs) {
				t.Fatalf("%s latencies %v/%v/%v out of order or above timeout %v at %v", s.Tier, p50, p95, p99, tc.TimeoutMs, at)
			}
			if p50 <= 0 {
				t.Fatalf("%s p50 %v not positive", s.Tier, p50)
			}
		}
	}
}

func TestNeededReplicas(t *testing.T) {
	m := mustModel(t, nil)
	tests := []struct {
		tier         string
		load, target float64
		want         int
	}{
		{TierWeb, 900, 1, 15},
		{TierWeb, 900, 0.75, 20},
		{TierWeb, 901, 1, 16},
		{TierCache, 3600, 1, 9},
		{TierDB, 600, 0.5, 8},
		{TierDB, 0, 0.7, 1},
		{TierDB, math.NaN(), 0.7, 1},
		{TierWeb, 120, 0, 2},   // invalid target taken as 1
		{TierWeb, 120, 1.5, 2}, // likewise
		{"queue", 100, 1, 0},
	}
	for _, tt := range tests {
		if got := m.NeededReplicas(tt.tier, tt.load, tt.target); got != tt.want {
			t.Errorf("NeededReplicas(%q, %v, %v) = %d, want %d", tt.tier, tt.load, tt.target, got, tt.want)
		}
	}
	at := monday.Add(19 * time.Hour)
	init := m.InitialReplicas(at, 0.7)
	s := m.Tick(at, init)
	for _, tier := range m.Config().TierNames() {
		if e := value(t, s, tier, MetricErrorRate); e > 0.02 && m.slowDB(at).latency == 1 {
			t.Errorf("%s at InitialReplicas %v: error rate %.3f", tier, init, e)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	tests := map[string]func(*Config){
		"app token":         func(c *Config) { c.App = "Shop!" },
		"trough above peak": func(c *Config) { c.Demand.Trough = 1000 },
		"nan noise":         func(c *Config) { c.Demand.Noise = math.NaN() },
		"burst past slot":   func(c *Config) { c.Bursts.MaxDuration = 4 * time.Hour },
		"spike below 1":     func(c *Config) { c.Spike.MinMagnitude = 0.5 },
		"spike hours":       func(c *Config) { c.Spike.LatestHour = 24 },
		"spike ramps":       func(c *Config) { c.Spike.MaxRamp = 10 * time.Minute },
		"slow-db capacity":  func(c *Config) { c.SlowDB.CapacityFactor = 0 },
		"web capacity":      func(c *Config) { c.Web.Capacity = 0 },
		"db workers":        func(c *Config) { c.DB.Workers = 0 },
		"cache timeout":     func(c *Config) { c.Cache.TimeoutMs = 0.1 },
		"hit ratio":         func(c *Config) { c.HitRatio = 1.2 },
	}
	for name, edit := range tests {
		cfg := DefaultConfig()
		edit(&cfg)
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: Validate accepted a bad config", name)
		}
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted a bad config", name)
		}
	}
}

func BenchmarkTick(b *testing.B) {
	m := mustModel(b, nil)
	ready := map[string]int{TierWeb: 16, TierCache: 10, TierDB: 7}
	b.ReportAllocs()
	at := monday
	for b.Loop() {
		m.Tick(at, ready)
		at = at.Add(15 * time.Second)
	}
}

func BenchmarkDemand(b *testing.B) {
	m := mustModel(b, nil)
	b.ReportAllocs()
	at := monday
	for b.Loop() {
		m.Demand(at)
		at = at.Add(15 * time.Second)
	}
}

func TestConcurrentCallsAgree(t *testing.T) {
	m := mustModel(t, nil)
	ready := map[string]int{TierWeb: 14, TierCache: 9, TierDB: 6}
	want := make([][]Sample, 200)
	for i := range want {
		want[i] = m.Tick(monday.Add(time.Duration(i)*time.Minute), ready)
	}
	errs := make(chan string, 4)
	for g := range 4 {
		go func() {
			for i := len(want) - 1 - g; i >= 0; i -= 4 {
				if got := m.Tick(monday.Add(time.Duration(i)*time.Minute), ready); !reflect.DeepEqual(got, want[i]) {
					errs <- "tick differs under concurrency"
					return
				}
			}
			errs <- ""
		}()
	}
	for range 4 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}

// TestTickWithDemand drives the model with an outside web demand: with the
// model's own demand it is Tick exactly; with another, web reports that
// demand and the lower tiers follow it.
func TestTickWithDemand(t *testing.T) {
	m, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	ready := map[string]int{TierWeb: 20, TierCache: 5, TierDB: 4}
	if got, want := m.TickWithDemand(at, ready, m.Demand(at)), m.Tick(at, ready); !reflect.DeepEqual(got, want) {
		t.Fatalf("TickWithDemand with the model's demand differs from Tick:\n%v\n%v", got, want)
	}
	low := m.TickWithDemand(at, ready, 50)
	high := m.TickWithDemand(at, ready, 500)
	if low[0].Values[MetricRPS] != 50 || high[0].Values[MetricRPS] != 500 {
		t.Fatalf("web rps %v and %v, want 50 and 500", low[0].Values[MetricRPS], high[0].Values[MetricRPS])
	}
	for i := 1; i < 3; i++ {
		if !(high[i].Values[MetricRPS] > 5*low[i].Values[MetricRPS]) {
			t.Errorf("%s load %v at 500 req/s vs %v at 50: does not follow the demand", high[i].Tier, high[i].Values[MetricRPS], low[i].Values[MetricRPS])
		}
	}
	if bad := m.TickWithDemand(at, ready, math.NaN()); bad[0].Values[MetricRPS] != 0 {
		t.Fatalf("NaN demand gave rps %v, want 0", bad[0].Values[MetricRPS])
	}
}
