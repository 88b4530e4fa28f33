package config

import (
	"time"

	"github.com/headroomhq/headroom/internal/scrape"
)

// Source kinds: where an app's metrics come from.
const (
	// SourceSim runs the simulated three-tier shop (web, cache, db).
	SourceSim = "sim"
	// SourceScrape scrapes each tier's Prometheus targets.
	SourceScrape = "scrape"
	// SourceTrace replays a CSV trace as the shop's web demand.
	SourceTrace = "trace"
	// SourcePush expects the app's ticks on the push API; nothing runs.
	SourcePush = "push"
)

// File is a loaded, validated configuration file.
type File struct {
	// Path is where it was read from.
	Path string
	// Push holds the push API's limits.
	Push Push
	// Limits bounds the series kept, with defaults filled in.
	Limits Limits
	// Apps lists the applications in name order.
	Apps []App
}

// Push holds the push API settings; zero fields keep ingest's defaults
// (or the collector's flags). Of its lists, only TrustedProxies replaces a
// flag's list, and so only its presence counts (TrustedProxiesSet: an
// empty list clears -push.trusted-proxies); Tokens add to -push.token
// rather than replace it, and AllowedOrigins has no flag to replace (the
// collector's push API allows no other origin without it), so for them an
// empty list and an absent key are the same. A list key given a flag must
// follow TrustedProxies' rule.
type Push struct {
	// Token, when set, must be sent as "Authorization: Bearer <token>". It
	// is required when a real executor driver is live, and on a collector
	// whose HTTP address is not loopback. It may push for every app; it may
	// be written as "sha256:<hex>" (see PushToken.Token).
	Token string `yaml:"token"`
	// TokenDigest is the SHA-256 of Token, filled by Parse when Token is set.
	TokenDigest [32]byte `yaml:"-"`
	// Tokens are further bearer tokens, each limited to the apps it
	// names, added to -push.token's (which only Token replaces).
	Tokens []PushToken `yaml:"tokens"`
	// RateLimit is each token's ticks per second (and, without a token,
	// all senders'), nil keeping ingest's default; 0 turns it off.
	RateLimit *float64 `yaml:"rate_limit"`
	// RateBurst is the most ticks a token may push at once (0 keeps
	// ingest's default).
	RateBurst int `yaml:"rate_burst"`
	// AuthFailLimit is the failed authentications per second one client
	// may make beyond AuthFailBurst in a row (ingest.Config.AuthFailLimit),
	// nil keeping -push.auth-fail-limit; 0 turns the limit off.
	AuthFailLimit *float64 `yaml:"auth_fail_limit"`
	// AuthFailBurst is the most failed authentications one client may
	// make in a row, nil keeping -push.auth-fail-burst; at least 1.
	AuthFailBurst *int `yaml:"auth_fail_burst"`
	// TrustedProxies lists the reverse proxies (CIDRs or addresses, see
	// ParseTrustedProxy) whose forwarding header (ForwardedHeader) names
	// the client whose failed authentications count; present in the
	// file, it replaces
	// -push.trusted-proxies, empty ("trusted_proxies: []") or null too,
	// which clears it (TrustedProxiesSet tells).
	TrustedProxies []string `yaml:"trusted_proxies"`
	// TrustedProxiesSet says the file has the key trusted_proxies, filled
	// by Parse: an empty list is then the file's, not the key's absence.
	TrustedProxiesSet bool `yaml:"-"`
	// ForwardedHeader is the header the trusted proxies append the
	// client's address to (see ForwardedHeader: X-Forwarded-For or
	// Forwarded); set, it replaces -push.forwarded-header.
	ForwardedHeader string        `yaml:"forwarded_header"`
	MaxBodyBytes    int64         `yaml:"max_body_bytes"`
	MaxFutureSkew   time.Duration `yaml:"max_future_skew"`
	MaxAge          time.Duration `yaml:"max_age"`
	MaxTicks        int           `yaml:"max_ticks"`
	// MaxConcurrent caps requests handled at once (429 beyond).
	MaxConcurrent int `yaml:"max_concurrent"`
	// ReadTimeout bounds the time to receive one request's body.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// AllowedOrigins lists the browser origins ("https://ops.example.com")
	// allowed besides the same origin; any other Origin header is refused.
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// Limits bounds how many series (app.tier) the collector accepts and the
// stateful services keep, so memory per series stays bounded; every source
// that admits new series and every service state map checks them with one
// definition (internal/limits).
type Limits struct {
	// MaxSeriesPerApp is the most tiers one app may have.
	MaxSeriesPerApp int `yaml:"max_series_per_app"`
	// MaxSeries is the most series in all.
	MaxSeries int `yaml:"max_series"`
	// IdleAfter is how long a series may send nothing before the services
	// drop its state (rebuilt from the stream's lookback if it comes back). Time is arrival:
	// the stream's stored timestamps (limits.Idle), so a replay of old
	// traffic next to live series is not idle.
	IdleAfter time.Duration `yaml:"idle_after"`
}

// DefaultLimits allows 1000 series per app and 10000 in all, and evicts a
// series idle for 6 hours.
func DefaultLimits() Limits {
	return Limits{MaxSeriesPerApp: 1000, MaxSeries: 10000, IdleAfter: 6 * time.Hour}
}

// LimitsOf returns f's series limits, or the defaults when f is nil.
func LimitsOf(f *File) Limits {
	if f == nil {
		return DefaultLimits()
	}
	return f.Limits
}

// App is one application.
type App struct {
	// Name is the app token used in subjects.
	Name string
	// Source is SourceSim, SourceScrape, SourceTrace or SourcePush.
	Source string
	// Mode says how the executor acts on the app's decisions: "live",
	// "dry-run" or "shadow" (simulated cluster only); empty means live.
	Mode   string
	Sim    Sim
	Trace  Trace
	Scrape Scrape
	// Tiers lists the tiers in file order.
	Tiers []Tier

	policy rawPolicy
}

// Sim configures the simulated shop source.
type Sim struct {
	// Seed selects the shop's noise and incidents; 0 keeps the default.
	Seed int64 `yaml:"seed"`
	// Backfill is the history published at start; nil keeps the default.
	Backfill *time.Duration `yaml:"backfill"`
}

// Trace configures the trace source: a CSV file replayed as the shop's web
// demand, the shop model computing every other metric.
type Trace struct {
	// File is the CSV path, relative to the configuration file's folder.
	File string `yaml:"file"`
	// Column names the demand column; "" takes the only (or first) one.
	Column string `yaml:"column"`
	// Scale multiplies every demand value; 0 means 1.
	Scale float64 `yaml:"scale"`
	// Speed is trace seconds per real second; 0 replays as fast as the
	// pipeline allows.
	Speed float64 `yaml:"speed"`
	// Start shifts the trace so its first row is at this time; zero keeps
	// the file's timestamps.
	Start time.Time `yaml:"start"`
}

// Scrape configures the scrape source's timing; targets and mappings are
// per tier.
type Scrape struct {
	// Interval is the time between scrapes and the event-time step.
	Interval time.Duration `yaml:"interval"`
	// Timeout bounds one target's scrape, retries included.
	Timeout time.Duration `yaml:"timeout"`
	// Retries is how many times a failed target is retried within a round.
	Retries int `yaml:"retries"`
	// MaxSamples bounds the sample lines of one target's exposition, and
	// at scrape.LabelsPerSample times it their labels together, counted
	// while it is read (scrape.Limits); 0 is scrape.MaxSamples. A target
	// of many histograms (a dozen buckets, _sum and _count: 14 lines each)
	// may need it raised, at about 200 bytes of the collector's heap per
	// line and 100 per label while it is parsed.
	MaxSamples int `yaml:"max_samples"`
}

// Tier is one tier of an app.
type Tier struct {
	// Name is the tier token.
	Name string
	// Targets are the tier's /metrics URLs (scrape source); each answering
	// target counts as a ready replica unless a "replicas" rule says otherwise.
	Targets []string
	// Metrics map Prometheus series to the tier's values (scrape source).
	Metrics []scrape.Rule
	// Workload names the Kubernetes workload running the tier, as
	// "namespace/deployment/name" or "namespace/statefulset/name", for the
	// executor's kubernetes driver; empty when none.
	Workload string

	policy rawTierPolicy
}

// The raw forms mirror the YAML; pointers tell an absent field (keep the
// default) from a zero one.

type rawFile struct {
	Push   Push              `yaml:"push"`
	Limits Limits            `yaml:"limits"`
	Apps   map[string]rawApp `yaml:"apps"`
}

type rawApp struct {
	Source string    `yaml:"source"`
	Mode   string    `yaml:"mode"`
	Sim    Sim       `yaml:"sim"`
	Trace  Trace     `yaml:"trace"`
	Scrape Scrape    `yaml:"scrape"`
	Policy rawPolicy `yaml:"policy"`
	Tiers  []rawTier `yaml:"tiers"`
}

type rawPolicy struct {
	Tick              *time.Duration `yaml:"tick"`
	BudgetPerHour     *float64       `yaml:"budget_per_hour"`
	LevelWindow       *time.Duration `yaml:"level_window"`
	CalibrationWindow *time.Duration `yaml:"calibration_window"`
	MinCalibration    *int           `yaml:"min_calibration"`
	DefaultHeadroom   *float64       `yaml:"default_headroom"`
	ForecastWeight    *float64       `yaml:"forecast_weight"`
	// ForecastWeightLead: the lead time forecast_weight is meant for;
	// tiers with longer leads weight the forecast more (0 turns it off).
	ForecastWeightLead *time.Duration `yaml:"forecast_weight_lead"`
	// OutageHold: how long a tier keeps its replicas while its load is a
	// flat line far below them, a feed or the traffic cut off (0 turns it off).
	OutageHold *time.Duration `yaml:"outage_hold"`
	// RampLead: how far past the tick the ramp guard carries a rise on,
	// at most (0: over the tier's whole lead window).
	RampLead *time.Duration `yaml:"ramp_lead"`
	// JumpLead: how far past the tick the jump guard learns how far a
	// fresh jump goes on rising, at most (0: the tier's whole lead window).
	JumpLead *time.Duration `yaml:"jump_lead"`
	// UpstreamSurges: the tiers behind another follow its ramp, scaled by
	// their learned load ratio, as well as their own.
	UpstreamSurges *bool `yaml:"upstream_surges"`
	// RampSigmas: the ramp guard acts when the load rose in each of the
	// last two ticks by more than this many typical one-tick changes (0
	// turns it off).
	RampSigmas *float64 `yaml:"ramp_sigmas"`
	// JumpSigmas: the jump guard keeps the base at least the current load
	// less this many typical one-minute changes (0 turns it off).
	JumpSigmas *float64 `yaml:"jump_sigmas"`
	// JumpBin: calibrate the ticks the jump guard lifts apart.
	JumpBin *bool `yaml:"jump_bin"`
	// JumpFallBin: calibrate jumped ticks whose load fell since the tick
	// before apart from those still rising.
	JumpFallBin *bool `yaml:"jump_fall_bin"`
	// RiseBin: calibrate apart the ticks whose forecast expects a rise over
	// the lead window beyond this share of the base (0 turns it off).
	RiseBin *float64 `yaml:"rise_bin"`
	// HPAGuardTarget: never want fewer replicas than the Kubernetes HPA
	// rule at this target (0 turns it off).
	HPAGuardTarget *float64 `yaml:"hpa_guard_target"`
	// ShortStabilization: the shorter scale-down window a tier may choose
	// when holding replicas does not pay (0 turns the choice off).
	ShortStabilization *time.Duration `yaml:"short_stabilization"`
	// HoldWorth: misses the full scale-down window must prevent per unit of
	// relative extra replicas for a tier to keep it.
	HoldWorth *float64 `yaml:"hold_worth"`
	// SeasonalPeaks: the seasonal guard (expect again a rise seen at this
	// time of day on each of the last two days).
	SeasonalPeaks *bool `yaml:"seasonal_peaks"`
	// PhasePeaks: the hour-phase guard beside the seasonal one (needs
	// seasonal_peaks).
	PhasePeaks *bool `yaml:"phase_peaks"`
	// SkillQuantiles: the quantiles each tier's skill selector may run
	// beside its own (an empty list turns the selector off).
	SkillQuantiles *[]float64 `yaml:"skill_quantiles"`
	// ReactiveHeadroom: the least headroom over the current load always
	// provisioned (0 or 1: the load itself).
	ReactiveHeadroom *float64 `yaml:"reactive_headroom"`
}

type rawTierPolicy struct {
	LoadMetric             *string        `yaml:"load_metric"`
	Capacity               *float64       `yaml:"capacity"`
	Target                 *float64       `yaml:"target"`
	Quantile               *float64       `yaml:"quantile"`
	LeadTime               *time.Duration `yaml:"lead_time"`
	Min                    *int           `yaml:"min"`
	Max                    *int           `yaml:"max"`
	MaxStep                *int           `yaml:"max_step"`
	ScaleDownStabilization *time.Duration `yaml:"scale_down_stabilization"`
	CooldownUp             *time.Duration `yaml:"cooldown_up"`
	CooldownDown           *time.Duration `yaml:"cooldown_down"`
	Priority               *int           `yaml:"priority"`
	CostPerReplicaHour     *float64       `yaml:"cost_per_replica_hour"`
	Upstream               *string        `yaml:"upstream"`
}

type rawTier struct {
	Name          string `yaml:"name"`
	Workload      string `yaml:"workload"`
	rawTierPolicy `yaml:",inline"`
	Scrape        rawTierScrape `yaml:"scrape"`
}

type rawTierScrape struct {
	Targets []string  `yaml:"targets"`
	Metrics []rawRule `yaml:"metrics"`
}

type rawRule struct {
	Name     string            `yaml:"name"`
	Series   string            `yaml:"series"`
	Kind     string            `yaml:"kind"`
	Match    map[string]string `yaml:"match"`
	Over     map[string]string `yaml:"over"`
	Quantile float64           `yaml:"quantile"`
	Scale    float64           `yaml:"scale"`
	Agg      string            `yaml:"agg"`
}
