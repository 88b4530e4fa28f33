package shop

import "time"

// Tier names, in dependency order: web calls cache, cache misses go to db.
const (
	// TierWeb serves the shop's pages and API; its rps is the demand.
	TierWeb = "web"
	// TierCache is the key-value cache the web tier reads first.
	TierCache = "cache"
	// TierDB is the database behind the cache.
	TierDB = "db"
)

// Metric names emitted per tier; they are the collector's contract.
const (
	// MetricRPS is the tier's offered load: web requests/s, cache ops/s or
	// db queries/s.
	MetricRPS = "rps"
	// MetricCPU is utilisation in [0, 1], including an idle base.
	MetricCPU = "cpu"
	// MetricMem is memory use in [0, 1].
	MetricMem = "mem"
	// MetricLatencyP50 is the median latency in milliseconds.
	MetricLatencyP50 = "latency_p50_ms"
	// MetricLatencyP95 is the 95th percentile latency in milliseconds.
	MetricLatencyP95 = "latency_p95_ms"
	// MetricLatencyP99 is the 99th percentile latency in milliseconds.
	MetricLatencyP99 = "latency_p99_ms"
	// MetricErrorRate is the failed share of offered load, in [0, 1].
	MetricErrorRate = "error_rate"
	// MetricHitRatio is the cache's share of operations that hit, in [0, 1];
	// only the cache tier reports it.
	MetricHitRatio = "hit_ratio"
)

// Config describes the shop: its demand, its tiers and its incident schedule.
// Build one with DefaultConfig and adjust fields; a zero Config is invalid.
type Config struct {
	// App is the application token used in subjects ("shop").
	App string
	// Seed selects the noise, the bursts and the incident schedule.
	Seed int64

	// Demand shapes the web tier's offered load.
	Demand DemandConfig
	// Bursts are short everyday surges of demand.
	Bursts BurstConfig
	// Spike schedules the large traffic-spike incidents.
	Spike SpikeConfig
	// SlowDB schedules the slow-database incidents.
	SlowDB SlowDBConfig

	// Web, Cache and DB describe each tier's replicas.
	Web, Cache, DB TierConfig

	// CacheCallsPerRequest is the number of cache operations per web request.
	CacheCallsPerRequest float64
	// DBQueriesPerRequest is the number of lookups per web request that go
	// to the database when they miss the cache.
	DBQueriesPerRequest float64
	// HitRatio is the cache's typical hit ratio; it wanders a little and
	// falls when the cache tier saturates.
	HitRatio float64
	// HitRatioNoise is the amplitude of the hit ratio's slow wandering.
	HitRatioNoise float64
	// SaturationMissRise is how far the hit ratio falls when the cache tier
	// is fully saturated (evictions and timeouts become misses).
	SaturationMissRise float64
}

// DemandConfig shapes the web tier's demand in requests per second.
type DemandConfig struct {
	// Trough and Peak are the weekday night minimum and evening maximum of
	// the seasonal profile, before trend, noise, bursts and incidents.
	Trough, Peak float64
	// WeekendFactor scales Saturday and Sunday demand (UTC days).
	WeekendFactor float64
	// WeeklyGrowth is the trend's growth per week (0.05 = +5 %/week).
	WeeklyGrowth float64
	// TrendStart is where the trend factor is 1. The zero time switches the
	// trend off. Two processes agree only if they share TrendStart; see
	// TrendAnchor.
	TrendStart time.Time
	// TrendMaxWeeks caps how many weeks of growth accumulate, keeping
	// far-future demand bounded.
	TrendMaxWeeks float64
	// DayToDay is the standard deviation of a slowly varying daily level
	// factor (log scale).
	DayToDay float64
	// Noise is the standard deviation (log scale) of the multiplicative
	// noise, split between slow (5 min), medium (1 min) and per-second parts.
	Noise float64
}

// BurstConfig describes short, everyday surges (a newsletter, a post going
// viral for a few minutes). Time is cut into slots; each slot holds at most one.
type BurstConfig struct {
	// Slot is the length of a scheduling slot.
	Slot time.Duration
	// Probability is the chance a slot holds a burst.
	Probability float64
	// MinDuration and MaxDuration bound a burst's length.
	MinDuration, MaxDuration time.Duration
	// MinMagnitude and MaxMagnitude bound the relative extra demand (0.3 = +30 %).
	MinMagnitude, MaxMagnitude float64
}

// SpikeConfig schedules traffic-spike incidents: at most one per UTC day.
type SpikeConfig struct {
	// Probability is the chance a given day has a spike; 0 disables spikes.
	Probability float64
	// EarliestHour and LatestHour bound the UTC hour a spike may start in.
	EarliestHour, LatestHour int
	// MinDuration and MaxDuration bound the spike's length, ramps included.
	MinDuration, MaxDuration time.Duration
	// MinRamp and MaxRamp bound the ramp up (and down) time.
	MinRamp, MaxRamp time.Duration
	// MinMagnitude and MaxMagnitude bound the demand multiplier at the top.
	MinMagnitude, MaxMagnitude float64
}

// SlowDBConfig schedules slow-database incidents: queries slow down and fail
// more often while demand is unchanged. At most one per UTC day.
type SlowDBConfig struct {
	// Probability is the chance a given day has one; 0 disables them.
	Probability float64
	// MinDuration and MaxDuration bound the incident's length.
	MinDuration, MaxDuration time.Duration
	// MinMagnitude and MaxMagnitude bound the db latency multiplier.
	MinMagnitude, MaxMagnitude float64
	// CapacityFactor scales db capacity during the incident (slow queries
	// hold connections longer).
	CapacityFactor float64
	// ErrorPerMagnitude is the extra db error rate per unit of magnitude
	// (0.01 with magnitude 8 adds 8 % errors).
	ErrorPerMagnitude float64
	// Ramp is how long the incident takes to set in and to clear.
	Ramp time.Duration
}

// TierConfig describes one tier's replicas and their performance.
type TierConfig struct {
	// Capacity is what one replica serves per second at full utilisation.
	Capacity float64
	// Workers is the number of requests a replica serves concurrently; the
	// replica is modelled as that many servers sharing its capacity.
	Workers int
	// LatencyMs is the median service time at low load, in milliseconds.
	LatencyMs float64
	// LatencySpread is the log-normal sigma of the service time.
	LatencySpread float64
	// TimeoutMs caps latency; requests queued longer fail.
	TimeoutMs float64
	// BaseCPU is the utilisation of an idle replica.
	BaseCPU float64
	// BaseMem and MemPerLoad give memory use: BaseMem + MemPerLoad × utilisation.
	BaseMem, MemPerLoad float64
	// BaseErrorRate is the background error rate of a healthy tier.
	BaseErrorRate float64
}

// DefaultConfig returns a believable online shop: 150–900 web req/s, peak in
// the UTC evening, quieter weekends, +5 %/week growth (once TrendStart is
// set), a few bursts a day, a spike and a slow-db incident most days.
func DefaultConfig() Config {
	return Config{
		App:  "shop",
		Seed: 1,
		Demand: DemandConfig{
			Trough:        150,
			Peak:          900,
			WeekendFactor: 0.75,
			WeeklyGrowth:  0.05,
			TrendMaxWeeks: 12,
			DayToDay:      0.04,
			Noise:         0.05,
		},
		Bursts: BurstConfig{
			Slot:         3 * time.Hour,
			Probability:  0.6,
			MinDuration:  3 * time.Minute,
			MaxDuration:  10 * time.Minute,
			MinMagnitude: 0.3,
			MaxMagnitude: 0.8,
		},
		Spike: SpikeConfig{
			Probability:  0.9,
			EarliestHour: 8,
			LatestHour:   21,
			MinDuration:  15 * time.Minute,
			MaxDuration:  35 * time.Minute,
			MinRamp:      3 * time.Minute,
			MaxRamp:      6 * time.Minute,
			MinMagnitude: 2,
			MaxMagnitude: 3,
		},
		SlowDB: SlowDBConfig{
			Probability:       0.8,
			MinDuration:       15 * time.Minute,
			MaxDuration:       45 * time.Minute,
			MinMagnitude:      5,
			MaxMagnitude:      10,
			CapacityFactor:    0.75,
			ErrorPerMagnitude: 0.008,
			Ramp:              time.Minute,
		},
		Web: TierConfig{
			Capacity: 60, Workers: 4, LatencyMs: 25, LatencySpread: 0.45, TimeoutMs: 10000,
			BaseCPU: 0.05, BaseMem: 0.3, MemPerLoad: 0.35, BaseErrorRate: 0.001,
		},
		Cache: TierConfig{
			Capacity: 400, Workers: 1, LatencyMs: 0.6, LatencySpread: 0.5, TimeoutMs: 200,
			BaseCPU: 0.03, BaseMem: 0.6, MemPerLoad: 0.1, BaseErrorRate: 0.0002,
		},
		DB: TierConfig{
			Capacity: 150, Workers: 8, LatencyMs: 6, LatencySpread: 0.7, TimeoutMs: 2000,
			BaseCPU: 0.08, BaseMem: 0.55, MemPerLoad: 0.2, BaseErrorRate: 0.0005,
		},
		CacheCallsPerRequest: 4,
		DBQueriesPerRequest:  6,
		HitRatio:             0.85,
		HitRatioNoise:        0.02,
		SaturationMissRise:   0.15,
	}
}

// TrendAnchor returns a TrendStart for a run starting at now that backfills
// the given history: the start of the backfill, truncated to the UTC day, so
// every process started the same day agrees on the trend.
func TrendAnchor(now time.Time, backfill time.Duration) time.Time {
	return now.Add(-backfill).UTC().Truncate(24 * time.Hour)
}

// TierNames lists the tiers in dependency order: "web", "cache", "db".
func (c Config) TierNames() []string {
	return []string{TierWeb, TierCache, TierDB}
}

// tier returns the configuration of the named tier.
func (c Config) tier(name string) (TierConfig, bool) {
	switch name {
	case TierWeb:
		return c.Web, true
	case TierCache:
		return c.Cache, true
	case TierDB:
		return c.DB, true
	}
	return TierConfig{}, false
}
