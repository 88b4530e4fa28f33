package gateway_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/proto"
)

// shopFeed generates realistic pipeline output for app "shop" (tiers web,
// cache, db): per-minute metrics, 5-minute forecasts with 80 % bands, anomaly
// scores with one load incident on web, decisions with reasons and scaling
// events. It is deterministic.
type shopFeed struct {
	end      time.Time // the last minute generated
	minutes  int
	replicas map[string]int
}

var shopTiers = []string{"cache", "db", "web"}

func tierScale(tier string) float64 {
	switch tier {
	case "cache":
		return 2.4
	case "db":
		return 0.35
	}
	return 1
}

// demand is the true request rate of a tier at minute i (0 = end-minutes).
func (s *shopFeed) demand(tier string, i int) float64 {
	t := s.end.Add(time.Duration(i-s.minutes) * time.Minute)
	h := float64(t.Hour()) + float64(t.Minute())/60
	base := 900 + 350*math.Sin((h-9)/24*2*math.Pi) + 80*math.Sin(h/3*2*math.Pi)
	if s.incident(i) {
		base *= 1.55
	}
	return base * tierScale(tier)
}

// incident reports whether minute i is inside the web load incident.
func (s *shopFeed) incident(i int) bool { return i >= s.minutes-42 && i < s.minutes-24 }

func (s *shopFeed) outs(i int) []bus.Out {
	rng := rand.New(rand.NewPCG(uint64(i), 7))
	ts := s.end.Add(time.Duration(i-s.minutes) * time.Minute)
	var out []bus.Out
	for _, tier := range shopTiers {
		if s.replicas[tier] == 0 {
			s.replicas[tier] = 4
		}
		reps := s.replicas[tier]
		d := s.demand(tier, i) * (1 + 0.04*rng.NormFloat64())
		capacity := 330 * tierScale(tier) * float64(reps)
		util := math.Min(0.99, d/capacity)
		p95 := 40 + 120*util*util
		if tier == "web" && s.incident(i) {
			p95 *= 1.8
		}
		out = append(out, bus.Out{Subject: proto.MetricsSubject("apm", "shop", tier), Msg: proto.NewMetrics("shop", tier, ts, reps, proto.Floats{
			"rps": d, "cpu": util * 0.92, "mem": 0.55 + 0.05*util, "latency_p50_ms": p95 * 0.45,
			"latency_p95_ms": p95, "latency_p99_ms": p95 * 1.7, "error_rate": 0.002 + 0.01*math.Max(0, util-0.85),
		})})
		an := &proto.Anomaly{V: 1, ID: proto.AnomalyID("shop", tier, ts.UnixMilli()), App: "shop", Tier: tier, TS: ts.UnixMilli()}
		hit := tier == "web" && s.incident(i)
		score := 0.1 + 0.05*rng.Float64()
		if hit {
			score = 0.97
		}
		an.Scores = []proto.Score{
			{Metric: "rps", Score: score, Anomaly: hit, Observed: d, Expected: d / 1.55, Detector: "seasonal", Direction: 1},
			{Metric: "latency_p95_ms", Score: score * 0.9, Anomaly: hit && i%3 == 0, Observed: p95, Expected: p95 / 1.8, Detector: "tail", Direction: 1},
		}
		start := s.end.Add(-42 * time.Minute).UnixMilli()
		if tier == "web" && i == s.minutes-42 {
			an.Incidents = []proto.Incident{{ID: "inc-web-1", Kind: proto.IncidentLoad, State: proto.IncidentOpen, Start: start, Severity: 0.8, Evidence: []string{"rps +55 % over forecast", "latency_p95_ms ×1.8"}}}
		}
		if tier == "web" && i == s.minutes-24 {
			an.Incidents = []proto.Incident{{ID: "inc-web-1", Kind: proto.IncidentLoad, State: proto.IncidentClosed, Start: start, End: ts.UnixMilli(), Severity: 0.8, Evidence: []string{"rps +55 % over forecast", "latency_p95_ms ×1.8"}}}
		}
		if hit {
			an.Open = []string{proto.IncidentLoad}
		}
		out = append(out, bus.Out{Subject: proto.AnomalySubject("apm", "shop", tier), Msg: an})
		if i%5 == 0 {
			out = append(out, s.forecast(tier, ts, i))
			out = append(out, s.decision(tier, ts, i)...)
		}
	}
	return out
}

func (s *shopFeed) forecast(tier string, ts time.Time, i int) bus.Out {
	f := &proto.Forecast{V: 1, ID: proto.ForecastID("shop", tier, "rps", ts.UnixMilli()), App: "shop", Tier: tier, TS: ts.UnixMilli(),
		Metric: "rps", StepMS: 300000, Model: "ensemble", Trained: 4032}
	for k := range 12 {
		y := s.demand(tier, i+k*5) / map[bool]float64{true: 1.55, false: 1}[s.incident(i+k*5)]
		w := y * (0.06 + 0.01*float64(k))
		f.Points = append(f.Points, proto.ForecastPoint{TS: ts.Add(time.Duration(k*5) * time.Minute).UnixMilli(),
			Yhat: y, Lo80: y - w, Hi80: y + w, Lo95: y - 1.6*w, Hi95: y + 1.6*w})
	}
	return bus.Out{Subject: proto.ForecastSubject("apm", "shop", tier), Msg: f}
}

func (s *shopFeed) decision(tier string, ts time.Time, i int) []bus.Out {
	from := s.replicas[tier]
	to, action := from, proto.ActionHold
	reason := fmt.Sprintf("p90 forecast %.0f req/s fits %d replicas at target utilisation 0.70", s.demand(tier, i+6), from)
	switch {
	case tier == "web" && i == s.minutes-40:
		to, action = 7, proto.ActionUp
		reason = "load incident: p90 demand 1530 req/s within the 4-minute boot lead exceeds 4 replicas at 0.70; scaling to 7"
	case tier == "web" && i == s.minutes-10:
		to, action = 5, proto.ActionDown
		reason = "demand back to forecast for 30 min; 5 replicas hold utilisation under 0.70 for the next hour"
	}
	ms := ts.UnixMilli()
	d := &proto.Decision{V: 1, ID: proto.DecisionID("shop", tier, ms), App: "shop", Tier: tier, TS: ms, From: from, To: to,
		Action: action, Reason: reason, Inputs: proto.Floats{"load": s.demand(tier, i), "target": 0.7}, State: "steady"}
	if action == proto.ActionUp {
		d.Flags = []string{"load-incident"}
	}
	out := []bus.Out{{Subject: proto.DecisionSubject("apm", "shop", tier), Msg: d}}
	if action != proto.ActionHold {
		s.replicas[tier] = to
		sc := &proto.Scaling{V: 1, ID: proto.ScalingID("shop", tier, d.ID, proto.StatusApplied, ms), App: "shop", Tier: tier, TS: ms,
			DecisionID: d.ID, Status: proto.StatusApplied, Desired: to, Ready: from, Booting: max(0, to-from), Driver: "sim", Mode: "live"}
		out = append(out, bus.Out{Subject: proto.ScalingSubject("apm", "shop", tier), Msg: sc})
	}
	return out
}

// seedShop publishes minutes of shop history ending at end and returns the feed.
func seedShop(tb testing.TB, b *bus.Bus, end time.Time, minutes int) *shopFeed {
	tb.Helper()
	s := &shopFeed{end: end, minutes: minutes, replicas: map[string]int{}}
	for i := 0; i <= minutes; i++ {
		for _, o := range s.outs(i) {
			if _, err := b.PublishAsync(o); err != nil {
				tb.Fatal(err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
	return s
}
