package deploy_test

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

var (
	pausedAvgRE   = regexp.MustCompile(`avg_over_time\(headroom_bus_input_paused\[([0-9a-z]+)\]\)`)
	pausedCmpRE   = regexp.MustCompile(`>\s*([0-9.]+)(?:\s*/\s*([0-9.]+))?`)
	pausedAgeRE   = regexp.MustCompile(`\band\s+headroom_bus_input_paused\s+offset\s+([0-9a-z]+)`)
	pausedScrape  = 15 * time.Second
	pausedHistory = 2 * time.Hour
)

// pausedRule is HeadroomInputPaused as this test evaluates it: the gauge
// as it is (window 0) or its average over window, above threshold, for
// forDur, once the series is minAge old (and ... offset minAge: a sample
// that old exists).
type pausedRule struct {
	window, forDur, minAge time.Duration
	threshold              float64
}

func parsePausedRule(t *testing.T, r rule) pausedRule {
	t.Helper()
	var pr pausedRule
	if m := pausedAvgRE.FindStringSubmatch(r.Expr); m != nil {
		d, err := model.ParseDuration(m[1])
		if err != nil {
			t.Fatalf("%s: window %q: %v", r.Alert, m[1], err)
		}
		pr.window = time.Duration(d)
	}
	if m := pausedAgeRE.FindStringSubmatch(r.Expr); m != nil {
		d, err := model.ParseDuration(m[1])
		if err != nil {
			t.Fatalf("%s: offset %q: %v", r.Alert, m[1], err)
		}
		pr.minAge = time.Duration(d)
	}
	m := pausedCmpRE.FindStringSubmatch(r.Expr)
	if m == nil {
		t.Fatalf("%s: %q ends in no comparison with a number this test reads", r.Alert, r.Expr)
	}
	pr.threshold, _ = strconv.ParseFloat(m[1], 64)
	if m[2] != "" {
		div, _ := strconv.ParseFloat(m[2], 64)
		pr.threshold /= div
	}
	if r.For != "" {
		d, err := model.ParseDuration(r.For)
		if err != nil {
			t.Fatalf("%s: for %q: %v", r.Alert, r.For, err)
		}
		pr.forDur = time.Duration(d)
	}
	return pr
}

// firesAt evaluates the rule at every scrape of the gauge paused(at) over
// pausedHistory, the series starting at 0 (NewGate makes it as the
// service starts), and returns when it first fires, or -1.
func (pr pausedRule) firesAt(paused func(at time.Duration) bool) time.Duration {
	var samples []float64
	var since time.Duration = -1 // when the condition began to hold
	for at := time.Duration(0); at <= pausedHistory; at += pausedScrape {
		v := 0.0
		if paused(at) {
			v = 1
		}
		samples = append(samples, v)
		n := 1
		if pr.window > 0 {
			n = min(len(samples), int(pr.window/pausedScrape))
		}
		sum := 0.0
		for _, s := range samples[len(samples)-n:] {
			sum += s
		}
		if sum/float64(n) <= pr.threshold || at < pr.minAge {
			since = -1
			continue
		}
		if since < 0 {
			since = at
		}
		if at-since >= pr.forDur {
			return at
		}
	}
	return -1
}

// TestInputPausedAlertsOnAndOff evaluates HeadroomInputPaused on the
// paused gauge of a gate closed at once, on and off, and briefly, an hour
// after the service started (the gauge at 0 until then): it fires within
// five minutes and a half of a pause that lasts, and while a store
// failing on and off keeps the input paused most of the time, and not for
// a minute's pause every half hour. Before, the rule asked for a pause
// lasting 5m (for:), which started again at each resume: paused four
// minutes in every five, the input was never alerted on. And on a service
// just started, whose series has only minutes of samples to average: a
// pause from the start still fires after minutes, and a brief one soon
// after the start never (averaged over the samples there are, a 45 s
// pause a minute in was most of them, and fired a critical alert).
func TestInputPausedAlertsOnAndOff(t *testing.T) {
	var rules []rule
	for _, g := range loadAlerts(t).Groups {
		for _, r := range g.Rules {
			if r.Alert == "HeadroomInputPaused" {
				rules = append(rules, r)
			}
		}
	}
	if len(rules) != 1 {
		t.Fatalf("%d rules named HeadroomInputPaused, want 1", len(rules))
	}
	pr := parsePausedRule(t, rules[0])
	for _, tc := range []struct {
		name   string
		start  time.Duration                  // the outage, after the service started
		paused func(since time.Duration) bool // since the outage began
		within time.Duration                  // fires by then; 0: never fires
	}{
		{"lasting", time.Hour, func(time.Duration) bool { return true }, 5*time.Minute + 30*time.Second},
		{"on and off, 4m of every 5", time.Hour, func(d time.Duration) bool { return d%(5*time.Minute) < 4*time.Minute }, 10 * time.Minute},
		{"on and off, 2m of every 3", time.Hour, func(d time.Duration) bool { return d%(3*time.Minute) < 2*time.Minute }, 10 * time.Minute},
		{"a minute every half hour", time.Hour, func(d time.Duration) bool { return d%(30*time.Minute) < time.Minute }, 0},
		{"2m of every 10", time.Hour, func(d time.Duration) bool { return d%(10*time.Minute) < 2*time.Minute }, 0},
		{"lasting from the service's start", 0, func(time.Duration) bool { return true }, 5*time.Minute + 30*time.Second},
		{"45 s a minute after the start", time.Minute, func(d time.Duration) bool { return d < 45*time.Second }, 0},
	} {
		start := tc.start
		at := pr.firesAt(func(at time.Duration) bool { return at >= start && tc.paused(at-start) })
		switch {
		case tc.within == 0 && at >= 0:
			t.Errorf("%s: fires %v into the outage, want never", tc.name, at-start)
		case tc.within > 0 && at < 0:
			t.Errorf("%s: never fires, want within %v", tc.name, tc.within)
		case tc.within > 0 && at-start > tc.within:
			t.Errorf("%s: fires %v into the outage, want within %v", tc.name, at-start, tc.within)
		case tc.within > 0 && at-start < 4*time.Minute:
			t.Errorf("%s: fires %v into the outage, want a pause of minutes first", tc.name, at-start)
		}
	}
}
