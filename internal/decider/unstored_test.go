package decider

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestUnstoredDecisionsBoundedOverApps fills the decisions stream, so every
// publish is refused, while six apps of one tier each send four more
// ticks. Each app's outbox stays far below maxOutbox, but together they
// pass the member's bound (lowered to 4 here): before maxUnstored, the
// decisions waiting grew with the number of apps (24 here; up to 256 an
// app for as many apps as the series limits admit), and whoever sends new
// app names chooses that number. With it, the total stops at the bound:
// the input beyond it is refused unjoined with an error naming it, the
// member's input pauses (one log line, with that error), and the gauge
// and the refusal counter show it; once the stream accepts again, the
// periodic retry stores what waited and resumes the input, and every
// tick is decided, in order, none twice. (Before the pause, the inputs
// refused at the bound were dead-lettered and their ticks never decided.)
func TestUnstoredDecisionsBoundedOverApps(t *testing.T) {
	h := newOnServer(t)
	var logs natstest.Logs
	h.log = zerolog.New(&logs)
	admin, cfg := h.admin, h.cfg
	reg := prometheus.NewRegistry()
	const limit = 4
	d, _ := h.start(limit, 50*time.Millisecond, reg)

	apps := []string{"a0", "a1", "a2", "a3", "a4", "a5"}
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	publish := func(from, to int) {
		for _, app := range apps {
			publishAppTicks(t, admin, cfg, app, t0, from, to)
		}
	}
	settled := h.settled
	// waiting returns the decisions waiting in every app's outbox, and
	// checks the member's count of them.
	waiting := func() int {
		d.mu.Lock()
		defer d.mu.Unlock()
		n := 0
		for _, a := range d.state.apps {
			n += len(a.outbox)
		}
		if n != d.unstored {
			t.Fatalf("the member counts %d decisions not stored, its apps hold %d", d.unstored, n)
		}
		return n
	}

	publish(0, 2) // tick 0 of every app is decided and stored
	natstest.Eventually(t, 30*time.Second, func() error {
		for _, app := range apps {
			if n := h.stored(app); n != 1 {
				return fmt.Errorf("%d %s decisions stored, want 1", n, app)
			}
		}
		return nil
	})
	restore := h.outage(-1)
	publish(2, 6) // ticks 1 to 4 of every app complete: 24 decisions that cannot be stored
	natstest.Eventually(t, 2*time.Minute, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		if p := pausedFor(d); p != "member" {
			return fmt.Errorf("input paused for %q, want member", p)
		}
		return nil
	})

	held := waiting()
	t.Logf("%d decisions wait over %d apps (limit %d)", held, len(apps), limit)
	// An input of a one-tier app completes at most one tick: the check
	// before the join lets the total reach the limit, not pass it.
	if held == 0 || held > limit {
		t.Fatalf("%d decisions wait over %d apps, want 1 to %d (maxUnstored lowered to %d)", held, len(apps), limit, limit)
	}
	if got, _ := metricstest.Sum(t, reg, "headroom_decider_unstored_decisions"); int(got) != held {
		t.Errorf("headroom_decider_unstored_decisions = %v, want %d", got, held)
	}
	if got, _ := metricstest.Sum(t, reg, "headroom_decider_refused_inputs_total", "bound", "member"); got == 0 {
		t.Error(`headroom_decider_refused_inputs_total{bound="member"} = 0 at the bound`)
	}
	for _, data := range natstest.Payloads(t, admin, "DLQ", "apm.dlq.decider") {
		var dl proto.DeadLetter
		if err := proto.Decode(data, &dl); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(dl.Error, "input not taken") {
			t.Errorf("an input refused at the bound was dead-lettered: %s", dl.Error)
		}
	}
	// The pause is logged once, with the refusal: it names the bound, and
	// the app whose waiting decisions the stream refused (makeRoom): the
	// app of the decision whose publish failed, often not the refused
	// input's own.
	refusedApp := regexp.MustCompile(`: store app ([a-z0-9_-]+)'s waiting decisions: publish apm\.decision\.([a-z0-9_-]+)\.web `)
	pauses := logs.Lines(t, "input paused: its consumers stop fetching and keep what they fetched, unacknowledged, until the service can take input again")
	if len(pauses) != 1 {
		t.Fatalf("%d pause lines logged, want 1", len(pauses))
	}
	cause, _ := pauses[0]["cause"].(string)
	if m := refusedApp.FindStringSubmatch(cause); !strings.Contains(cause, "input not taken") || !strings.Contains(cause, fmt.Sprintf("the limit (maxUnstored) is %d", limit)) ||
		m == nil || m[1] != m[2] || !slices.Contains(apps, m[1]) {
		t.Errorf("pause logged for %q: want it to name the member's bound (maxUnstored) and the app (one of %v) whose decision the stream refused", cause, apps)
	}

	restore()
	natstest.Eventually(t, time.Minute, func() error {
		if n := waiting(); n > 0 {
			return fmt.Errorf("%d decisions still wait", n)
		}
		return settled()
	})
	if p := pausedFor(d); p != "" {
		t.Errorf("input still paused for %q once every decision is stored", p)
	}
	if n := len(logs.Lines(t, "input resumed")); n != 1 {
		t.Errorf("%d resume lines logged, want 1", n)
	}
	if got, _ := metricstest.Sum(t, reg, "headroom_decider_unstored_decisions"); got != 0 {
		t.Errorf("headroom_decider_unstored_decisions = %v once stored, want 0", got)
	}
	total := 0
	for _, app := range apps {
		ds := h.decisions(app)
		total += len(ds)
		for i := 1; i < len(ds); i++ {
			if ds[i].TS <= ds[i-1].TS {
				t.Fatalf("%s decision %d at %s after one at %s: out of order or repeated", app, i, proto.Time(ds[i].TS), proto.Time(ds[i-1].TS))
			}
		}
	}
	if want := len(apps) * 5; total != want {
		t.Fatalf("%d decisions stored after the retry, want %d (ticks 0 to 4 of every app)", total, want)
	}
}

// publishAppTicks stores minutes from..to-1 after t0 of app's tier "web",
// its load growing by 10 rps a minute from 100 (publishAppTiers).
func publishAppTicks(t *testing.T, pub *bus.Bus, cfg Config, app string, t0 time.Time, from, to int) {
	t.Helper()
	publishAppTiers(t, pub, cfg, app, []string{"web"}, t0, from, to, func(i int) float64 { return float64(100 + 10*i) })
}
