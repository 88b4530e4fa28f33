package scaleeval

import (
	"fmt"
	"math"
	"time"

	"github.com/headroomhq/headroom/internal/forecast"
	"github.com/headroomhq/headroom/internal/hpa"
	"github.com/headroomhq/headroom/internal/policy"
)

// HPA adapts the Kubernetes HPA rule to the simulation: one controller sync
// per minute, utilisation = demand / (ready × C).
type HPA struct {
	a        *hpa.Autoscaler
	capacity float64
}

// NewHPA returns an HPA controller with the upstream defaults at target.
func NewHPA(target, capacity float64) (*HPA, error) {
	a, err := hpa.New(hpa.DefaultConfig(target))
	if err != nil {
		return nil, err
	}
	return &HPA{a: a, capacity: capacity}, nil
}

// Decide runs one HPA sync.
func (h *HPA) Decide(tk Tick) (int, error) {
	util := math.NaN()
	if tk.Ready > 0 {
		util = tk.Demand / (float64(tk.Ready) * h.capacity)
	}
	return h.a.Decide(tk.Time, tk.Ready+tk.Booting, tk.Ready, util), nil
}

// Static always wants the same count.
type Static int

// Decide returns the fixed count.
func (s Static) Decide(Tick) (int, error) { return int(s), nil }

// Policy feeds the live policy exactly as the decider service does: the
// tick's load and replica counts, plus the latest forecast published by a
// forecast.Series fed with closed 5-minute bucket means (stamped with the
// bucket start), refreshed once per closed bucket. As in the live pipeline a
// forecast is used from its origin on (the start of the bucket after the
// one just closed), so a tick never sees a forecast stamped after it.
type Policy struct {
	app     *policy.App
	tier    string
	series  *forecast.Series
	step    time.Duration
	horizon int
	bucket  time.Time
	sum     float64
	n       int
	latest  *policy.Forecast
	next    *policy.Forecast // made at a bucket close, usable from its origin
	// Decisions, when non-nil, receives every decision (for inspection).
	Decisions func(policy.Decision)
}

// NewPolicy returns a controller running app on its first tier, forecasting
// with fc (horizon buckets ahead; 0 disables forecasting).
func NewPolicy(app *policy.App, fc forecast.Config, horizon int) *Policy {
	p := &Policy{app: app, tier: app.Config().Tiers[0].Name, step: fc.Step, horizon: horizon}
	if horizon > 0 {
		p.series = forecast.NewSeries(fc)
	}
	return p
}

// Decide folds the minute into the current bucket, publishes a forecast
// when the minute closes its bucket, and asks the policy.
func (p *Policy) Decide(tk Tick) (int, error) {
	if p.next != nil && !tk.Time.Before(p.next.Origin) {
		p.latest, p.next = p.next, nil
	}
	if p.series != nil {
		if err := p.feed(tk.Time, tk.Demand); err != nil {
			return 0, err
		}
	}
	in := map[string]policy.TierInput{p.tier: {
		Load: tk.Demand, Ready: tk.Ready, Booting: tk.Booting, Forecast: p.latest,
	}}
	d := p.app.Decide(tk.Time, in)[0]
	if p.Decisions != nil {
		p.Decisions(d)
	}
	return d.To, nil
}

// feed accumulates one minute; when the minute is the last of its bucket the
// bucket is closed, observed and a new forecast made.
func (p *Policy) feed(t time.Time, v float64) error {
	start := t.Truncate(p.step)
	if p.n > 0 && !start.Equal(p.bucket) {
		// The previous bucket ended without its last minute: drop it, as
		// the forecaster drops partial buckets.
		p.n, p.sum = 0, 0
	}
	if p.n == 0 {
		p.bucket = start
	}
	p.sum += v
	p.n++
	if t.Add(time.Minute).Before(start.Add(p.step)) {
		return nil // the bucket's last minute has not been seen yet
	}
	full := p.n == int(p.step/time.Minute)
	mean := p.sum / float64(p.n)
	p.n, p.sum = 0, 0
	if !full {
		return nil
	}
	if err := p.series.Observe(start, mean); err != nil {
		return fmt.Errorf("forecast observe: %w", err)
	}
	pts, _, err := p.series.Forecast(p.horizon)
	if err != nil {
		// Nothing to forecast from yet: the policy runs on the recent level.
		return nil
	}
	p.next = &policy.Forecast{Origin: start.Add(p.step), Step: p.step, Points: pts}
	return nil
}

// MaxHold is the simple reactive baseline "max of the last Window minutes,
// held for Hold minutes": each minute it wants enough replicas for the
// highest demand of the last Window minutes, and never less than its
// highest want of the last Hold minutes.
type MaxHold struct {
	Window, Hold int
	capacity     float64
	demand       []float64
	wants        []int
}

// NewMaxHold returns the baseline for replicas of capacity c.
func NewMaxHold(window, hold int, c float64) *MaxHold {
	return &MaxHold{Window: window, Hold: hold, capacity: c}
}

// Decide returns the held maximum.
func (m *MaxHold) Decide(tk Tick) (int, error) {
	m.demand = append(m.demand, tk.Demand)
	if len(m.demand) > m.Window {
		m.demand = m.demand[len(m.demand)-m.Window:]
	}
	peak := 0.0
	for _, d := range m.demand {
		peak = math.Max(peak, d)
	}
	m.wants = append(m.wants, needed(peak, m.capacity))
	if len(m.wants) > m.Hold {
		m.wants = m.wants[len(m.wants)-m.Hold:]
	}
	w := 0
	for _, x := range m.wants {
		w = max(w, x)
	}
	return w, nil
}
