package shop

import (
	"fmt"
	"math"
	"time"
)

// Model is the application model. It holds only configuration and tables
// derived from it, so its methods are pure functions of their arguments: calls
// need not be sequential and may run concurrently.
type Model struct {
	cfg   Config
	daily []float64 // normalised weekday profile per minute, see dailyTable
}

// Sample is one tick of one tier.
type Sample struct {
	// Tier is "web", "cache" or "db".
	Tier string
	// Ready is the number of ready replicas the metrics were computed with.
	Ready int
	// Values holds the metrics by name (MetricRPS, MetricCPU, …).
	Values map[string]float64
}

// New validates cfg and builds a model.
func New(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new shop model: %w", err)
	}
	return &Model{cfg: cfg, daily: dailyTable()}, nil
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// Tick returns every tier's metrics at event time t, given each tier's ready
// replicas (a missing tier has none), in TierNames order. Load flows down:
// the web tier's accepted requests make the cache operations, and cache misses
// (including failed cache calls) make the database queries. Web latency and
// errors include the time spent in, and the failures of, the database.
func (m *Model) Tick(t time.Time, ready map[string]int) []Sample {
	return m.TickWithDemand(t, ready, m.Demand(t))
}

// TickWithDemand is Tick with the web tier's offered load given (requests
// per second, e.g. from a recorded trace) instead of the model's own
// demand. Everything else (the cache's hit ratio, slow-database incidents,
// noise) still follows the model at t. A negative or non-finite demand
// counts as none.
func (m *Model) TickWithDemand(t time.Time, ready map[string]int, demand float64) []Sample {
	cfg := m.cfg
	nWeb, nCache, nDB := max(0, ready[TierWeb]), max(0, ready[TierCache]), max(0, ready[TierDB])
	if !(demand >= 0) || math.IsInf(demand, 0) {
		demand = 0
	}

	web := evalTier(cfg.Web, nWeb, demand, 1, 1, 0)

	cache := evalTier(cfg.Cache, nCache, web.served*cfg.CacheCallsPerRequest, 1, 1, 0)
	hit := m.hitRatio(t, cache.util)
	// A failed cache call falls back to the database, like a miss.
	good := hit * (1 - cache.errRate)
	perRequest := cfg.DBQueriesPerRequest * (1 - good) // db queries per web request

	slow := m.slowDB(t)
	db := evalTier(cfg.DB, nDB, web.served*perRequest, slow.capacity, slow.latency, slow.errors)

	// The web tier waits on its downstream calls: medians add up, and the
	// tail is set by the slowest downstream tail.
	var webLat [3]float64
	for i := range webLat {
		down := cfg.CacheCallsPerRequest*cache.latMs[0] + perRequest*db.latMs[0] +
			math.Max(cache.latMs[i]-cache.latMs[0], db.latMs[i]-db.latMs[0])
		webLat[i] = math.Min(cfg.Web.TimeoutMs, web.latMs[i]+down)
	}
	if nWeb == 0 {
		webLat = web.latMs
	}
	webErr := clamp01(1 - (1-web.errRate)*math.Pow(1-db.errRate, perRequest))

	return []Sample{
		m.sample(t, TierWeb, 0, nWeb, web, webLat, webErr, -1),
		m.sample(t, TierCache, 1, nCache, cache, cache.latMs, cache.errRate, good),
		m.sample(t, TierDB, 2, nDB, db, db.latMs, db.errRate, -1),
	}
}

// hitRatio is the cache's hit ratio at t: a slow wander around the configured
// ratio, pulled down as the cache tier nears saturation.
func (m *Model) hitRatio(t time.Time, cacheUtil float64) float64 {
	cfg := m.cfg
	h := cfg.HitRatio + cfg.HitRatioNoise*math.Tanh(valueNoise(cfg.Seed, streamHitRatio, t, 20*time.Minute))
	h -= cfg.SaturationMissRise * smoothstep((cacheUtil-0.85)/0.15)
	return clamp01(h)
}

// Metric noise offsets within a tier's stream block.
const (
	noiseCPU = iota
	noiseMem
	noiseLatency
)

// sample builds one tier's Sample with a little measurement noise. hit < 0
// means the tier reports no hit ratio.
func (m *Model) sample(t time.Time, tier string, idx, ready int, st tierState, lat [3]float64, errRate, hit float64) Sample {
	tc, _ := m.cfg.tier(tier)
	seed := m.cfg.Seed
	stream := streamMetric + uint64(idx)*16
	v := make(map[string]float64, 8)
	v[MetricRPS] = st.offered
	if ready > 0 {
		v[MetricCPU] = clamp01(tc.BaseCPU + (1-tc.BaseCPU)*st.util + 0.01*whiteNoise(seed, stream+noiseCPU, t))
		v[MetricMem] = clamp01(tc.BaseMem + tc.MemPerLoad*st.util + 0.01*valueNoise(seed, stream+noiseMem, t, 10*time.Minute))
	} else {
		v[MetricCPU], v[MetricMem] = 0, 0
	}
	// One jitter factor for all percentiles keeps them ordered.
	jitter := 1.0
	if ready > 0 {
		jitter = math.Exp(0.04 * whiteNoise(seed, stream+noiseLatency, t))
	}
	v[MetricLatencyP50] = math.Min(tc.TimeoutMs, lat[0]*jitter)
	v[MetricLatencyP95] = math.Min(tc.TimeoutMs, lat[1]*jitter)
	v[MetricLatencyP99] = math.Min(tc.TimeoutMs, lat[2]*jitter)
	v[MetricErrorRate] = errRate
	if hit >= 0 {
		v[MetricHitRatio] = hit
	}
	return Sample{Tier: tier, Ready: ready, Values: v}
}

// NominalLoads returns each tier's offered load at t (web req/s, cache ops/s,
// db queries/s) assuming every tier has ample capacity and the cache hits at
// its typical ratio.
func (m *Model) NominalLoads(t time.Time) map[string]float64 {
	web := m.Demand(t)
	return map[string]float64{
		TierWeb:   web,
		TierCache: web * m.cfg.CacheCallsPerRequest,
		TierDB:    web * m.cfg.DBQueriesPerRequest * (1 - m.cfg.HitRatio),
	}
}

// NeededReplicas reports, for a tier and a load (in the tier's unit), how
// many replicas keep utilisation at or below target; at least 1. A target
// outside (0, 1] is taken as 1; an unknown tier needs 0.
func (m *Model) NeededReplicas(tier string, load float64, target float64) int {
	tc, ok := m.cfg.tier(tier)
	if !ok {
		return 0
	}
	if !(target > 0 && target <= 1) {
		target = 1
	}
	if !(load > 0) || math.IsInf(load, 0) {
		return 1
	}
	return max(1, int(math.Ceil(load/(tc.Capacity*target)-1e-9)))
}

// InitialReplicas returns, per tier, the replicas that keep utilisation at
// target under the nominal loads at t; handy to seed the simulated cluster.
func (m *Model) InitialReplicas(t time.Time, target float64) map[string]int {
	out := make(map[string]int, 3)
	for tier, load := range m.NominalLoads(t) {
		out[tier] = m.NeededReplicas(tier, load, target)
	}
	return out
}
