// Package browsertest drives Debian's headless Chromium (through chromedp)
// for the dashboard's browser tests: it finds the browser (a missing one
// fails the test on CI and skips it elsewhere), starts it with the flags this
// sandboxed, offline machine needs, collects console errors, and writes
// screenshots as test artifacts.
package browsertest

import (
	"context"
	"fmt"
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
)

// Chromium finds Debian's Chromium ($HEADROOM_CHROMIUM first). Without it the
// test skips, except on CI (CI=true), where a missing browser is a failure.
func Chromium(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{os.Getenv("HEADROOM_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal("chromium not found (apt-get install -y chromium); the browser test is required on CI")
	}
	tb.Skip("chromium not found; install it (apt-get install -y chromium) to run the browser test")
	return ""
}

// Artifacts is where screenshots go: $HEADROOM_ARTIFACTS, else a temp dir.
func Artifacts(tb testing.TB) string {
	dir := os.Getenv("HEADROOM_ARTIFACTS")
	if dir == "" {
		return tb.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// Console collects console errors, uncaught exceptions and error log entries.
type Console struct {
	mu   sync.Mutex
	errs []string
	// During a deliberate outage the browser may report failed WebSocket
	// connection attempts, and refused requests of the page's polls (the
	// fleet, health) when the outage outlasts a poll's period; those are
	// expected, not failures.
	outage bool
}

func (c *Console) listen(ev any) {
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
		if c.outage && e.Entry.Source == log.EntrySourceNetwork &&
			(strings.Contains(e.Entry.Text, "WebSocket") || strings.Contains(e.Entry.Text, "net::ERR_CONNECTION_REFUSED")) {
			return
		}
		if e.Entry.Level == log.EntryLevelError {
			c.errs = append(c.errs, fmt.Sprintf("log %s: %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL))
		}
	}
}

// SetOutage marks the start or end of a deliberate server outage.
func (c *Console) SetOutage(on bool) {
	c.mu.Lock()
	c.outage = on
	c.mu.Unlock()
}

// Errors returns the errors seen so far.
func (c *Console) Errors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errs...)
}

// Browser is one headless Chromium tab.
type Browser struct {
	tb      testing.TB
	ctx     context.Context
	dir     string
	Console *Console
}

// New starts Chromium with a fresh profile and a 1440×1000 window; it closes
// when the test ends.
func New(tb testing.TB) *Browser {
	tb.Helper()
	exe := Chromium(tb)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(tb.TempDir()), chromedp.WindowSize(1440, 1000),
		// Chromium keeps its singleton socket in a directory of its own
		// under TMPDIR, which it leaves behind when it is stopped: give it
		// the test's, removed when the test ends.
		chromedp.Env("TMPDIR="+tb.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	tb.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	b := &Browser{tb: tb, ctx: ctx, dir: Artifacts(tb), Console: &Console{}}
	if err := chromedp.Listen(ctx, b.Console.listen); err != nil {
		tb.Fatal(err)
	}
	return b
}

// Run performs actions within 20 seconds or fails the test, naming what.
func (b *Browser) Run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.tb.Fatalf("%s: %v (console: %v)", what, err, b.Console.Errors())
	}
}

// Poll waits (up to 20 seconds) until the JavaScript expression is true.
func (b *Browser) Poll(what, expr string) {
	b.tb.Helper()
	b.Run(what, chromedp.Steps(func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))(ctx, tg)
		return chromedp.Void{}, err
	}))
}

// Eval evaluates a JavaScript expression and returns its value.
func Eval[T any](b *Browser, expr string) T {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.tb.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// Shot writes a full-page screenshot named name to the artifacts folder.
func (b *Browser) Shot(name string) string {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.tb.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(b.dir, name)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.tb.Fatal(err)
	}
	b.tb.Logf("screenshot %s", path)
	return path
}

// Limit scales a time limit for the race detector (×4), so a figure
// measured without it is held to the limit itself.
func Limit(d time.Duration) time.Duration {
	if Race {
		return 4 * d
	}
	return d
}

// PollFor waits up to d until the JavaScript expression is true.
func (b *Browser) PollFor(what, expr string, d time.Duration) {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		b.tb.Fatalf("%s: %v (console: %v)", what, err, b.Console.Errors())
	}
}
