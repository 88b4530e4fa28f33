package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/natstest"
)

// chromium finds Debian's Chromium. Without it the test skips, except on CI
// (CI=true), where a missing browser is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("HEADROOM_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found (apt-get install -y chromium); the browser test is required on CI")
	}
	t.Skip("chromium not found; install it (apt-get install -y chromium) to run the browser test")
	return ""
}

// artifacts is where screenshots go: $HEADROOM_ARTIFACTS, else a temp dir.
func artifacts(t *testing.T) string {
	dir := os.Getenv("HEADROOM_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

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

// consoleErrors collects console errors, uncaught exceptions and error log
// entries of the page.
type consoleErrors struct {
	mu   sync.Mutex
	errs []string
	// During a deliberate outage the browser may report a failed WebSocket
	// connection attempt; those are counted, not failures.
	outage   bool
	tolerate int
}

func (c *consoleErrors) listen(ev any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value))
			}
			c.errs = append(c.errs, "console.error: "+strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		c.errs = append(c.errs, fmt.Sprintf("exception: %s at %s:%d:%d", msg, d.URL, d.LineNumber+1, d.ColumnNumber+1))
	case *log.EventEntryAdded:
		if c.outage && e.Entry.Source == log.EntrySourceNetwork && strings.Contains(e.Entry.Text, "WebSocket") {
			c.tolerate++
			return
		}
		if e.Entry.Level == log.EntryLevelError {
			c.errs = append(c.errs, fmt.Sprintf("log %s: %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL))
		}
	}
}

func (c *consoleErrors) setOutage(on bool) {
	c.mu.Lock()
	c.outage = on
	c.mu.Unlock()
}

func (c *consoleErrors) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errs...)
}

// TestBrowserDashboard drives headless Chromium against a gateway fed with a
// realistic shop: the charts fill, the decision log shows reasons, the page
// survives a gateway restart on the same port and shows new data after it,
// replay plays, and the console stays clean. Screenshots are kept as
// artifacts.
func TestBrowserDashboard(t *testing.T) {
	exe := chromium(t)
	dir := artifacts(t)
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

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1440, 1000),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	var cons consoleErrors
	if err := chromedp.Listen(ctx, cons.listen); err != nil {
		t.Fatal(err)
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		actx, acancel := context.WithTimeout(ctx, 20*time.Second)
		defer acancel()
		if err := chromedp.Do(actx, actions...); err != nil {
			t.Fatalf("%s: %v (console: %v)", what, err, cons.list())
		}
	}
	poll := func(what, expr string) {
		t.Helper()
		run(what, chromedp.Steps(func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))(ctx, tg)
			return chromedp.Void{}, err
		}))
	}
	shot := func(name string) {
		t.Helper()
		actx, acancel := context.WithTimeout(ctx, 20*time.Second)
		defer acancel()
		buf, err := chromedp.Run(actx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", path)
	}
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
	run("back to web from its decision", chromedp.Click(`#decisions tbody tr[data-tier="web"]`))
	poll("web tier again", `headroom.state.tier === "web"`)

	// Restart the gateway: a new one is built first, then the old one stops
	// (clients get 1001) with its server, and the new one serves on the same
	// port. The page must notice, reconnect by itself and resubscribe.
	_, mux2, _, stopGW2 := startGateway(t, b, cfg)
	defer stopGW2()
	cons.setOutage(true)
	stopGW()
	stopped = true
	_ = srv.Close()
	srv2, _ := serveOn(t, addr, mux2)
	defer srv2.Close()
	poll("reconnected", `headroom.state.opens === 2 && headroom.state.conn.state === "open" && headroom.state.pending.size === 0`)
	cons.setOutage(false)
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

	if errs := cons.list(); len(errs) > 0 {
		t.Fatalf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		t.Fatal("browser context ended early")
	}
}
