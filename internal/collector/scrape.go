package collector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/redact"
	"github.com/headroomhq/headroom/internal/scrape"
	"github.com/headroomhq/headroom/proto"
)

type scrapeMetrics struct {
	up        *prometheus.GaugeVec
	failures  *prometheus.CounterVec
	resets    *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	nonFinite *prometheus.CounterVec // selected samples left out, by target and reason
	overflow  *prometheus.CounterVec // tier values left out, by value
	absent    *prometheus.GaugeVec   // series a rule reads that the target does not expose
}

func newScrapeMetrics() *scrapeMetrics {
	l := []string{"app", "tier", "target"}
	return &scrapeMetrics{
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "headroom_scrape_target_up",
			Help: "1 if the target's last scrape succeeded, else 0; dropped when this member stops scraping the app."}, l),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_scrape_failures_total", Help: "Scrape rounds a target failed, after retries."}, l),
		resets:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_scrape_counter_resets_total", Help: "Counter and histogram resets seen on a target."}, l),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "headroom_scrape_duration_seconds", Help: "Time to scrape a target, retries included.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 8)}, l),
		nonFinite: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_scrape_nonfinite_samples_total",
			Help: "Selected series a target exposed with a NaN or infinite value, left out of the tick, by reason (nan, inf)."}, append(l, "reason")),
		overflow: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_scrape_nonfinite_values_total",
			Help: "Tier values left out of a tick because combining the targets' finite samples gave a non-finite number (an overflow), by value."}, []string{"app", "tier", "value"}),
		absent: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "headroom_scrape_series_absent",
			Help: "1 while a target's answer has no series a rule reads (not counted yet, or a misspelt series): a counter rule on a series the target never exposed is left out of the tick, one exposed before reads no increase, any other shows nothing; 0 once it appears; dropped when this member stops scraping the app."}, append(l, "series")),
	}
}

func (m *scrapeMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.up, m.failures, m.resets, m.duration, m.nonFinite, m.overflow, m.absent}
}

// scrapeTarget is one /metrics URL and what it answered before.
type scrapeTarget struct {
	url     string
	name    string // url without its user information, told apart from the tier's others (targetNames): what the log and the target label show
	tracker scrape.Target
	resets  int
	down    bool
	absent  []string // series its last answer lacked (see scrape.Sample.Absent)
}

type scrapeTier struct {
	name    string
	mapping *scrape.Mapping
	targets []*scrapeTarget
	// unselected names the counter rules warned of as selecting no
	// series of any target (see noteUnselected).
	unselected []string
}

// scrapeSource scrapes an app's tiers every interval. Each round is stamped
// with the wall time truncated to the interval: the one place the wall
// clock enters, at the edge, after which everything is event time.
type scrapeSource struct {
	s      *Service
	app    string
	cfg    config.Scrape
	tiers  []*scrapeTier
	client *http.Client
	log    zerolog.Logger
}

func (s *Service) newScrape(a config.App) (*scrapeSource, error) {
	src := &scrapeSource{s: s, app: a.Name, cfg: a.Scrape, client: &http.Client{},
		log: s.log.With().Str("app", a.Name).Str("source", "scrape").Logger()}
	for _, t := range a.Tiers {
		m, err := t.Mapping()
		if err != nil {
			return nil, fmt.Errorf("app %s tier %s: %w", a.Name, t.Name, err)
		}
		st := &scrapeTier{name: t.Name, mapping: m}
		names := targetNames(t.Targets)
		for i, u := range t.Targets {
			st.targets = append(st.targets, &scrapeTarget{url: u, name: names[i]})
		}
		src.tiers = append(src.tiers, st)
	}
	return src, nil
}

// targetNames returns what the log and the target label call each of a
// tier's targets: its URL without its user information (redact.URL), and
// its place in the list after it ("… (targets[1])") when another one
// reads the same (the same endpoint asked with other credentials, or
// listed twice), so that each keeps series of its own.
func targetNames(urls []string) []string {
	names := make([]string, len(urls))
	seen := make(map[string]int, len(urls))
	for i, u := range urls {
		names[i] = redact.URL(u)
		seen[names[i]]++
	}
	for i, n := range names {
		if seen[n] > 1 {
			names[i] = fmt.Sprintf("%s (targets[%d])", n, i)
		}
	}
	return names
}

func (src *scrapeSource) name() string { return "scrape:" + src.app }

func (src *scrapeSource) key() string { return src.app }

// run scrapes every interval while this member owns the app. Taking the
// app over, it starts at the next grid point after the last one stored
// (another member may have scraped the current one) and counts the grid
// points in between as missed: nobody scraped them and a scrape cannot be
// taken afterwards, so none is made up. Each target's rates start afresh
// (its first round gives gauges only), so no rate spans the time this
// member did not own the app.
func (src *scrapeSource) run(ctx context.Context, _ *replicaView, ready func()) error {
	defer src.forget()
	last, err := src.lastStored(ctx)
	if err != nil {
		return stopped(ctx, err)
	}
	for _, tier := range src.tiers {
		for _, tg := range tier.targets {
			tg.tracker, tg.resets = scrape.Target{}, 0
		}
	}
	ready()
	for first := true; ; first = false {
		t := src.s.Now().UTC().Truncate(src.cfg.Interval)
		if first && !last.IsZero() {
			if missed := int(t.Sub(last)/src.cfg.Interval) - 1; missed > 0 {
				src.s.missed.WithLabelValues(src.app, "scrape").Add(float64(missed))
				src.log.Warn().Time("after", last).Time("before", t).Int("missed", missed).Msg("grid points nobody scraped before this member took the app")
			}
		}
		if t.After(last) {
			if err := src.round(ctx, t); err != nil {
				return err
			}
		}
		next := t.Add(src.cfg.Interval)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(next.Sub(src.s.Now())):
		}
	}
}

// lastStored is the event time of the app's last tick in METRICS, over its
// tiers (zero without any).
func (src *scrapeSource) lastStored(ctx context.Context) (time.Time, error) {
	last, err := src.s.lastTicks(ctx, src.app)
	if err != nil {
		return time.Time{}, err
	}
	var at time.Time
	for _, t := range last {
		if t.After(at) {
			at = t
		}
	}
	return at, nil
}

// round scrapes every target of every tier for event time t and publishes
// one tick per tier that has values. A tier none of whose targets answered
// publishes nothing that round. The round's ticks are retried with their ids
// until stored, so a NATS restart loses none of them; the next round waits.
// A tick refused for itself (too large for the stream) is dropped, logged
// and counted by the bus (PublishAll), not retried for good.
func (src *scrapeSource) round(ctx context.Context, t time.Time) error {
	var outs []bus.Out
	for _, tier := range src.tiers {
		if m := src.tierTick(ctx, tier, t); m != nil {
			outs = append(outs, bus.Out{Subject: proto.MetricsSubject(src.s.bus.Prefix(), src.app, tier.name), Msg: m})
		}
	}
	if len(outs) == 0 {
		return nil
	}
	stored, err := src.s.bus.PublishAllStored(ctx, outs)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("publish scraped ticks: %w", err)
	}
	src.s.ticks.Add(float64(stored))
	return nil
}

// tierTick scrapes a tier's targets in parallel and combines what answered.
func (src *scrapeSource) tierTick(ctx context.Context, tier *scrapeTier, t time.Time) *proto.Metrics {
	parts := make([][]scrape.Part, len(tier.targets))
	var wg sync.WaitGroup
	for i, tg := range tier.targets {
		wg.Go(func() { parts[i] = src.scrapeTarget(ctx, tier, tg, t) })
	}
	wg.Wait()
	var answered [][]scrape.Part
	for _, p := range parts {
		if p != nil {
			answered = append(answered, p)
		}
	}
	if len(answered) == 0 {
		return nil
	}
	values, replicas, has, nonFinite := tier.mapping.Combine(answered)
	src.noteUnselected(tier, answered)
	for _, name := range nonFinite {
		src.s.scrape.overflow.WithLabelValues(src.app, tier.name, name).Inc()
		src.log.Warn().Str("tier", tier.name).Str("value", name).Time("at", t).Msg("scraped value not finite once combined, left out")
	}
	if !has {
		replicas = len(answered)
	}
	if len(values) == 0 {
		return nil // first round: counters and histograms need two samples
	}
	m := proto.NewMetrics(src.app, tier.name, t, replicas, values)
	src.s.stamp(m)
	m.Source = "scrape"
	m.Labels = map[string]string{"targets_up": strconv.Itoa(len(answered)), "targets": strconv.Itoa(len(tier.targets))}
	if err := m.Validate(); err != nil {
		src.log.Warn().Err(err).Str("tier", tier.name).Msg("scraped tick invalid")
		return nil
	}
	return m
}

// scrapeTarget fetches one target with retries inside the timeout (none for
// an exposition refused for its size), marks it up or down, and returns its
// parts, or nil when it failed.
func (src *scrapeSource) scrapeTarget(ctx context.Context, tier *scrapeTier, tg *scrapeTarget, t time.Time) []scrape.Part {
	labels := []string{src.app, tier.name, tg.name}
	start := time.Now()
	tctx, cancel := context.WithTimeout(ctx, src.cfg.Timeout)
	defer cancel()
	var err error
	var sample scrape.Sample
	for attempt := 0; attempt <= src.cfg.Retries; attempt++ {
		if attempt > 0 {
			select {
			case <-tctx.Done():
			case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
			}
			if tctx.Err() != nil {
				break
			}
		}
		fams, ferr := scrape.FetchLimits(tctx, src.client, tg.url, scrape.Limits{Samples: src.cfg.MaxSamples})
		if ferr == nil {
			// A mapping mismatch does not get better by retrying.
			sample, err = tier.mapping.Select(t, fams)
			break
		}
		err = ferr
		if errors.Is(ferr, scrape.ErrRefused) {
			// Nor does an exposition refused for its size: fetched
			// again it is refused again, at the same cost.
			break
		}
	}
	src.s.scrape.duration.WithLabelValues(labels...).Observe(time.Since(start).Seconds())
	if err != nil {
		src.s.scrape.up.WithLabelValues(labels...).Set(0)
		src.s.scrape.failures.WithLabelValues(labels...).Inc()
		ev := src.log.Debug()
		if !tg.down {
			ev = src.log.Warn()
		}
		ev.Err(err).Str("tier", tier.name).Str("target", tg.name).Int("retries", src.cfg.Retries).Msg("scrape target down")
		tg.down = true
		return nil
	}
	if tg.down {
		src.log.Info().Str("tier", tier.name).Str("target", tg.name).Msg("scrape target back up")
	}
	tg.down = false
	src.s.scrape.up.WithLabelValues(labels...).Set(1)
	for _, c := range [...]struct {
		reason string
		n      int
	}{{"nan", sample.NaN}, {"inf", sample.Inf}} {
		if reason, n := c.reason, c.n; n > 0 {
			// Debug only: a summary without observations gives NaN
			// quantiles every round; the counter says how many.
			src.s.scrape.nonFinite.WithLabelValues(src.app, tier.name, tg.name, reason).Add(float64(n))
			src.log.Debug().Str("tier", tier.name).Str("target", tg.name).Str("reason", reason).Int("series", n).Msg("selected series not finite, left out")
		}
	}
	src.noteAbsent(tier, tg, sample.Absent)
	parts := tg.tracker.Observe(tier.mapping, sample)
	if d := tg.tracker.Resets - tg.resets; d > 0 {
		src.s.scrape.resets.WithLabelValues(labels...).Add(float64(d))
		tg.resets = tg.tracker.Resets
	}
	return parts
}

// noteAbsent sets the absent-series gauge of a target that answered, and
// warns once when a series a rule reads goes missing from its answer. A
// counter rule on a series the target never exposed is left out of the
// tier's ticks (read as 0 it would be no load, and the decider would
// scale the tier down), so a misspelt series would leave the tier without
// its load for as long as it lasts: it must not pass unnoticed.
func (src *scrapeSource) noteAbsent(tier *scrapeTier, tg *scrapeTarget, absent []string) {
	for _, series := range absent {
		if slices.Contains(tg.absent, series) {
			continue
		}
		src.s.scrape.absent.WithLabelValues(src.app, tier.name, tg.name, series).Set(1)
		src.log.Warn().Str("tier", tier.name).Str("target", tg.name).Str("series", series).
			Msg("scrape target exposes no such series: a counter rule on it is left out of the tier's ticks if the target never exposed it (else reads no increase), any other shows nothing, until it appears (check the series name)")
	}
	for _, series := range tg.absent {
		if !slices.Contains(absent, series) {
			src.s.scrape.absent.WithLabelValues(src.app, tier.name, tg.name, series).Set(0)
			src.log.Info().Str("tier", tier.name).Str("target", tg.name).Str("series", series).Msg("scrape target exposes the series now")
		}
	}
	tg.absent = absent
}

// noteUnselected warns, once per tier and rule while this member scrapes
// the app, of a counter rule left out of the tier's ticks because no target
// that answered has ever had a series it selects, though they expose its
// family: a misspelt label value in its match, or a counter of events
// (5xx, say) none has counted yet. The absent-series gauge and warning,
// which name families, do not say so.
func (src *scrapeSource) noteUnselected(tier *scrapeTier, answered [][]scrape.Part) {
	for i, r := range tier.mapping.Rules() {
		if r.Kind != scrape.KindCounter || slices.Contains(tier.unselected, r.Name) ||
			slices.ContainsFunc(answered, func(ps []scrape.Part) bool { return ps[i].Unseen || ps[i].Selected }) {
			continue
		}
		tier.unselected = append(tier.unselected, r.Name)
		src.log.Warn().Str("tier", tier.name).Str("rule", r.Name).Str("series", r.Series).
			Msg("scrape counter rule selects none of the series its targets expose: left out of the tier's ticks until one does (check its match labels; a counter of rare events shows nothing until the first)")
	}
}

// forget drops the app's per-target gauges as its source stops (the app
// handed to another member, or the collector stopping), so that only the
// member scraping a target speaks for it. Left set, a 1 in the
// absent-series gauge would hold HeadroomScrapeSeriesAbsent (max over the
// members) after the new owner found the series, and a 0 in the up gauge
// would hold HeadroomScrapeTargetDown (min over the members) after the new
// owner reached the target. A later run warns again of what is still
// absent or down. The counters and the duration histogram stay: a former
// member's stop growing, which rate() and increase() read as nothing.
func (src *scrapeSource) forget() {
	src.s.scrape.absent.DeletePartialMatch(prometheus.Labels{"app": src.app})
	src.s.scrape.up.DeletePartialMatch(prometheus.Labels{"app": src.app})
	for _, tier := range src.tiers {
		tier.unselected = nil
		for _, tg := range tier.targets {
			tg.absent, tg.down = nil, false
		}
	}
}
