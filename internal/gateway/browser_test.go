package gateway_test

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/headroomhq/headroom/internal/browsertest"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
)

// serveOn serves mux on addr ("127.0.0.1:0" for any port), retrying while a
// just-closed listener still holds the port.
func serveOn(t *testing.T, addr string, mux *http.ServeMux) (*http.Server, string) {
	t.Helper()
	var ln net.Listener
	natstest.Eventually(t, 5*time.Second, func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv, ln.Addr().String()
}

// TestBrowserDashboard drives headless Chromium against a gateway fed with a
// realistic shop: the charts fill, the decision log shows reasons, the page
// survives a gateway restart on the same port and shows new data after it,
// replay plays, and the console stays clean. Screenshots are kept as
// artifacts.
func TestBrowserDashboard(t *testing.T) {
	br := browsertest.New(t)
	b := mustBus(t, natstest.RunJetStream(t), "browser")
	end := time.Now().Truncate(time.Minute)
	const minutes = 150
	shop := seedShop(t, b, end, minutes)

	cfg := gateway.DefaultConfig()
	_, mux, _, stopGW := startGateway(t, b, cfg)
	srv, addr := serveOn(t, "127.0.0.1:0", mux)
	stopped := false
	defer func() {
		if !stopped {
			stopGW()
		}
		_ = srv.Close()
	}()

	run := br.Run
	poll := br.Poll
	shot := func(name string) { br.Shot(name) }
	setTheme := func(theme string) {
		t.Helper()
		poll("theme "+theme, fmt.Sprintf(`document.documentElement.dataset.theme === %q || (document.querySelector("#theme").click(), false)`, theme))
	}

	run("load page", chromedp.Navigate("http://"+addr+"/#app=shop&tier=web"))
	poll("charts fill", `window.headroom && (p => p.rps >= 55 && p.forecast > 10 && p.lat >= 55 && p.cpu >= 55 && p.err >= 55 && p.rep >= 55)(headroom.points())`)
	poll("decision with reason", `document.querySelector("#decisions tbody").textContent.includes("load incident: p90 demand 1530 req/s")`)
	poll("incident listed", `document.querySelector("#incidents").textContent.includes("load")`)
	poll("live status", `document.querySelector("#conn").dataset.state === "open"`)
	setTheme("dark")
	shot("dashboard-dark.png")
	run("open the db tier", chromedp.Click(`#tiers button[data-tier="db"]`))
	poll("db tier drawn", `headroom.state.tier === "db" && headroom.points().rps >= 55`)
	poll("db tables hold db rows only", `[...document.querySelectorAll("#decisions tbody tr")].every(tr => tr.dataset.tier === "db")`)
	run("all tiers", chromedp.Click(`#all-tiers`))
	poll("all tiers listed", `[...document.querySelectorAll("#decisions tbody tr")].some(tr => tr.dataset.tier === "web")`)
	run("back to web from its decision", chromedp.Click(`#decisions tbody tr[data-tier="web"]`))
	poll("web tier again", `headroom.state.tier === "web"`)

	// Restart the gateway: a new one is built first, then the old one stops
	// (clients get 1001) with its server, and the new one serves on the same
	// port. The page must notice, reconnect by itself and resubscribe.
	_, mux2, _, stopGW2 := startGateway(t, b, cfg)
	defer stopGW2()
	br.Console.SetOutage(true)
	stopGW()
	stopped = true
	_ = srv.Close()
	srv2, _ := serveOn(t, addr, mux2)
	defer srv2.Close()
	poll("reconnected", `headroom.state.opens === 2 && headroom.state.conn.state === "open" && headroom.state.pending.size === 0`)
	br.Console.SetOutage(false)
	for _, o := range shop.outs(minutes + 1) {
		publish(t, b, o)
	}
	next := end.Add(time.Minute).UnixMilli()
	poll("new data after restart", fmt.Sprintf(`headroom.state.store.latest === %d && headroom.lastActual() === %d`, next, next))

	setTheme("light")
	shot("dashboard-light.png")

	run("open replay", chromedp.Click("#mode button[data-mode=replay]"), chromedp.Click("#rp-load"))
	poll("replay plays", `headroom.state.replay.ready && headroom.state.replay.cursor > headroom.state.replay.from && headroom.points().rps > 0`)
	run("seek", chromedp.Evaluate[chromedp.Void](`(() => { const r = headroom.state.replay; r.playing = false; r.cursor = r.from + (r.to - r.from) * 0.8; headroom.state.dirty = true; })()`))
	poll("replay drawn", `headroom.points().rps > 30`)
	shot("dashboard-replay.png")

	if errs := br.Console.Errors(); len(errs) > 0 {
		t.Fatalf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// TestBrowserDashboardWithToken: with -gateway.token set, the dashboard
// opened with its token in the address, as #token=… (a fragment, never
// sent: the way the README gives) or ?token=…, keeps the token for the tab
// and takes it out of the address bar at once, the rest of the address
// kept; it reads /api/v1 with the bearer header and the feed with ?token=
// on /ws only, so /api/v1's refusal of a token in its URL refuses none of
// its requests: the apps, the fleet and the health strip load, the charts
// fill, and no request was refused.
func TestBrowserDashboardWithToken(t *testing.T) {
	br := browsertest.New(t)
	b := mustBus(t, natstest.RunJetStream(t), "browsertoken")
	end := time.Now().Truncate(time.Minute)
	const minutes = 30
	seedShop(t, b, end, minutes)
	const token = "s3cret-0123456789abcdef"
	cfg := gateway.DefaultConfig()
	cfg.Token = token
	_, mux, reg, stopGW := startGateway(t, b, cfg)
	defer stopGW()
	srv, addr := serveOn(t, "127.0.0.1:0", mux)
	defer srv.Close()

	// One after the other in the one tab (br reports on t, so no
	// subtests), each poll named by the way the token came.
	for _, tc := range []struct{ name, path string }{
		{"fragment", "/#token=" + token + "&app=shop&tier=web"},
		{"query", "/?token=" + token + "#app=shop&tier=web"},
	} {
		// Each path differs from the last page's address (token taken
		// out) before its fragment, so the page loads afresh, its tab
		// storage cleared by the case before.
		br.Run(tc.name+": load page", chromedp.Navigate("http://"+addr+tc.path))
		br.Poll(tc.name+": token kept for the tab, out of the address bar, the rest kept", `sessionStorage.getItem("headroom-token") === `+fmt.Sprintf("%q", token)+
			` && !location.href.includes("token") && new URLSearchParams(location.hash.slice(1)).get("app") === "shop"`)
		br.Poll(tc.name+": apps listed", `window.headroom && headroom.state.apps && headroom.state.apps.some(a => a.name === "shop")`)
		br.Poll(tc.name+": charts fill", `(p => p.rps >= 25 && p.cpu >= 25)(headroom.points())`)
		br.Poll(tc.name+": live status", `document.querySelector("#conn").dataset.state === "open"`)
		br.Poll(tc.name+": fleet and health read", `headroom.state.fleet !== null && headroom.state.health !== null`)
		// Cleared in the page itself: a file of the origin that is not
		// a page (say app.css) has the browser ask for /favicon.ico,
		// whose 404 the console reports.
		br.Run(tc.name+": clear the tab's token", chromedp.Evaluate[chromedp.Void](`sessionStorage.clear()`))
	}
	for _, name := range []string{"headroom_gateway_api_requests_total", "headroom_gateway_connections_total"} {
		if n := metricstest.ByLabel(t, reg, name, "result")["token"]; n != 0 {
			t.Errorf("%s{result=\"token\"} = %v: the dashboard's requests were refused for their token", name, n)
		}
	}
	if errs := br.Console.Errors(); len(errs) > 0 {
		t.Fatalf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
