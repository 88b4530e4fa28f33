package collector_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/allinone"
	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/collector"
	"github.com/headroomhq/headroom/internal/ingest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// decisions reads every decision of app from the DECISIONS stream, keyed
// by tier and event time.
func decisions(t *testing.T, b *bus.Bus, app string) map[string]*proto.Decision {
	t.Helper()
	out := map[string]*proto.Decision{}
	for _, data := range natstest.Payloads(t, b, "DECISIONS", proto.AppFilter("apm", proto.KindDecision, app)) {
		var d proto.Decision
		if err := proto.Decode(data, &d); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprintf("%s@%d", d.Tier, d.TS)] = &d
	}
	return out
}

// inputsAt describes what the decider's inputs hold for app.tier at ts,
// for a failure message: the anomaly message's open incidents, and whether
// the tier's ticks and anomaly messages are stored in event-time order
// (a tick stored after a later one is skipped by the anomaly service).
func inputsAt(t *testing.T, b *bus.Bus, app, tier string, ts int64) string {
	t.Helper()
	out := app + "." + tier + ":"
	inversions := func(stream, subject string, at func([]byte) int64) int {
		n, last := 0, int64(0)
		for _, data := range natstest.Payloads(t, b, stream, subject) {
			if v := at(data); v < last {
				n++
			} else {
				last = v
			}
		}
		return n
	}
	out += fmt.Sprintf(" %d ticks stored out of event-time order,", inversions("METRICS", proto.MetricsSubject("apm", app, tier), func(data []byte) int64 {
		var m proto.Metrics
		_ = proto.Decode(data, &m)
		return m.TS
	}))
	found := false
	out += fmt.Sprintf(" %d anomaly messages out of order;", inversions("ANOMALIES", proto.AnomalySubject("apm", app, tier), func(data []byte) int64 {
		var a proto.Anomaly
		_ = proto.Decode(data, &a)
		if a.TS == ts {
			found = true
			out += fmt.Sprintf(" anomaly message at the tick: open %v, incidents %d;", a.Open, len(a.Incidents))
		}
		return a.TS
	}))
	if !found {
		out += " no anomaly message at the tick"
	}
	return out
}

// count is how many messages stream holds on subjects matching filter.
func count(t *testing.T, b *bus.Bus, stream, filter string) uint64 {
	t.Helper()
	var k proto.Kind
	for _, x := range proto.Kinds {
		if proto.StreamName(b.Prefix(), x) == stream {
			k = x
		}
	}
	r, err := b.Reader(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	subjects, err := r.Subjects(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, c := range subjects {
		n += c
	}
	return n
}

// TestReplayShadowDecisions records a closed-loop run of the simulated shop
// (six hours of history and an hour live), replays its METRICS under
// shop-shadow through the same live pipeline, and checks that the shadow
// app gets the very same decision (from, to, action) at every tick and tier.
// The apps come from a configuration file given to the all-in-one, where a
// third app, shop-lean, replays the same recording under a leaner web
// policy and so decides differently. The all-in-one also takes a pushed tick.
func TestReplayShadowDecisions(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	liveStart := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	const ticks = 60
	cfg := allinone.DefaultConfig()
	cfg.HTTPAddr, cfg.NATSAddr, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	cfg.Bus.Streams.Duplicates = time.Hour
	cfg.Collector.Start, cfg.Collector.Ticks, cfg.Collector.Speed = liveStart, ticks, 0
	cfg.Collector.Tick, cfg.Collector.BackfillTick, cfg.Collector.Backfill = time.Minute, time.Minute, 6*time.Hour
	cfg.Collector.LockstepWait = 5 * time.Second
	cfg.Decider.Policy.Tick = time.Minute
	cfg.ConfigFile = filepath.Join(t.TempDir(), "headroom.yaml")
	yaml := `
apps:
  shop: {source: sim}
  shop-shadow:
    source: push
    tiers: [{name: web}, {name: cache}, {name: db}]
  shop-lean:
    source: push
    tiers: [{name: web, target: 0.95, quantile: 0.5}, {name: cache}, {name: db}]
`
	if err := os.WriteFile(cfg.ConfigFile, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	up := make(chan *allinone.System, 1)
	done := make(chan error, 1)
	go func() {
		done <- allinone.Run(ctx, cfg, natstest.Log(t), func(s *allinone.System) { up <- s })
	}()
	var sys *allinone.System
	select {
	case sys = <-up:
	case err := <-done:
		t.Fatalf("all-in-one did not start: %v", err)
	}
	t.Cleanup(func() { cancel(); <-done })

	bc := bus.DefaultConfig()
	bc.URL, bc.Name, bc.User, bc.Password = sys.NATSURL, "replay", sys.NATSUser, sys.NATSPassword
	b, err := bus.Connect(context.Background(), bc, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })

	// The all-in-one serves the push API on its HTTP address.
	body := fmt.Sprintf(`{"app":"pushed","tier":"web","time":%q,"replicas":2,"values":{"rps":42}}`, time.Now().UTC().Format(time.RFC3339))
	resp, err := http.Post("http://"+sys.HTTPAddr+ingest.Path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("push on the all-in-one: %s", resp.Status)
	}
	if n := count(t, b, "METRICS", proto.AppFilter("apm", proto.KindMetrics, "pushed")); n != 1 {
		t.Fatalf("%d pushed ticks stored, want 1", n)
	}

	// Every tick but the last is decided (the last waits for a later one).
	const perTier = 6*60 + ticks - 1
	waitCount := func(app string) {
		natstest.Eventually(t, 3*time.Minute, func() error {
			if n := count(t, b, "DECISIONS", proto.AppFilter("apm", proto.KindDecision, app)); n < 3*perTier {
				return fmt.Errorf("%s: %d decisions of %d", app, n, 3*perTier)
			}
			return nil
		})
	}
	waitCount("shop")

	start := time.Now()
	st, err := collector.Replay(context.Background(), b, collector.ReplayConfig{App: "shop", As: "shop-shadow"}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if st.Published != 3*(perTier+1) || st.Read != st.Published {
		t.Fatalf("replayed %d of %d ticks, want %d", st.Published, st.Read, 3*(perTier+1))
	}
	if _, err := collector.Replay(context.Background(), b, collector.ReplayConfig{App: "shop", As: "shop-lean", Speed: 0}, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	waitCount("shop-shadow")
	waitCount("shop-lean")
	t.Logf("replayed %d ticks and decided them in %s", st.Published, time.Since(start).Round(time.Millisecond))

	orig, shadow := decisions(t, b, "shop"), decisions(t, b, "shop-shadow")
	if len(orig) != 3*perTier || len(shadow) != len(orig) {
		t.Fatalf("%d original and %d shadow decisions, want %d each", len(orig), len(shadow), 3*perTier)
	}
	changes := 0
	for k, d := range orig {
		s, ok := shadow[k]
		if !ok {
			t.Fatalf("no shadow decision at %s", k)
		}
		if d.From != s.From || d.To != s.To || d.Action != s.Action {
			t.Fatalf("at %s: original %d→%d %s, shadow %d→%d %s\noriginal: %s %v\nshadow:   %s %v\n%s\n%s", k, d.From, d.To, d.Action, s.From, s.To, s.Action, d.Reason, d.Inputs, s.Reason, s.Inputs,
				inputsAt(t, b, "shop", d.Tier, d.TS), inputsAt(t, b, "shop-shadow", d.Tier, d.TS))
		}
		if s.App != "shop-shadow" || s.ID != proto.DecisionID("shop-shadow", s.Tier, s.TS) {
			t.Fatalf("shadow decision %+v", s)
		}
		if d.Action != proto.ActionHold {
			changes++
		}
	}
	if changes == 0 {
		t.Fatal("no scaling in the recording: the comparison proves little")
	}
	t.Logf("%d identical decisions, %d of them scaling", len(orig), changes)

	lean, differ := decisions(t, b, "shop-lean"), 0
	for k, d := range orig {
		if l := lean[k]; l == nil || l.To != d.To {
			differ++
		}
	}
	if differ == 0 {
		t.Fatal("the leaner policy decided exactly as the original")
	}
	t.Logf("shop-lean differs at %d of %d decisions", differ, len(orig))

	// A second replay stores nothing new: the ids are the shadow's.
	before := count(t, b, "METRICS", proto.AppFilter("apm", proto.KindMetrics, "shop-shadow"))
	if _, err := collector.Replay(context.Background(), b, collector.ReplayConfig{App: "shop", As: "shop-shadow", From: liveStart}, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	if after := count(t, b, "METRICS", proto.AppFilter("apm", proto.KindMetrics, "shop-shadow")); after != before {
		t.Fatalf("a repeated replay stored %d more ticks", after-before)
	}
}

func TestReplayConfigValidate(t *testing.T) {
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []collector.ReplayConfig{
		{App: "shop", As: "shop"},
		{App: "shop", As: "Shadow"},
		{App: "shop", As: "x", From: t1, To: t1},
		{App: "shop", As: "x", Speed: -1},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if err := (collector.ReplayConfig{App: "shop", As: "shop-shadow", From: t1, Speed: 100}).Validate(); err != nil {
		t.Fatal(err)
	}
}
