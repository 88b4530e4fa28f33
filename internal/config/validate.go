package config

import (
	"crypto/sha256"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/headroomhq/headroom/internal/limits"
	"github.com/headroomhq/headroom/internal/policy"
	"github.com/headroomhq/headroom/internal/redact"
	"github.com/headroomhq/headroom/internal/scrape"
	"github.com/headroomhq/headroom/proto"
)

// simTiers are the tiers the simulated shop model has.
var simTiers = []string{"web", "cache", "db"}

// ValidationBase is the policy Load validates apps against: the default
// three-tier policy with the decider's default 15 s tick.
func ValidationBase() policy.AppConfig {
	p := policy.DefaultAppConfig()
	p.Tick = 15 * time.Second
	return p
}

type validator struct {
	file string
	ix   *index
	dir  string
	errs []*Error
}

func (v *validator) errf(path, format string, a ...any) {
	v.errs = append(v.errs, &Error{File: v.file, Line: v.ix.line(path), Field: path, Msg: fmt.Sprintf(format, a...)})
}

func (v *validator) root(raw rawFile) *File {
	f := &File{Push: raw.Push}
	p := raw.Push
	if p.MaxBodyBytes < 0 {
		v.errf("push.max_body_bytes", "%d is negative", p.MaxBodyBytes)
	}
	if p.MaxFutureSkew < 0 {
		v.errf("push.max_future_skew", "%v is negative", p.MaxFutureSkew)
	}
	if p.MaxAge < 0 {
		v.errf("push.max_age", "%v is negative", p.MaxAge)
	}
	if p.MaxTicks < 0 {
		v.errf("push.max_ticks", "%d is negative", p.MaxTicks)
	}
	if p.MaxConcurrent < 0 {
		v.errf("push.max_concurrent", "%d is negative", p.MaxConcurrent)
	}
	if p.ReadTimeout < 0 {
		v.errf("push.read_timeout", "%v is negative", p.ReadTimeout)
	}
	for i, o := range p.AllowedOrigins {
		if err := CheckOrigin(o); err != nil {
			v.errf(fmt.Sprintf("push.allowed_origins[%d]", i), "%v", err)
		}
	}
	if p.AuthFailLimit != nil {
		if err := CheckRate(*p.AuthFailLimit, "failed authentications"); err != nil {
			v.errf("push.auth_fail_limit", "%v", err)
		}
	}
	if p.AuthFailBurst != nil {
		if err := CheckBurst(*p.AuthFailBurst); err != nil {
			v.errf("push.auth_fail_burst", "%v", err)
		}
	}
	_, f.Push.TrustedProxiesSet = v.ix.lines["push.trusted_proxies"]
	for i, t := range p.TrustedProxies {
		if _, err := ParseTrustedProxy(t); err != nil {
			v.errf(fmt.Sprintf("push.trusted_proxies[%d]", i), "%v", err)
		}
	}
	if p.ForwardedHeader != "" {
		h, err := ForwardedHeader(p.ForwardedHeader)
		if err != nil {
			v.errf("push.forwarded_header", "%v", err)
		}
		f.Push.ForwardedHeader = h
	}
	v.pushTokens(&f.Push)
	f.Limits = DefaultLimits()
	if n := raw.Limits.MaxSeriesPerApp; n < 0 {
		v.errf("limits.max_series_per_app", "%d is negative", n)
	} else if n > 0 {
		f.Limits.MaxSeriesPerApp = n
	}
	if n := raw.Limits.MaxSeries; n < 0 {
		v.errf("limits.max_series", "%d is negative", n)
	} else if n > 0 {
		f.Limits.MaxSeries = n
	}
	if d := raw.Limits.IdleAfter; d < 0 {
		v.errf("limits.idle_after", "%v is negative", d)
	} else if d > 0 {
		f.Limits.IdleAfter = d
	}
	if len(raw.Apps) == 0 {
		v.errf("apps", "no applications: want at least one under apps")
	}
	names := make([]string, 0, len(raw.Apps))
	for n := range raw.Apps {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		f.Apps = append(f.Apps, v.app(n, raw.Apps[n]))
	}
	v.tokenSources(f)
	// The configured series count against the same limits as pushed ones
	// (one definition, internal/limits): a file whose scrape, trace or sim
	// apps alone pass them is refused, naming the limit.
	admit := limits.NewSeries(f.Limits.MaxSeriesPerApp, f.Limits.MaxSeries)
	for _, k := range f.Series() {
		if err := admit.Admit(k.App, k.Tier); err != nil {
			v.errf("apps."+k.App+".tiers", "%v", err)
			break
		}
	}
	return f
}

// tokenSources refuses a push token that names exactly an app whose
// source is not push: every push of its would be refused (409), so the
// file is wrong, and said so at start. A pattern that happens to match
// such an app is not refused ("*", "shop-*" grant many apps, some pushed):
// its pushes for that app are refused at the push API, 409. The token is
// named unless its name is the token itself (refused already, and never
// quoted). An app whose source is missing or unknown is refused for that
// alone: the token's error would only repeat it, less clearly.
func (v *validator) tokenSources(f *File) {
	for i, t := range f.Push.Tokens {
		name := fmt.Sprintf(" %q", t.Name)
		if t.Digest == sha256.Sum256([]byte(t.Name)) {
			name = ""
		}
		for j, a := range t.Apps {
			if strings.Contains(a, "*") {
				continue
			}
			app, ok := f.App(a)
			if !ok || !slices.Contains([]string{SourceSim, SourceScrape, SourceTrace}, app.Source) {
				continue
			}
			v.errf(fmt.Sprintf("push.tokens[%d].apps[%d]", i, j), "token%s names app %s, whose source is %s, not push: the push API refuses every push for it (409); drop it from the token's apps, or give the app source: push", name, a, app.Source)
		}
	}
}

// Series lists the series (app.tier) the file's sources produce: each
// app's tiers, or the simulated shop's tiers for a sim or trace app that
// lists none. Pushed apps may bring more, within the limits.
func (f *File) Series() []limits.Key {
	var out []limits.Key
	for _, a := range f.Apps {
		if len(a.Tiers) == 0 && (a.Source == SourceSim || a.Source == SourceTrace) {
			for _, t := range simTiers {
				out = append(out, limits.Key{App: a.Name, Tier: t})
			}
			continue
		}
		for _, t := range a.Tiers {
			out = append(out, limits.Key{App: a.Name, Tier: t.Name})
		}
	}
	return out
}

func (v *validator) app(name string, r rawApp) App {
	at := "apps." + name
	a := App{Name: name, Source: r.Source, Mode: r.Mode, Sim: r.Sim, Trace: r.Trace, Scrape: r.Scrape, policy: r.Policy}
	switch r.Mode {
	case "", "live", "dry-run", "shadow":
	default:
		v.errf(at+".mode", "%q: want live, dry-run or shadow", r.Mode)
	}
	before := len(v.errs)
	if !proto.ValidToken(name) {
		v.errf(at, "app name %q: want 1 to 64 characters of [a-z0-9_-]", name)
	}
	switch r.Source {
	case SourceSim, SourceTrace:
		for i, t := range r.Tiers {
			if !slices.Contains(simTiers, t.Name) {
				v.errf(fmt.Sprintf("%s.tiers[%d].name", at, i), "%q: the %s source models the shop's tiers %s", t.Name, r.Source, strings.Join(simTiers, ", "))
			}
		}
	case SourceScrape, SourcePush:
		if len(r.Tiers) == 0 {
			v.errf(at+".tiers", "no tiers: a %s app lists its tiers", r.Source)
		}
	case "":
		v.errf(at+".source", "missing: want sim, scrape, trace or push")
	default:
		v.errf(at+".source", "%q: want sim, scrape, trace or push", r.Source)
	}
	if b := r.Sim.Backfill; b != nil && (*b < 0 || *b > 30*24*time.Hour) {
		v.errf(at+".sim.backfill", "%v: want 0 to 720h", *b)
	}
	if r.Source == SourceTrace {
		v.trace(at+".trace", &a.Trace)
	} else if r.Trace.File != "" {
		v.errf(at+".trace", "only used with source: trace")
	}
	if r.Source == SourceScrape {
		v.scrapeTiming(at+".scrape", &a.Scrape)
	}
	for i, rt := range r.Tiers {
		a.Tiers = append(a.Tiers, v.tier(fmt.Sprintf("%s.tiers[%d]", at, i), r.Source, rt))
	}
	seen := map[string]bool{}
	for i, t := range a.Tiers {
		if seen[t.Name] {
			v.errf(fmt.Sprintf("%s.tiers[%d].name", at, i), "tier %q listed twice", t.Name)
		}
		seen[t.Name] = true
	}
	v.policy(at, &a, before)
	return a
}

func (v *validator) trace(at string, t *Trace) {
	if t.File == "" {
		v.errf(at+".file", "missing: the CSV trace to replay")
	} else {
		if !filepath.IsAbs(t.File) {
			t.File = filepath.Join(v.dir, t.File)
		}
		if st, err := os.Stat(t.File); err != nil {
			v.errf(at+".file", "%v", err)
		} else if st.IsDir() {
			v.errf(at+".file", "%s is a folder", t.File)
		}
	}
	if t.Speed < 0 {
		v.errf(at+".speed", "%v is negative", t.Speed)
	}
	if t.Scale < 0 {
		v.errf(at+".scale", "%v is negative", t.Scale)
	}
}

func (v *validator) scrapeTiming(at string, s *Scrape) {
	if s.Interval == 0 {
		s.Interval = 15 * time.Second
	}
	if s.Interval < time.Second {
		v.errf(at+".interval", "%v: want at least 1s", s.Interval)
	}
	if s.Timeout == 0 {
		s.Timeout = min(10*time.Second, s.Interval)
	}
	if s.Timeout < 0 || s.Timeout > s.Interval {
		v.errf(at+".timeout", "%v: want a positive time no longer than the interval %v", s.Timeout, s.Interval)
	}
	if s.Retries < 0 || s.Retries > 10 {
		v.errf(at+".retries", "%d: want 0 to 10", s.Retries)
	}
	if s.MaxSamples == 0 {
		s.MaxSamples = scrape.MaxSamples
	}
	if s.MaxSamples < 0 || s.MaxSamples > maxScrapeSamples {
		v.errf(at+".max_samples", "%d: want 1 to %d (0: %d)", s.MaxSamples, maxScrapeSamples, scrape.MaxSamples)
	}
}

// maxScrapeSamples bounds scrape.max_samples: ten times the default, about
// 200 MB of the collector's heap for one target's exposition while parsed,
// already more lines than a 32 MiB body (scrape.MaxBody) of realistic
// series holds.
const maxScrapeSamples = 10 * scrape.MaxSamples

func (v *validator) tier(at, source string, r rawTier) Tier {
	t := Tier{Name: r.Name, Targets: r.Scrape.Targets, Metrics: toRules(r.Scrape.Metrics), Workload: r.Workload, policy: r.rawTierPolicy}
	if !proto.ValidToken(r.Name) {
		v.errf(at+".name", "%q: want 1 to 64 characters of [a-z0-9_-]", r.Name)
	}
	if r.Workload != "" {
		parts := strings.Split(r.Workload, "/")
		if len(parts) != 3 || !DNSLabel(parts[0]) || !DNSSubdomain(parts[2]) || (parts[1] != "deployment" && parts[1] != "statefulset") {
			v.errf(at+".workload", "%q: want namespace/deployment/name or namespace/statefulset/name (a DNS label and a DNS subdomain, as Kubernetes names them)", r.Workload)
		}
	}
	if source != SourceScrape {
		if len(r.Scrape.Targets) > 0 || len(r.Scrape.Metrics) > 0 {
			v.errf(at+".scrape", "only used with source: scrape")
		}
		return t
	}
	if len(t.Targets) == 0 {
		v.errf(at+".scrape.targets", "no targets: want the URLs of the tier's /metrics")
	}
	for i, s := range t.Targets {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// Quoted without its user information: the error is logged.
			v.errf(fmt.Sprintf("%s.scrape.targets[%d]", at, i), "%q: want an http(s) URL", redact.URL(s))
		}
	}
	if len(t.Metrics) == 0 {
		v.errf(at+".scrape.metrics", "no metrics: want at least one series mapping")
	}
	names := map[string]bool{}
	for i, rule := range t.Metrics {
		rp := fmt.Sprintf("%s.scrape.metrics[%d]", at, i)
		if names[rule.Name] {
			v.errf(rp+".name", "%q mapped twice", rule.Name)
		}
		names[rule.Name] = true
		if err := rule.Validate(); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				field, _, _ := strings.Cut(line, " ")
				field = strings.TrimSuffix(field, ":")
				v.errf(rp+"."+field, "%s", line)
			}
		}
	}
	return t
}

// policy checks the app's settings field by field, naming each, then lets
// the policy package check the whole (upstream loops and the like) when
// nothing about the app was reported since before.
func (v *validator) policy(at string, a *App, before int) {
	p := a.policy
	if p.Tick != nil && *p.Tick <= 0 {
		v.errf(at+".policy.tick", "%v: want a positive interval", *p.Tick)
	}
	if a.Source == SourceScrape && p.Tick != nil && *p.Tick > 0 && *p.Tick != a.Scrape.Interval {
		// The decider decides one tick per tier per policy tick: faster
		// scrapes are not decided, slower ones stretch its windows.
		v.errf(at+".policy.tick", "%v differs from scrape.interval %v: the decider decides one scrape per tier per tick (leave policy.tick unset: a scraped app's tick is its scrape interval)", *p.Tick, a.Scrape.Interval)
	}
	nonNeg(v, at+".policy.budget_per_hour", p.BudgetPerHour)
	if p.ForecastWeight != nil && (*p.ForecastWeight < 0 || *p.ForecastWeight > 1) {
		v.errf(at+".policy.forecast_weight", "%v is not in [0, 1]", *p.ForecastWeight)
	}
	nonNeg(v, at+".policy.forecast_weight_lead", p.ForecastWeightLead)
	nonNeg(v, at+".policy.outage_hold", p.OutageHold)
	nonNeg(v, at+".policy.ramp_lead", p.RampLead)
	nonNeg(v, at+".policy.jump_lead", p.JumpLead)
	nonNeg(v, at+".policy.ramp_sigmas", p.RampSigmas)
	nonNeg(v, at+".policy.jump_sigmas", p.JumpSigmas)
	nonNeg(v, at+".policy.rise_bin", p.RiseBin)
	nonNeg(v, at+".policy.short_stabilization", p.ShortStabilization)
	nonNeg(v, at+".policy.hold_worth", p.HoldWorth)
	nonNeg(v, at+".policy.reactive_headroom", p.ReactiveHeadroom)
	if p.HPAGuardTarget != nil && (*p.HPAGuardTarget < 0 || *p.HPAGuardTarget > 1) {
		v.errf(at+".policy.hpa_guard_target", "%v is not in [0, 1]", *p.HPAGuardTarget)
	}
	if p.SkillQuantiles != nil {
		for i, q := range *p.SkillQuantiles {
			if !(q > 0 && q < 1) {
				v.errf(fmt.Sprintf("%s.policy.skill_quantiles[%d]", at, i), "%v is not in (0, 1)", q)
			}
		}
	}
	if p.PhasePeaks != nil && *p.PhasePeaks && p.SeasonalPeaks != nil && !*p.SeasonalPeaks {
		v.errf(at+".policy.phase_peaks", "the hour-phase guard reads the seasonal guard's memory: it needs seasonal_peaks")
	}
	if p.DefaultHeadroom != nil && *p.DefaultHeadroom < 1 {
		v.errf(at+".policy.default_headroom", "%v is below 1", *p.DefaultHeadroom)
	}
	if p.MinCalibration != nil && *p.MinCalibration < 1 {
		v.errf(at+".policy.min_calibration", "%d: want at least 1", *p.MinCalibration)
	}
	names := map[string]bool{}
	for _, t := range a.Tiers {
		names[t.Name] = true
	}
	if len(a.Tiers) == 0 {
		for _, t := range ValidationBase().Tiers {
			names[t.Name] = true
		}
	}
	for i, t := range a.Tiers {
		tp := fmt.Sprintf("%s.tiers[%d]", at, i)
		r := t.policy
		if r.LoadMetric != nil && !proto.MetricNameRE.MatchString(*r.LoadMetric) {
			v.errf(tp+".load_metric", "%q: want [a-z][a-z0-9_]{0,63}", *r.LoadMetric)
		}
		nonNeg(v, tp+".capacity", r.Capacity)
		if r.Target != nil && !(*r.Target > 0 && *r.Target <= 1) {
			v.errf(tp+".target", "%v is not in (0, 1]", *r.Target)
		}
		if r.Quantile != nil && !(*r.Quantile > 0 && *r.Quantile < 1) {
			v.errf(tp+".quantile", "%v is not in (0, 1)", *r.Quantile)
		}
		for _, d := range []struct {
			f string
			v *time.Duration
		}{{"lead_time", r.LeadTime}, {"scale_down_stabilization", r.ScaleDownStabilization}, {"cooldown_up", r.CooldownUp}, {"cooldown_down", r.CooldownDown}} {
			if d.v != nil && *d.v < 0 {
				v.errf(tp+"."+d.f, "%v is negative", *d.v)
			}
		}
		tc := a.policyOver(ValidationBase()).Tiers[i]
		if tc.Min < 0 {
			v.errf(tp+".min", "%d is negative", tc.Min)
		}
		if tc.Max < 1 || tc.Max < tc.Min {
			v.errf(tp+".max", "%d: want at least 1 and at least min (%d)", tc.Max, tc.Min)
		}
		if r.MaxStep != nil && *r.MaxStep < 0 {
			v.errf(tp+".max_step", "%d is negative", *r.MaxStep)
		}
		nonNeg(v, tp+".cost_per_replica_hour", r.CostPerReplicaHour)
		if tc.Upstream != "" && (!names[tc.Upstream] || tc.Upstream == t.Name) {
			v.errf(tp+".upstream", "%q is not another tier of the app", tc.Upstream)
		}
	}
	if len(v.errs) > before {
		return // the whole-policy check would repeat these
	}
	if err := a.policyOver(ValidationBase()).Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			v.errf(at+".policy", "%s", line)
		}
	}
}

// DNSLabel reports whether s is a DNS label as Kubernetes names namespaces:
// 1 to 63 of [a-z0-9-], not starting or ending with '-'. Such a name needs
// no escaping in an API path ("..", "a/b" and "?x" are not labels).
func DNSLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// DNSSubdomain reports whether s is a DNS subdomain as Kubernetes names
// workloads: at most 253 characters of dot-separated DNS labels.
func DNSSubdomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if !DNSLabel(l) {
			return false
		}
	}
	return true
}

// CheckOrigin checks a browser origin as written in an allowlist:
// "scheme://host[:port]", lower case, nothing after the host.
func CheckOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || o != strings.ToLower(o) {
		return fmt.Errorf("%q: want a lower-case origin like https://ops.example.com or http://127.0.0.1:3000", o)
	}
	return nil
}

// nonNeg reports a set value below zero at path.
func nonNeg[T float64 | time.Duration](v *validator, path string, f *T) {
	if f != nil && *f < 0 {
		v.errf(path, "%v is negative", *f)
	}
}

// Mapping returns a scrape tier's compiled series mapping.
func (t Tier) Mapping() (*scrape.Mapping, error) { return scrape.NewMapping(t.Metrics) }
