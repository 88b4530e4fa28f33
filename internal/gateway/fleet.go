package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/policy"
	"github.com/headroomhq/headroom/proto"
)

// Tier statuses in the fleet overview, worst first.
const (
	StatusStale    = "stale"    // no tick for StaleAfter
	StatusIncident = "incident" // an incident is open
	StatusScaling  = "scaling"  // replicas booting, or ready differs from desired
	StatusOK       = "ok"
)

// StaleAfter is how old a tier's newest tick may be before its data is
// called stale.
const StaleAfter = 5 * time.Minute

// FleetDecision is the newest decision of a tier.
type FleetDecision struct {
	TS     int64    `json:"ts"`
	Action string   `json:"action"`
	From   int      `json:"from"`
	To     int      `json:"to"`
	Reason string   `json:"reason"`
	State  string   `json:"state,omitempty"`
	Flags  []string `json:"flags,omitempty"`
}

// FleetTier is one row of the fleet overview: the newest tick, forecast,
// decision, scaling event and incident state of one tier.
type FleetTier struct {
	Name string `json:"name"`
	// Front marks the app's front tier (the first in configuration order).
	Front  bool   `json:"front"`
	Status string `json:"status"`
	// LastTS is the event time (Unix ms) of the newest tick.
	LastTS     int64    `json:"last_ts"`
	LoadMetric string   `json:"load_metric"`
	Load       *float64 `json:"load"`
	// Forecast is the forecast median of the load metric at ForecastAt,
	// the furthest point of the newest forecast.
	Forecast   *float64 `json:"forecast"`
	ForecastAt int64    `json:"forecast_at,omitempty"`
	Ready      *int     `json:"ready"`
	Booting    *int     `json:"booting"`
	Desired    *int     `json:"desired"`
	// Mode and Driver come from the newest scaling event (or the
	// configured mode before any).
	Mode   string `json:"mode"`
	Driver string `json:"driver"`
	// CapacityLearned is false while the decider has no capacity per
	// replica for the tier (the decision's capacity-unknown flag).
	CapacityLearned bool    `json:"capacity_learned"`
	Capacity        float64 `json:"capacity,omitempty"`
	// CostPerReplicaHour is the tier's configured cost (0: not set).
	CostPerReplicaHour float64 `json:"cost_per_replica_hour"`
	// Open lists the kinds of the incidents open now.
	Open     []string       `json:"open"`
	Decision *FleetDecision `json:"decision,omitempty"`
}

// FleetApp is one application of the fleet overview.
type FleetApp struct {
	Name string `json:"name"`
	// Mode is the configured mode ("" when the app is not configured).
	Mode       string `json:"mode"`
	Configured bool   `json:"configured"`
	// ReplayOf names the recorded app a shadow replay runs from.
	ReplayOf string `json:"replay_of,omitempty"`
	// CostPerHour sums ready and booting replicas times their cost;
	// BudgetPerHour is the configured cap (0: none).
	CostPerHour   float64     `json:"cost_per_hour"`
	BudgetPerHour float64     `json:"budget_per_hour"`
	Tiers         []FleetTier `json:"tiers"`
}

// FleetResponse is the /api/v1/fleet answer.
type FleetResponse struct {
	Prefix     string     `json:"prefix"`
	ServerTime int64      `json:"server_time"`
	Apps       []FleetApp `json:"apps"`
}

// serveFleet answers /api/v1/fleet: every app and tier with its newest state.
func (g *Gateway) serveFleet(w http.ResponseWriter, r *http.Request) {
	if !g.checkToken(r, "fleet") {
		g.metrics.apiRequests.WithLabelValues("fleet", resultToken).Inc()
		client, forwarded := g.forwardedClient(r)
		g.refuseToken(w, r, "fleet", client, forwarded)
		return
	}
	release, ok := g.admitAPI(r.Context(), w, "fleet")
	if !ok {
		return
	}
	defer release()
	resp, err := g.fleet(r.Context())
	if err != nil {
		if r.Context().Err() != nil {
			g.metrics.apiRequests.WithLabelValues("fleet", resultCanceled).Inc()
			return // the client hung up: not the gateway's failure
		}
		g.metrics.apiRequests.WithLabelValues("fleet", resultUnavailable).Inc()
		if ev, others := g.fleetFailLog.note(g.log, quoted(err.Error()), time.Now()); ev != nil {
			g.fleetFailLog.first(ev, others).Err(err).Msg("fleet overview")
		}
		http.Error(w, "cannot read the fleet", http.StatusServiceUnavailable)
		return
	}
	g.metrics.apiRequests.WithLabelValues("fleet", resultOK).Inc()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(resp)
}

// appPolicy is the scaling policy the decider uses for app: the file's,
// else the default one.
func (g *Gateway) appPolicy(app string) (policy.AppConfig, string, bool) {
	base := policy.DefaultAppConfig()
	if g.file == nil {
		return base, "", false
	}
	cfg, ok := g.file.Policy(app, base)
	mode := ""
	if a, found := g.file.App(app); found {
		mode = a.Mode
		if mode == "" {
			mode = "live"
		}
	}
	return cfg, mode, ok
}

// tierOrder sorts tiers in the policy's order (the configuration file's,
// front tier first), then any others by name.
func tierOrder(p policy.AppConfig, tiers []string) {
	rank := func(t string) int {
		for i, tc := range p.Tiers {
			if tc.Name == t {
				return i
			}
		}
		return len(p.Tiers)
	}
	slices.SortFunc(tiers, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	})
}

// last reads and decodes the newest message of subject in stream; found
// is false when there is none.
func last[T any, PT interface {
	*T
	proto.Message
}](ctx context.Context, s *bus.StreamReader, subject string) (*T, bool, error) {
	m, err := s.Last(ctx, subject)
	if errors.Is(err, bus.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	v := PT(new(T))
	if err := proto.Decode(m.Data, v); err != nil {
		return nil, false, nil // shown as missing; the consumers send it to the DLQ
	}
	return (*T)(v), true, nil
}

func (g *Gateway) fleet(ctx context.Context) (FleetResponse, error) {
	now := time.Now()
	resp := FleetResponse{Prefix: g.prefix, ServerTime: now.UnixMilli(), Apps: []FleetApp{}}
	streams := map[proto.Kind]*bus.StreamReader{}
	for _, k := range []proto.Kind{proto.KindMetrics, proto.KindForecast, proto.KindAnomaly, proto.KindDecision, proto.KindScaling} {
		s, err := g.bus.Reader(ctx, k)
		if err != nil {
			return resp, err
		}
		streams[k] = s
	}
	subjects, err := streams[proto.KindMetrics].Subjects(ctx, proto.Filter(g.prefix, proto.KindMetrics))
	if err != nil {
		return resp, err
	}
	byApp := map[string][]string{}
	for subj := range subjects {
		if _, app, tier, err := proto.ParseSubject(g.prefix, subj); err == nil {
			byApp[app] = append(byApp[app], tier)
		}
	}
	names := make([]string, 0, len(byApp))
	for a := range byApp {
		names = append(names, a)
	}
	slices.Sort(names)
	for _, app := range names {
		pol, mode, configured := g.appPolicy(app)
		tiers := byApp[app]
		tierOrder(pol, tiers)
		fa := FleetApp{Name: app, Mode: mode, Configured: configured, BudgetPerHour: pol.BudgetPerHour, Tiers: []FleetTier{}}
		for i, tier := range tiers {
			ft := FleetTier{Name: tier, Front: i == 0, LoadMetric: "rps", Open: []string{}, Mode: mode}
			for _, tc := range pol.Tiers {
				if tc.Name == tier {
					ft.LoadMetric, ft.CostPerReplicaHour = tc.LoadMetric, tc.CostPerReplicaHour
				}
			}
			if err := g.fleetTier(ctx, streams, app, &ft, &fa); err != nil {
				return resp, err
			}
			ft.Status = tierStatus(ft, now)
			if ft.Ready != nil {
				n := *ft.Ready
				if ft.Booting != nil {
					n += *ft.Booting
				}
				fa.CostPerHour += float64(n) * ft.CostPerReplicaHour
			}
			fa.Tiers = append(fa.Tiers, ft)
		}
		resp.Apps = append(resp.Apps, fa)
	}
	return resp, nil
}

func (g *Gateway) fleetTier(ctx context.Context, streams map[proto.Kind]*bus.StreamReader, app string, ft *FleetTier, fa *FleetApp) error {
	subj := func(k proto.Kind) string { return proto.Subject(g.prefix, k, app, ft.Name) }
	m, ok, err := last[proto.Metrics](ctx, streams[proto.KindMetrics], subj(proto.KindMetrics))
	if err != nil {
		return err
	}
	if ok {
		ft.LastTS = m.TS
		if v, has := m.Values[ft.LoadMetric]; has {
			ft.Load = &v
		}
		ready := m.Replicas
		ft.Ready = &ready
		if of := m.Labels["replay_of"]; of != "" {
			fa.ReplayOf = of
		}
	}
	f, ok, err := last[proto.Forecast](ctx, streams[proto.KindForecast], subj(proto.KindForecast))
	if err != nil {
		return err
	}
	if ok && f.Metric == ft.LoadMetric && len(f.Points) > 0 {
		p := f.Points[len(f.Points)-1]
		y := p.Yhat
		ft.Forecast, ft.ForecastAt = &y, p.TS
	}
	a, ok, err := last[proto.Anomaly](ctx, streams[proto.KindAnomaly], subj(proto.KindAnomaly))
	if err != nil {
		return err
	}
	if ok && len(a.Open) > 0 {
		ft.Open = a.Open
	}
	d, ok, err := last[proto.Decision](ctx, streams[proto.KindDecision], subj(proto.KindDecision))
	if err != nil {
		return err
	}
	if ok {
		ft.Decision = &FleetDecision{TS: d.TS, Action: d.Action, From: d.From, To: d.To, Reason: d.Reason, State: d.State, Flags: d.Flags}
		ft.CapacityLearned = !slices.Contains(d.Flags, "capacity-unknown") && d.Inputs["capacity"] > 0
		ft.Capacity = d.Inputs["capacity"]
		to := d.To
		ft.Desired = &to
	}
	s, ok, err := last[proto.Scaling](ctx, streams[proto.KindScaling], subj(proto.KindScaling))
	if err != nil {
		return err
	}
	if ok {
		ft.Mode, ft.Driver = s.Mode, s.Driver
		booting, desired := s.Booting, s.Desired
		ft.Booting = &booting
		if ft.Decision == nil || s.TS >= ft.Decision.TS {
			ft.Desired = &desired
		}
	}
	return nil
}

// tierStatus is the row's status, worst first: stale data, an open
// incident, a scaling in progress, else ok.
func tierStatus(ft FleetTier, now time.Time) string {
	switch {
	case ft.LastTS == 0 || now.Sub(proto.Time(ft.LastTS)) > StaleAfter:
		return StatusStale
	case len(ft.Open) > 0:
		return StatusIncident
	case ft.Booting != nil && *ft.Booting > 0,
		ft.Desired != nil && ft.Ready != nil && *ft.Desired != *ft.Ready:
		return StatusScaling
	}
	return StatusOK
}
