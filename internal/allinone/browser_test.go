package allinone_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/headroomhq/headroom/internal/browsertest"
)

// TestBrowserAllInOne runs the all-in-one on random ports and opens its
// dashboard in headless Chromium: the page loads from the all-in-one's own
// address, the charts of the web tier fill from the live pipeline, the
// decision log shows decisions with their reasons, and the console stays
// clean; then the all-in-one is restarted on the same address and data
// folder, and the page reconnects by itself and shows the ticks recorded
// after the restart. (The gateway's own browser test covers replay.)
func TestBrowserAllInOne(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	br := browsertest.New(t)
	const ticks = 90
	liveStart := time.Now().UTC().Truncate(time.Minute).Add(-ticks * time.Minute)
	cfg := testConfig(t, liveStart, ticks)
	r := start(t, cfg)
	waitDecisions(t, r, liveStart, ticks)

	br.Run("load page", chromedp.Navigate("http://"+r.sys.HTTPAddr+"/#app=shop&tier=web"))
	br.Poll("charts fill", `window.headroom && (p => p.rps >= 30 && p.lat >= 30 && p.cpu >= 30 && p.rep >= 30)(headroom.points())`)
	br.Poll("decision with reason", `[...document.querySelectorAll("#decisions tbody tr")].some(tr => /web \d+→\d+: /.test(tr.textContent))`)
	br.Poll("live status", `document.querySelector("#conn").dataset.state === "open"`)
	br.Shot("allinone-dashboard.png")
	before := browsertest.Eval[float64](br, "headroom.state.store.latest")

	// Restart everything on the same HTTP address and store: the collector
	// resumes after the last recorded tick.
	br.Console.SetOutage(true)
	r.stop()
	cfg.HTTPAddr = r.sys.HTTPAddr
	cfg.Collector.Ticks = 10
	start(t, cfg)
	br.Poll("reconnected", `headroom.state.opens >= 2 && headroom.state.conn.state === "open"`)
	br.Console.SetOutage(false)
	br.Poll("new data after restart", fmt.Sprintf(`headroom.state.store.latest > %d`, int64(before)))
	br.Shot("allinone-after-restart.png")
	if errs := br.Console.Errors(); len(errs) > 0 {
		t.Fatalf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
