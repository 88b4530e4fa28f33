package detector

import (
	"fmt"
	"slices"
	"time"

	"github.com/headroomhq/headroom/internal/anomaly"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/limits"
	"github.com/headroomhq/headroom/proto"
)

// lookback is how much METRICS history rebuilds a tier's detectors: a week
// for the weekly profile plus a day for the warm-up (Config.WarmupDays is
// 2, but the daily profile is ready after one).
const lookback = 8 * 24 * time.Hour

// Lookback is how much METRICS history, in event time before the first live
// tick, rebuilds a tier's detectors and classifier. Their state forgets
// exponentially (the weekly profile, the error scales, the surprise tails
// with a half-life of 20,000 ticks), so a rebuild from Lookback gives the
// scores of a detector that never stopped closely but not bit for bit;
// replay from the stream's start where bit-for-bit equality is required.
func (c Config) Lookback() time.Duration { return lookback }

// MaxMetrics is the most metrics scored per tier (a tick's cap on values,
// proto.MaxMetricValues): the detectors of a tier whose metric names keep
// changing stay bounded, and names beyond the first MaxMetrics are not
// scored (Tiers.Unscored hears of them; the service counts and warns).
const MaxMetrics = proto.MaxMetricValues

// tier is one tier's state: a detector per metric and the classifier.
type tier struct {
	detectors  map[string]*anomaly.Detector
	classifier *anomaly.Classifier
	open       map[string]bool
	// capped says a tick has had values left out for the cap (Unscored
	// was told first once).
	capped bool
}

// Tiers is the anomaly service's stage: its state for every tier it knows
// (one anomaly.Detector per metric and one anomaly.Classifier per tier) and
// its step, Step. It is the pure part of the service, with no NATS and no
// clock, driven the same way by the live consumer (Service), by `anomaly
// nab` (one tier per file), by the offline scaling evaluation
// (scaleeval.RecordTape) and by tests and benchmarks; it is not safe for
// concurrent use.
//
// Its size is bounded: new tiers are admitted within the configured series
// limits (a refused tick returns the *limits.Error naming the limit), a tier
// holds at most MaxMetrics detectors, and a tier whose last
// tick arrived more than limits.IdleAfter of arrival time ago (see Arrive)
// is dropped; if it comes back, Returning tells the runtime to replay its
// recorded ticks of Config.Lookback first, so it resumes where it was.
// What it remembers of a tier it dropped is forgotten once the tier has
// been gone for Config.Lookback (limits.Tiers.RememberFor): there is
// nothing left to replay, and the tier comes back as a new one.
type Tiers struct {
	// Tiers holds each tier's state within the series limits and what
	// was stored of its outputs (Arrive, SetSent, Returning, Forget,
	// Evict, Len).
	*limits.Tiers[*tier]
	cfg Config

	// Late, when set, is told of every tick Step ignores because its tier
	// has already handled a tick at or after its time (last, Unix ms): a
	// redelivery when the times are equal, else a tick out of order.
	Late func(tick *proto.Metrics, last int64)
	// Unscored, when set, is told of the metric names of a tick left
	// unscored because its tier has MaxMetrics detectors already (sorted),
	// and whether they are the first its tier's state left out.
	Unscored func(tick *proto.Metrics, names []string, first bool)
}

// NewTiers returns empty state for cfg within lim's series limits.
func NewTiers(cfg Config, lim config.Limits) *Tiers {
	ts := &Tiers{Tiers: limits.NewTiers[*tier](lim.MaxSeriesPerApp, lim.MaxSeries, lim.IdleAfter), cfg: cfg}
	// A tier gone for longer than the lookback has nothing to replay:
	// forget it rather than keep a record of every tier ever seen.
	ts.RememberFor(cfg.Lookback())
	return ts
}

// Has says whether app.tier's state is held.
func (ts *Tiers) Has(app, name string) bool {
	_, ok := ts.Get(app, name)
	return ok
}

// Opened is an incident a tick opened, for the service's counters and logs.
type Opened struct {
	Kind     string
	Evidence []string
}

// Step folds one tick into its tier's detectors and classifier and returns
// the tick's output, or nil for a redelivered or late tick (reported to
// Late) and for a tick whose output was stored before a restart. opened
// lists the incidents the tick opened (for counting and logging; empty on
// replay). An error is permanent for the tick: a tier refused by a series
// limit (*limits.Error).
func (ts *Tiers) Step(tick *proto.Metrics) (msg *proto.Anomaly, opened []Opened, err error) {
	e, err := ts.Tick(tick.App, tick.Tier, tick.TS, ts.newTier)
	if err != nil {
		return nil, nil, fmt.Errorf("anomaly state: %w", err)
	}
	if tick.TS <= e.LastTS {
		// Redelivered (its output is stored or queued) or late.
		if ts.Late != nil {
			ts.Late(tick, e.LastTS)
		}
		return nil, nil, nil
	}
	e.LastTS = tick.TS
	tr := e.State
	t := tick.EventTime()
	names := make([]string, 0, len(tick.Values))
	for k := range tick.Values {
		names = append(names, k)
	}
	slices.Sort(names)
	scores := make(map[string]anomaly.Score, len(names))
	msg = &proto.Anomaly{V: proto.SchemaVersion, ID: proto.AnomalyID(tick.App, tick.Tier, tick.TS), App: tick.App, Tier: tick.Tier, TS: tick.TS,
		Scores: make([]proto.Score, 0, len(names))}
	var unscored []string
	for _, k := range names {
		d, ok := tr.detectors[k]
		if !ok {
			if len(tr.detectors) >= MaxMetrics {
				unscored = append(unscored, k) // bounded: a tier's further metric names are not scored
				continue
			}
			d = anomaly.NewDetectorShared(&ts.cfg.Detector)
			tr.detectors[k] = d
		}
		sc := d.Observe(t, tick.Values[k])
		scores[k] = sc
		msg.Scores = append(msg.Scores, proto.Score{Metric: k, Score: clamp01(sc.Value), Anomaly: sc.Anomaly, Observed: finite(sc.Observed),
			Expected: finite(sc.Expected), Detector: sc.Detector, Direction: sc.Direction})
	}
	if len(unscored) > 0 && ts.Unscored != nil {
		ts.Unscored(tick, unscored, !tr.capped)
	}
	tr.capped = tr.capped || len(unscored) > 0
	for _, in := range tr.classifier.Observe(t, tick.Values, scores) {
		p := proto.Incident{ID: in.ID, Kind: in.Kind, State: in.State, Start: proto.Millis(in.Start), Severity: clamp01(in.Severity), Evidence: in.Evidence}
		if !in.End.IsZero() {
			p.End = proto.Millis(in.End)
		}
		msg.Incidents = append(msg.Incidents, p)
		switch in.State {
		case anomaly.StateClosed:
			delete(tr.open, in.Kind)
		default:
			if !tr.open[in.Kind] && tick.TS > e.SentTS {
				opened = append(opened, Opened{Kind: in.Kind, Evidence: in.Evidence})
			}
			tr.open[in.Kind] = true
		}
	}
	for k := range tr.open {
		msg.Open = append(msg.Open, k)
	}
	slices.Sort(msg.Open)
	if tick.TS <= e.SentTS {
		return nil, nil, nil // stored before a restart
	}
	return msg, opened, nil
}

// newTier is a tier's empty state.
func (ts *Tiers) newTier() *tier {
	return &tier{detectors: map[string]*anomaly.Detector{}, classifier: anomaly.NewClassifier(ts.cfg.Classifier), open: map[string]bool{}}
}
