package collector

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// groupMember is one running collector of a group test.
type groupMember struct {
	name   string
	svc    *Service
	b      *bus.Bus
	cancel context.CancelFunc
	done   chan error
}

// startCollector runs a collector as its own process would: its own
// connection (a short group check, as the cluster tests use), its own
// service, until stopped or killed.
func startCollector(t *testing.T, url, name string, cfg Config) *groupMember {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel).With().Str("member", name).Logger()
	bc := bus.DefaultConfig()
	bc.URL, bc.Name, bc.GroupCheck = url, name, 300*time.Millisecond
	b, err := bus.Connect(context.Background(), bc, log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WaitConnected(context.Background(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	ready := service.NewReady()
	svc, err := New(cfg, service.Deps{Bus: b, Log: log, Reg: prometheus.NewRegistry(), Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &groupMember{name: name, svc: svc, b: b, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- svc.Run(ctx) }()
	t.Cleanup(func() { m.stop(t) })
	natstest.Eventually(t, time.Minute, ready.Err)
	return m
}

// stop ends the member as a signal would: sources stop, it leaves the group.
func (m *groupMember) stop(t *testing.T) {
	if m.cancel == nil {
		return
	}
	m.cancel()
	if err := <-m.done; err != nil {
		t.Errorf("%s: %v", m.name, err)
	}
	_ = m.b.Close(5 * time.Second)
	m.cancel = nil
}

// kill ends the member as kill -9 would: its connection drops with no
// goodbye, in the middle of whatever it was publishing.
func (m *groupMember) kill(t *testing.T) {
	m.b.Abort()
	m.stop(t)
}

// TestCollectorsShareSimApps runs the simulated shop for six apps on two
// collectors against one NATS, one minute of event time every 50 ms. The
// collectors split the apps (each app on one member); one is killed mid-run
// as kill -9 would, and the survivor takes its apps over; then a third
// joins and takes some apps from the survivor, which is then stopped as on
// a signal, leaving every app to the third. Afterwards every app's every
// tier has exactly one tick per grid minute, from the start of the backfill
// to the last live tick: none missing, none duplicated, whoever sent it.
func TestCollectorsShareSimApps(t *testing.T) {
	url := natstest.RunJetStream(t)
	check := natstest.Connect(t, url, "check", zerolog.Nop(), true)

	const (
		backfill = 30  // minutes of history
		live     = 400 // live ticks, one a minute
	)
	apps := []string{"a0", "a1", "a2", "a3", "a4", "a5"}
	var yaml strings.Builder
	yaml.WriteString("apps:\n")
	for _, a := range apps {
		fmt.Fprintf(&yaml, "  %s: {source: sim}\n", a)
	}
	file, err := config.Parse("group.yaml", []byte(yaml.String()))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.File = file
	cfg.Lockstep = false
	cfg.Tick, cfg.BackfillTick, cfg.Backfill = time.Minute, time.Minute, backfill*time.Minute
	cfg.Start, cfg.Ticks, cfg.Speed = t0, live, 1200 // a minute every 50 ms

	members := []*groupMember{startCollector(t, url, "collector-0", cfg), startCollector(t, url, "collector-1", cfg)}

	// The two agree on the split.
	owners := func(ms []*groupMember) (map[string]string, error) {
		out := map[string]string{}
		for _, a := range apps {
			for _, m := range ms {
				o, _ := m.svc.owner(a)
				if prev, ok := out[a]; ok && prev != o {
					return nil, fmt.Errorf("app %s: members disagree (%s, %s)", a, prev, o)
				}
				out[a] = o
			}
		}
		return out, nil
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		_, err := owners(members)
		return err
	})
	split, _ := owners(members)
	ids := map[string]string{}
	for _, m := range members {
		_, self := m.svc.owner("")
		ids[self] = m.name
	}
	for _, a := range apps {
		t.Logf("app %s on %s", a, ids[split[a]])
	}

	// Kill the owner of a0 a third into the live run.
	killAt := t0.Add(live / 3 * time.Minute)
	natstest.Eventually(t, time.Minute, func() error {
		if at := lastTick(t, check); at.Before(killAt) {
			return fmt.Errorf("last tick %s, waiting for %s", at, killAt)
		}
		return nil
	})
	victim, survivor := members[0], members[1]
	if _, self := members[1].svc.owner(""); split["a0"] == self {
		victim, survivor = members[1], members[0]
	}
	_, victimID := victim.svc.owner("")
	var moved []string
	for _, a := range apps {
		if split[a] == victimID {
			moved = append(moved, a)
		}
	}
	before := appLast(t, check, moved)
	victim.kill(t)
	killed := time.Now()
	_, survivorID := survivor.svc.owner("")
	natstest.Eventually(t, 30*time.Second, func() error {
		for _, a := range moved {
			if o, _ := survivor.svc.owner(a); o != survivorID {
				return fmt.Errorf("app %s still on %s", a, o)
			}
		}
		return nil
	})
	tookOver := time.Since(killed)
	natstest.Eventually(t, 30*time.Second, func() error {
		after := appLast(t, check, moved)
		for _, a := range moved {
			if !after[a].After(before[a]) {
				return fmt.Errorf("app %s: no tick after %s", a, before[a])
			}
		}
		return nil
	})
	resumed := time.Since(killed)
	t.Logf("killed %s (apps %v): %s owned them %v later and sent their next ticks %v after the kill",
		victim.name, moved, survivor.name, tookOver.Round(10*time.Millisecond), resumed.Round(10*time.Millisecond))
	if resumed > 30*time.Second {
		t.Fatalf("hand-over took %v, want within 30s", resumed)
	}

	// A third member joins two thirds in: the survivor hands some apps over
	// while running them.
	natstest.Eventually(t, time.Minute, func() error {
		if at := lastTick(t, check); at.Before(t0.Add(2 * live / 3 * time.Minute)) {
			return fmt.Errorf("last tick %s", at)
		}
		return nil
	})
	third := startCollector(t, url, "collector-2", cfg)
	natstest.Eventually(t, 10*time.Second, func() error {
		_, err := owners([]*groupMember{survivor, third})
		return err
	})
	split, _ = owners([]*groupMember{survivor, third})
	_, thirdID := third.svc.owner("")
	var joined []string
	for _, a := range apps {
		if split[a] == thirdID {
			joined = append(joined, a)
		}
	}
	t.Logf("%s joined and took apps %v", third.name, joined)

	// The survivor stops as on a signal, five sixths in: the third takes
	// its apps over.
	natstest.Eventually(t, time.Minute, func() error {
		if at := lastTick(t, check); at.Before(t0.Add(5 * live / 6 * time.Minute)) {
			return fmt.Errorf("last tick %s", at)
		}
		return nil
	})
	var left []string
	for _, a := range apps {
		if split[a] == survivorID {
			left = append(left, a)
		}
	}
	before = appLast(t, check, left)
	survivor.stop(t)
	leftAt := time.Now()
	natstest.Eventually(t, 30*time.Second, func() error {
		after := appLast(t, check, left)
		for _, a := range left {
			if o, _ := third.svc.owner(a); o != thirdID {
				return fmt.Errorf("app %s still on %s", a, o)
			}
			if !after[a].After(before[a]) && !after[a].Equal(t0.Add((live-1)*time.Minute)) {
				return fmt.Errorf("app %s: no tick after %s", a, before[a])
			}
		}
		return nil
	})
	t.Logf("stopped %s (apps %v): %s sent their next ticks %v later", survivor.name, left, third.name, time.Since(leftAt).Round(10*time.Millisecond))

	end := t0.Add((live - 1) * time.Minute)
	natstest.Eventually(t, 2*time.Minute, func() error {
		last := appLast(t, check, apps)
		for _, a := range apps {
			if !last[a].Equal(end) {
				return fmt.Errorf("app %s: last tick %s, want %s", a, last[a], end)
			}
		}
		return nil
	})
	survivor.stop(t)
	third.stop(t)

	// Exactly one tick per app, tier and grid minute.
	count := map[string]int{}
	for _, data := range natstest.Payloads(t, check, proto.StreamName(check.Prefix(), proto.KindMetrics), proto.Filter(check.Prefix(), proto.KindMetrics)) {
		var m proto.Metrics
		if err := proto.Decode(data, &m); err != nil {
			t.Fatal(err)
		}
		count[fmt.Sprintf("%s.%s@%s", m.App, m.Tier, m.EventTime().Format("15:04"))]++
	}
	tiers := []string{"web", "cache", "db"}
	var missing, dup, extra int
	for _, a := range apps {
		for _, tier := range tiers {
			for i := -backfill; i < live; i++ {
				k := fmt.Sprintf("%s.%s@%s", a, tier, t0.Add(time.Duration(i)*time.Minute).Format("15:04"))
				switch n := count[k]; {
				case n == 0:
					missing++
					t.Errorf("tick %s missing", k)
				case n > 1:
					dup += n - 1
					t.Errorf("tick %s stored %d times", k, n)
				}
				delete(count, k)
			}
		}
	}
	for k := range count {
		extra++
		t.Errorf("tick %s off the grid", k)
	}
	want := len(apps) * len(tiers) * (backfill + live)
	t.Logf("ticks: want %d, %d missing, %d duplicated, %d off the grid", want, missing, dup, extra)

	// The work was shared, not done twice and deduplicated: the members
	// sent few more ticks than were stored (each sending every app's
	// would be about 2×). Sent twice are only the ticks of an app both
	// ran while their views of the group differed, and the old owner's
	// last ones before the kill.
	var sent float64
	for _, m := range append(members, third) {
		n := value(t, m.svc.ticks)
		t.Logf("%s sent %v ticks", m.name, n)
		sent += n
	}
	t.Logf("sent %v ticks for %d stored (%.1f%% sent twice)", sent, want, 100*(sent-float64(want))/float64(want))
	if sent > 1.2*float64(want) {
		t.Fatalf("the members sent %v ticks for %d stored: they did not share the work", sent, want)
	}
}

// appLast is, per app, the event time of the last tick every tier of it
// has in METRICS.
func appLast(t *testing.T, b *bus.Bus, apps []string) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	for _, a := range apps {
		last, err := b.LastEventTimes(context.Background(), proto.KindMetrics, proto.AppFilter(b.Prefix(), proto.KindMetrics, a))
		if err != nil {
			t.Fatal(err)
		}
		var at time.Time
		first := true
		for _, ts := range last {
			if first || ts.Before(at) {
				at, first = ts, false
			}
		}
		out[a] = at
	}
	return out
}

// TestTraceResumesPerTier takes a trace over from a member killed between
// two tiers' publishes: METRICS holds the first 100 rows for every tier
// and row 100 for web only. The new owner sends exactly what is missing
// (row 100 for cache and db, then every tier from row 101), none twice.
func TestTraceResumesPerTier(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Lockstep = false
	h := newHarness(t, cfg, "apps:\n  nasa:\n    source: trace\n    trace: {file: testdata/nasa_4h.csv, scale: 20, speed: 0, start: 2026-03-02T00:00:00Z}\n")
	src := h.svc.sources[0].(*simSource)
	ctx := context.Background()
	ready := src.initialReplicas(src.times[0], 0)
	var before []bus.Out
	for i := range 100 {
		before = append(before, src.tickOuts(src.times[i], ready, src.demand[i], nil)...)
	}
	for _, o := range src.tickOuts(src.times[100], ready, src.demand[100], nil) {
		if o.Msg.(*proto.Metrics).Tier == "web" {
			before = append(before, o)
		}
	}
	if err := h.bus.PublishAll(ctx, before); err != nil {
		t.Fatal(err)
	}

	const rows = 240
	if n := len(h.runUntil(t, ctx, 3*rows)); n != 3*rows {
		t.Fatalf("%d ticks stored, want %d", n, 3*rows)
	}
	if sent, want := value(t, h.svc.ticks), float64(3*rows-len(before)); sent != want {
		t.Fatalf("the new owner sent %v ticks, want the %v missing", sent, want)
	}
}

// TestScrapeTakeOverCountsMissed takes a scraped app over 80 s after the
// last round stored (interval 15 s): the three grid points in between were
// scraped by nobody and are counted as missed, not made up.
func TestScrapeTakeOverCountsMissed(t *testing.T) {
	a := newTarget(t)
	yaml := fmt.Sprintf("apps:\n  api:\n    source: scrape\n    scrape: {interval: 15s, timeout: 2s}\n    tiers:\n      - name: web\n        scrape:\n          targets: [%q]\n          metrics: [{name: rps, series: http_requests_total, kind: counter}]\n", a.srv.URL+"/metrics")
	h := newHarness(t, DefaultConfig(), yaml)
	src := h.svc.sources[0].(*scrapeSource)
	ctx := context.Background()
	// The previous owner's last two rounds store one tick, at t0+15s.
	if err := src.round(ctx, t0); err != nil {
		t.Fatal(err)
	}
	a.reqs.Add(30)
	if err := src.round(ctx, t0.Add(15*time.Second)); err != nil {
		t.Fatal(err)
	}
	h.svc.Now = func() time.Time { return t0.Add(80 * time.Second) }
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- src.run(runCtx, nil, func() {}) }()
	natstest.Eventually(t, 10*time.Second, func() error {
		if n := value(t, h.svc.missed.WithLabelValues("api", "scrape")); n != 3 {
			return fmt.Errorf("missed %v, want 3 (t0+30s, +45s, +60s)", n)
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := h.stored(t); len(got) != 1 || !got[0].EventTime().Equal(t0.Add(15*time.Second)) {
		t.Fatalf("stored %d ticks: a take-over's first round has no earlier sample to rate against, nothing may be made up", len(got))
	}
}
