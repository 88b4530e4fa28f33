package scaleeval

import (
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/decider"
	"github.com/headroomhq/headroom/internal/detector"
	"github.com/headroomhq/headroom/internal/forecaster"
	"github.com/headroomhq/headroom/internal/policy"
	"github.com/headroomhq/headroom/proto"
)

// App is the app name the simulation's ticks carry.
const App = "sim"

// Stages configures the live stages the simulation drives: the
// forecaster's (forecaster.Tiers), the anomaly service's (detector.Tiers)
// and the decider's (decider.Apps), each exactly as a service running with
// these settings would hold it.
type Stages struct {
	Forecaster forecaster.Config
	Detector   detector.Config
	// Limits are the stages' series limits. The simulation keeps every
	// tier (IdleAfter 0): a trace's gap is simulated as one minute, so it
	// must not make the stages forget a tier.
	Limits config.Limits
}

// DefaultStages returns the services' default stages with the forecaster's
// horizon set to horizon buckets (0: forecasts carry no points).
func DefaultStages(horizon int) Stages {
	st := Stages{Forecaster: forecaster.DefaultConfig(), Detector: detector.DefaultConfig(), Limits: config.DefaultLimits()}
	st.Forecaster.Horizon = horizon
	st.Limits.IdleAfter = 0
	return st
}

// Decider returns the decider stage's configuration deciding every app by
// the policy app, with the forecaster's bucket width.
func (st Stages) Decider(app policy.AppConfig) decider.Config {
	return decider.Config{Policy: app, ForecastStep: st.Forecaster.Model.Step, ForecastMetric: st.Forecaster.Metric}
}

// NewDeciderStage returns the decider stage deciding by the policy app
// with st's forecast step and limits, fed with the tapes.
func (st Stages) NewDeciderStage(app policy.AppConfig, tapes []*Tape) (*DeciderStage, error) {
	return NewDeciderStage(st.Decider(app), st.Limits, tapes)
}

// Tape is what the live forecaster and anomaly stages output for one tier
// of a trace, minute by minute: the forecast stored at that minute (at the
// minute opening a bucket; nil at the others) and the minute's anomaly
// message. Both depend on the tier's load only, not on the replica counts,
// so one tape serves every policy run on the same load.
type Tape struct {
	Tier      string
	Forecasts []*proto.Forecast
	Anomalies []*proto.Anomaly
}

// MetricsTick returns the metrics tick the live collector would publish for the
// tier at minute t: the load under the policy's load metric and the ready
// replicas.
func MetricsTick(tier string, t time.Time, load float64, ready int) *proto.Metrics {
	return proto.NewMetrics(App, tier, t, ready, map[string]float64{proto.MetricRPS: load})
}

// RecordTape runs the tier's load through the forecaster's and the anomaly
// service's stages, tick by tick as the live services receive it.
func RecordTape(st Stages, tier string, times []time.Time, load []float64) (*Tape, error) {
	if len(times) != len(load) {
		return nil, fmt.Errorf("record %s: %d times for %d values", tier, len(times), len(load))
	}
	if err := checkMinutes(times); err != nil {
		return nil, fmt.Errorf("record %s: %w", tier, err)
	}
	fcfg := st.Forecaster
	strip := fcfg.Horizon <= 0
	if strip {
		fcfg.Horizon = 1 // the buckets still get their (empty) forecasts, which the decider waits for
	}
	fs := forecaster.NewTiers(fcfg, st.Limits, zerolog.Nop())
	ds := detector.NewTiers(st.Detector, st.Limits)
	tp := &Tape{Tier: tier, Forecasts: make([]*proto.Forecast, len(load)), Anomalies: make([]*proto.Anomaly, len(load))}
	for i, t := range times {
		tick := MetricsTick(tier, t, load[i], 0) // neither stage reads the replica count
		f, _, err := fs.Step(tick)
		if err != nil {
			return nil, fmt.Errorf("record %s: forecaster, minute %d: %w", tier, i, err)
		}
		if f != nil && strip {
			f.Points, f.Model, f.Trained = nil, "none", 0
		}
		tp.Forecasts[i] = f
		if tp.Anomalies[i], _, err = ds.Step(tick); err != nil {
			return nil, fmt.Errorf("record %s: anomaly, minute %d: %w", tier, i, err)
		}
	}
	return tp, nil
}

// DeciderStage drives the live decider's stage (decider.Apps) minute by
// minute: each minute it hands the stage every tier's metrics tick, the
// forecast and anomaly message the tapes hold for that minute, then closes
// the minute (decider.Apps.Close), since the simulation must have minute
// t's decisions before it can make minute t+1's replica counts, where the
// live decider waits for minute t+1's ticks. The decisions are those the
// live decider makes on the same inputs.
type DeciderStage struct {
	apps  *decider.Apps
	tapes []*Tape
	held  int // single tier: the count last decided (0: none yet)
	// OnDecision, when set, receives every decision.
	OnDecision func(*proto.Decision)
}

// NewDeciderStage returns the decider stage configured by cfg fed with
// the tapes, one per tier.
func NewDeciderStage(cfg decider.Config, lim config.Limits, tapes []*Tape) (*DeciderStage, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("decider stage: %w", err)
	}
	return &DeciderStage{apps: decider.NewApps(cfg, lim, zerolog.Nop()), tapes: tapes}, nil
}

// Minute feeds minute i at t, with the tier's load and ready replicas in
// tape order, and returns each tier's desired count, in tape order.
func (d *DeciderStage) Minute(i int, t time.Time, loads []float64, ready []int) ([]int, error) {
	for k, tp := range d.tapes {
		if _, err := d.apps.Handle(MetricsTick(tp.Tier, t, loads[k], ready[k])); err != nil {
			return nil, err
		}
		if f := tp.Forecasts[i]; f != nil {
			if _, err := d.apps.Handle(f); err != nil {
				return nil, err
			}
		}
		if a := tp.Anomalies[i]; a != nil {
			if _, err := d.apps.Handle(a); err != nil {
				return nil, err
			}
		}
	}
	// Nothing completes before the minute is closed: its ticks are the
	// newest metrics.
	ds := d.apps.Close(App, t)
	want := make([]int, len(d.tapes))
	for k := range want {
		want[k] = -1
	}
	ms := proto.Millis(t)
	for _, dec := range ds {
		if dec.TS != ms {
			return nil, fmt.Errorf("decider stage: minute %d closed a decision for %s", i, proto.Time(dec.TS).Format(time.RFC3339))
		}
		for k, tp := range d.tapes {
			if tp.Tier == dec.Tier {
				want[k] = dec.To
			}
		}
		if d.OnDecision != nil {
			d.OnDecision(dec)
		}
	}
	for k, w := range want {
		if w < 0 {
			return nil, fmt.Errorf("decider stage: minute %d has no decision for tier %s", i, d.tapes[k].Tier)
		}
	}
	return want, nil
}

// Decide runs the stage as a single-tier Controller. The stage counts the
// booting replicas itself, as the live decider does (the count it last
// decided less the ready ones); that must be the simulated cluster's
// count, or the two would decide from different states.
func (d *DeciderStage) Decide(tk Tick) (int, error) {
	if d.held > 0 && tk.Ready+tk.Booting != d.held {
		return 0, fmt.Errorf("decider stage: minute %d: the cluster holds %d+%d replicas, the stage's last decision %d", tk.Minute, tk.Ready, tk.Booting, d.held)
	}
	w, err := d.Minute(tk.Minute, tk.Time, []float64{tk.Demand}, []int{tk.Ready})
	if err != nil {
		return 0, err
	}
	d.held = w[0]
	return w[0], nil
}
