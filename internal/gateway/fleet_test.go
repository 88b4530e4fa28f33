package gateway_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// TestFleet: the overview lists every app and tier in configuration order
// (front tier first) with its newest load, forecast, replicas, mode and
// driver, capacity state, cost against budget, incidents and status.
func TestFleet(t *testing.T) {
	file, err := config.Load("testdata/fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b := mustBus(t, natstest.RunJetStream(t), "fleet")
	mux := http.NewServeMux()
	ready := service.NewReady()
	g, err := gateway.New(gateway.DefaultConfig(), service.Deps{Bus: b, Log: zerolog.Nop(), Reg: prometheus.NewRegistry(), Ready: ready, Mux: mux, Config: file})
	if err != nil {
		t.Fatal(err)
	}
	natstest.Serve(t, "gateway", g.Run)
	url := httptestServer(t, mux)

	now := time.Now().Truncate(time.Second)
	pub := func(subject string, m proto.Message) {
		t.Helper()
		publish(t, b, bus.Out{Subject: subject, Msg: m})
	}
	web := proto.NewMetrics("store", "web", now, 3, proto.Floats{"rps": 120})
	api := proto.NewMetrics("store", "api", now, 2, proto.Floats{"rps": 40})
	old := proto.NewMetrics("old", "web", now.Add(-time.Hour), 1, proto.Floats{"rps": 1})
	pub(proto.MetricsSubject("apm", "store", "web"), web)
	pub(proto.MetricsSubject("apm", "store", "api"), api)
	pub(proto.MetricsSubject("apm", "old", "web"), old)
	pub(proto.Subject("apm", proto.KindForecast, "store", "web"), &proto.Forecast{V: proto.SchemaVersion, ID: "f.store.web.1", App: "store", Tier: "web",
		TS: web.TS, Metric: "rps", StepMS: 60000, Model: "snaive", Trained: 10,
		Points: []proto.ForecastPoint{{TS: web.TS + 60000, Yhat: 130, Lo80: 100, Hi80: 160, Lo95: 90, Hi95: 170}, {TS: web.TS + 120000, Yhat: 150, Lo80: 110, Hi80: 190, Lo95: 100, Hi95: 200}}})
	pub(proto.Subject("apm", proto.KindDecision, "store", "web"), &proto.Decision{V: proto.SchemaVersion, ID: "d.store.web.1", App: "store", Tier: "web", TS: web.TS,
		From: 3, To: 4, Action: proto.ActionUp, Reason: "web 3→4: more load", Inputs: proto.Floats{"capacity": 50}, State: "steady"})
	pub(proto.Subject("apm", proto.KindDecision, "store", "api"), &proto.Decision{V: proto.SchemaVersion, ID: "d.store.api.1", App: "store", Tier: "api", TS: api.TS,
		From: 2, To: 2, Action: proto.ActionHold, Reason: "api holds: capacity unknown", Inputs: proto.Floats{}, Flags: []string{"capacity-unknown"}, State: "learning"})
	pub(proto.Subject("apm", proto.KindScaling, "store", "web"), &proto.Scaling{V: proto.SchemaVersion, ID: "s.store.web.1", App: "store", Tier: "web", TS: web.TS,
		DecisionID: "d.store.web.1", Status: "applied", Desired: 4, Ready: 3, Booting: 1, Driver: "sim", Mode: "dry-run"})
	pub(proto.Subject("apm", proto.KindAnomaly, "store", "api"), &proto.Anomaly{V: proto.SchemaVersion, ID: "a.store.api.1", App: "store", Tier: "api", TS: api.TS,
		Scores: []proto.Score{{Metric: "rps", Score: 0.9, Anomaly: true}}, Open: []string{"load"}})

	resp, err := http.Get(url + "/api/v1/fleet")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got gateway.FleetResponse
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got.Apps) != 2 || got.Apps[0].Name != "old" || got.Apps[1].Name != "store" {
		t.Fatalf("apps %+v", got.Apps)
	}
	if o := got.Apps[0]; o.Configured || o.Tiers[0].Status != gateway.StatusStale {
		t.Errorf("old app: %+v", o)
	}
	s := got.Apps[1]
	if !s.Configured || s.Mode != "dry-run" || s.BudgetPerHour != 2 || s.CostPerHour != (3+1)*0.5+2*0.25 {
		t.Errorf("store: mode %q budget %v cost %v", s.Mode, s.BudgetPerHour, s.CostPerHour)
	}
	if len(s.Tiers) != 2 || s.Tiers[0].Name != "web" || !s.Tiers[0].Front || s.Tiers[1].Name != "api" || s.Tiers[1].Front {
		t.Fatalf("tiers not in configuration order: %+v", s.Tiers)
	}
	w, a := s.Tiers[0], s.Tiers[1]
	if w.Load == nil || w.Forecast == nil || w.Ready == nil || w.Booting == nil || w.Desired == nil || w.Decision == nil {
		raw, _ := json.Marshal(w)
		t.Fatalf("web row lacks a field: %s", raw)
	}
	if w.Status != gateway.StatusScaling || *w.Load != 120 || *w.Forecast != 150 || *w.Ready != 3 || *w.Booting != 1 || *w.Desired != 4 ||
		w.Mode != "dry-run" || w.Driver != "sim" || !w.CapacityLearned || w.Capacity != 50 || w.Decision.Action != proto.ActionUp {
		t.Errorf("web row %+v", w)
	}
	if a.Status != gateway.StatusIncident || len(a.Open) != 1 || a.Open[0] != "load" || a.CapacityLearned || a.Mode != "dry-run" {
		t.Errorf("api row %+v", a)
	}

	// /api/v1/apps lists tiers in the same order.
	ar, err := http.Get(url + "/api/v1/apps")
	if err != nil {
		t.Fatal(err)
	}
	defer ar.Body.Close()
	var apps gateway.AppsResponse
	if err := json.NewDecoder(ar.Body).Decode(&apps); err != nil {
		t.Fatal(err)
	}
	if st := apps.Apps[1]; st.Name != "store" || st.Tiers[0] != "web" || st.Tiers[1] != "api" || st.Mode != "dry-run" {
		t.Errorf("apps: %+v", apps.Apps)
	}
}
