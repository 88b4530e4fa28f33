package allinone_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/browsertest"
	"github.com/headroomhq/headroom/internal/collector"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestBrowserAllInOne runs the all-in-one on random ports and opens its
// dashboard in headless Chromium: the page loads from the all-in-one's own
// address, the charts of the web tier fill from the live pipeline, the
// decision log shows decisions with their reasons, and the console stays
// clean; then the all-in-one is restarted on the same address and data
// folder, and the page reconnects by itself and shows the ticks recorded
// after the restart. (The gateway's own browser test covers replay.) The
// live hour is the evening climb of a fixed day, so the web tier scales in
// it whenever the test runs, and the page must list those scale decisions
// with their reasons, holds hidden as a visitor first sees the log.
func TestBrowserAllInOne(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	br := browsertest.New(t)
	const ticks = 90
	liveStart := eveningClimb
	cfg := testConfig(t, liveStart, ticks)
	r := start(t, cfg)
	ds := waitDecisions(t, r, liveStart, ticks)

	br.Run("load page", chromedp.Navigate("http://"+r.sys.HTTPAddr+"/#app=shop&tier=web"))
	br.Poll("charts fill", `window.headroom && (p => p.rps >= 30 && p.lat >= 30 && p.cpu >= 30 && p.rep >= 30)(headroom.points())`)
	// A row of the log (holds hidden) must carry the reason the decider
	// recorded for one of the web tier's scale decisions of the last hour.
	if browsertest.Eval[bool](br, `document.querySelector("#show-holds").checked`) {
		t.Fatal("holds are shown before the visitor asks for them")
	}
	reasons := webScaleReasons(t, ds, liveStart.Add((ticks-60)*time.Minute))
	br.Poll("decision with reason", fmt.Sprintf(`(rs => [...document.querySelectorAll("#decisions tbody tr .reason")].some(td => rs.some(r => td.textContent.startsWith(r.split("; ")[0]))))(%s)`, reasons))
	br.Poll("live status", `document.querySelector("#conn").dataset.state === "open"`)
	br.Shot("allinone-dashboard.png")
	before := browsertest.Eval[float64](br, "headroom.state.store.latest")

	// Restart everything on the same HTTP address and store: the collector
	// resumes after the last recorded tick.
	br.Console.SetOutage(true)
	r.stop()
	cfg.HTTPAddr = r.sys.HTTPAddr
	cfg.Collector.Ticks = ticks + 10 // the run ends at Start + Ticks (the same last tick on every copy)
	start(t, cfg)
	br.Poll("reconnected", `headroom.state.opens >= 2 && headroom.state.conn.state === "open"`)
	br.Console.SetOutage(false)
	// New ticks reach the page only once every stage has rebuilt its state
	// from the recorded streams: on a loaded two-core CI run under the race
	// detector that took over Poll's 20 s once (consumers there missed
	// heartbeats too), so it gets Limit's longer wait.
	br.PollFor("new data after restart", fmt.Sprintf(`headroom.state.store.latest > %d`, int64(before)), browsertest.Limit(30*time.Second))
	br.Shot("allinone-after-restart.png")
	if errs := br.Console.Errors(); len(errs) > 0 {
		t.Fatalf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// eveningClimb starts the browser tests' live ticks at a fixed instant, a
// Wednesday at 17:30 UTC as the shop's evening peak builds, so what the
// pipeline decides, and what the page must show, does not depend on when
// the tests run (the shop's traffic is daily and weekly). The pipeline
// runs in event time (the simulated cluster acts on decisions of any age),
// and the page shows a recording up to its newest tick.
var eveningClimb = time.Date(2026, 3, 11, 17, 30, 0, 0, time.UTC)

// webScaleReasons returns, as a JavaScript array literal, the reasons of
// the web tier's scale decisions (not holds) recorded at or after from; it
// fails the test when there are none.
func webScaleReasons(t *testing.T, ds []*proto.Decision, from time.Time) string {
	t.Helper()
	var rs []string
	holds := 0
	for _, d := range ds {
		if d.Tier != "web" || d.TS < proto.Millis(from) {
			continue
		}
		if d.Action == proto.ActionHold {
			holds++
			continue
		}
		if d.Reason == "" {
			t.Errorf("web scale decision at %v without a reason", proto.Time(d.TS))
			continue
		}
		rs = append(rs, d.Reason)
	}
	if len(rs) == 0 {
		t.Fatalf("no web scale decision recorded since %v (%d holds): the evening climb should scale the web tier", from, holds)
	}
	t.Logf("%d web scale decisions and %d holds recorded since %v", len(rs), holds, from.Format(time.RFC3339))
	b, err := json.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBrowserHistory7d opens the 7-day window on an all-in-one holding seven
// days of backfilled history (a tick every five minutes): the gateway serves
// every subscription of the window from its history digest (it reads no
// stream end to end), the window loads within a generous 20 s (×4 under the
// race detector; the 5 s target is measured with browsertest's
// TestMeasure7d, not asserted here on two cores shared with the whole
// suite), the page shows a loading state and never a number until it has,
// and the gateway neither cuts nor reconnects the page.
func TestBrowserHistory7d(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	br := browsertest.New(t)
	const ticks = 5
	liveStart := eveningClimb
	cfg := testConfig(t, liveStart, ticks)
	// Seven days at one tick per five minutes: the race-enabled pipeline
	// decides the week in a few minutes (the default one-minute backfill
	// is measured on the real binary).
	cfg.Collector.Backfill, cfg.Collector.BackfillTick = 7*24*time.Hour, 5*time.Minute
	r := start(t, cfg)
	waitDecisions(t, r, liveStart, ticks)

	br.Run("load page", chromedp.Navigate("http://"+r.sys.HTTPAddr+"/#app=shop&tier=web&w=3600000"))
	br.Poll("1 h loaded", `window.headroom && headroom.state.load.ms > 0 && headroom.points().rps > 10`)
	// Watch every frame from now on: a number shown while loading is a failure.
	br.Run("watch", chromedp.Evaluate[chromedp.Void](`(() => {
		window.seen = { loading: 0, mixed: 0 };
		const watch = () => {
			if (headroom.loading()) {
				if (document.querySelector("#loading")) seen.loading++;
				if (document.querySelector("#stats .stat .value")) seen.mixed++;
			}
			requestAnimationFrame(watch);
		};
		watch();
	})()`))
	digests := gatewayMetric(t, r.sys.HTTPAddr, "headroom_gateway_history_digest_total")
	// Click just after a render, inside the render throttle's 100 ms,
	// where a page that waits for the throttle would keep the hour's
	// numbers up under the new window's load.
	br.Run("open 7 days", chromedp.Evaluate[chromedp.Void](`(() => {
		const r0 = headroom.state.lastRender;
		const after = () => {
			if (headroom.state.lastRender === r0) return requestAnimationFrame(after);
			document.querySelector('#windows button[data-w="604800000"]').click();
		};
		requestAnimationFrame(after);
	})()`))
	br.PollFor("7 days loaded", `headroom.state.window === 604800000 && headroom.state.load.drawn > 0`, 2*time.Minute)
	ms := browsertest.Eval[float64](br, "headroom.state.load.ms")
	drawn := browsertest.Eval[float64](br, "headroom.state.load.drawn")
	msgs := browsertest.Eval[float64](br, "headroom.state.load.msgs")
	t.Logf("7-day window: %.0f messages complete in %.0f ms, drawn in %.0f ms (race %v)", msgs, ms, drawn, browsertest.Race)
	if limit := browsertest.Limit(20 * time.Second); time.Duration(drawn)*time.Millisecond > limit {
		t.Errorf("7-day window drawn in %.0f ms, want under %v", drawn, limit)
	}
	// Metrics, forecasts, anomalies, decisions and scaling: five stream
	// histories, each from the digest.
	if n := gatewayMetric(t, r.sys.HTTPAddr, "headroom_gateway_history_digest_total") - digests; n < 5 {
		t.Errorf("%v of the window's stream histories came from the digest, want all 5", n)
	}
	// About 670 metrics points per tier (a 5-minute digest thinned at a
	// week / 600).
	br.Poll("charts span the week", `(p => p.rps > 600 && p.rep > 600)(headroom.points())`)
	br.Poll("numbers shown", `document.querySelectorAll("#stats .stat .value").length >= 5 && !headroom.loading()`)
	if seen := browsertest.Eval[map[string]float64](br, "window.seen"); seen["mixed"] > 0 || seen["loading"] == 0 {
		t.Errorf("while loading: %v frames with the loading state, %v with numbers; want some and none", seen["loading"], seen["mixed"])
	}
	if opens := browsertest.Eval[float64](br, "headroom.state.opens"); opens != 1 {
		t.Errorf("the page connected %v times, want once (no disconnect)", opens)
	}
	if n := gatewayMetric(t, r.sys.HTTPAddr, "headroom_gateway_slow_clients_total"); n != 0 {
		t.Errorf("gateway cut %v slow clients, want 0", n)
	}
	br.Shot("allinone-7d.png")
	if errs := br.Console.Errors(); len(errs) > 0 {
		t.Fatalf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// gatewayMetric reads one unlabelled series from the all-in-one's /metrics.
func gatewayMetric(t *testing.T, addr, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}

// TestBrowserFleetAndTier runs the all-in-one, replays the shop under
// shop-shadow (two apps), and drives the views: the fleet overview is the
// landing page with one row per app and tier in configuration order; a row
// opens its tier; the tier view lists its tables for that tier only, shows
// the mode badge, other metrics and a consistent reason text; the health
// strip shows every service up; the shadow overlays its original.
func TestBrowserFleetAndTier(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	br := browsertest.New(t)
	const ticks = 40
	// The fleet view and the health strip judge staleness by the wall
	// clock (a tier with no tick for gateway.StaleAfter is stale data), so
	// this test's ticks end now.
	liveStart := time.Now().UTC().Truncate(time.Minute).Add(-ticks * time.Minute)
	cfg := testConfig(t, liveStart, ticks)
	r := start(t, cfg)
	waitDecisions(t, r, liveStart, ticks)
	b := connect(t, r.sys, "replay")
	st, err := collector.Replay(context.Background(), b, collector.ReplayConfig{App: "shop", As: "shop-shadow", From: liveStart.Add(-3 * time.Hour)}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("replayed %d ticks as shop-shadow, reading %d from sequence %d", st.Published, st.Read, st.StartSeq)
	shadow := []string{"apm.decision.shop-shadow.web", "apm.decision.shop-shadow.cache", "apm.decision.shop-shadow.db"}
	natstest.WaitEventTime(t, r.b, "DECISIONS", shadow, liveStart.Add((ticks-2)*time.Minute), 5*time.Minute)

	br.Run("load page", chromedp.Navigate("http://"+r.sys.HTTPAddr+"/"))
	br.Poll("fleet is the landing page", `window.headroom && headroom.state.view === "fleet" && document.querySelectorAll("#fleet tbody tr").length === 6`)
	rows := browsertest.Eval[string](br, `[...document.querySelectorAll("#fleet tbody tr")].map(r => r.dataset.app + "/" + r.dataset.tier).join(",")`)
	if want := "shop/web,shop/cache,shop/db,shop-shadow/web,shop-shadow/cache,shop-shadow/db"; rows != want {
		t.Errorf("fleet rows %s, want %s (configuration order, front tier first)", rows, want)
	}
	br.Poll("fleet row content", `(r => /ok|incident|scaling/i.test(r.textContent) && /live/i.test(r.textContent) && /learned|not learned/.test(r.textContent) && /\d+\.\d\d/.test(r.textContent))(document.querySelector('#fleet tr[data-app="shop"][data-tier="web"]'))`)
	br.Poll("shadow marked", `document.querySelector('#fleet tr[data-app="shop-shadow"]').textContent.includes("replay of shop")`)
	br.Poll("health strip", `document.querySelectorAll("#health .svc").length === 5 && document.querySelectorAll("#health .svc.up").length === 5`)
	br.Shot("allinone-fleet.png")

	br.Run("open shop/db", chromedp.Click(`#fleet tr[data-app="shop"][data-tier="db"]`))
	br.Poll("tier view of db", `headroom.state.view === "tier" && headroom.state.app === "shop" && headroom.state.tier === "db" && !headroom.loading()`)
	if tabs := browsertest.Eval[string](br, `[...document.querySelectorAll("#tiers button")].map(b => b.dataset.tier).join(",")`); tabs != "web,cache,db" {
		t.Errorf("tabs %s, want web,cache,db", tabs)
	}
	br.Poll("mode badge", `!document.querySelector("#mode-badge").hidden && /live/i.test(document.querySelector("#mode-badge").textContent)`)
	br.Poll("tables of db only", `[...document.querySelectorAll("#decisions tbody tr, #incidents li")].every(e => e.dataset.tier === "db")`)
	br.Poll("holds toggle on for a tier that never changed", `document.querySelector("#show-holds").checked === !headroom.state.store.tiers.get("db").changed`)
	br.Poll("other metrics", `document.querySelector("#other-metric").options.length > 0 && headroom.points().other > 10`)
	// All tiers, holds shown: whether the toggle starts on depends on
	// whether db has changed yet, so it is clicked only when off.
	br.Run("all tiers", chromedp.Click(`#all-tiers`))
	if !browsertest.Eval[bool](br, `document.querySelector("#show-holds").checked`) {
		br.Run("show holds", chromedp.Click(`#show-holds`))
	}
	br.Poll("every tier listed", `new Set([...document.querySelectorAll("#decisions tbody tr")].map(tr => tr.dataset.tier)).size >= 2`)
	if bad := browsertest.Eval[float64](br, `[...document.querySelectorAll("#decisions tbody tr")].filter(tr => tr.querySelector(".badge.up") && /not scaling up/.test(tr.textContent)).length`); bad > 0 {
		t.Errorf("%v scale-ups whose reason says it is not scaling up", bad)
	}
	br.Shot("allinone-tier.png")

	br.Run("web tier", chromedp.Click(`#tiers button[data-tier="web"]`))
	br.Poll("overlay offered", `!document.querySelector("#cmp-wrap").hidden && document.querySelector("#cmp-app").value === "shop-shadow"`)
	br.Run("overlay the shadow", chromedp.Click(`#cmp`))
	br.Poll("shadow overlaid", `!headroom.loading() && headroom.overlayPoints() > 30 && /differ from shop-shadow/.test(document.querySelector("#dec-count").textContent)`)
	br.Shot("allinone-overlay.png")
	if errs := br.Console.Errors(); len(errs) > 0 {
		t.Fatalf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
