package scaleeval

import (
	"math"

	"github.com/headroomhq/headroom/internal/hpa"
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
