package bus_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// returningStage records every message its two inputs (metrics and
// forecasts) hand it, as "kind app.tier i", and answers Returning for the
// app (and tier) the test marks, once.
type returningStage struct {
	mu         sync.Mutex
	seen       []string
	mark, tier string
	delivered  uint64 // of the last message delivered live
}

func (s *returningStage) handler(k proto.Kind) bus.Handler {
	return func(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
		var v struct {
			App, Tier string
			Values    map[string]float64
			Model     string
		}
		var err error
		switch k {
		case proto.KindMetrics:
			var t proto.Metrics
			err = proto.Decode(m.Data, &t)
			v.App, v.Tier, v.Model = t.App, t.Tier, fmt.Sprint(t.Values["i"])
		default:
			var f proto.Forecast
			err = proto.Decode(m.Data, &f)
			v.App, v.Tier, v.Model = f.App, f.Tier, f.Model
		}
		if err != nil {
			return nil, bus.Permanent(err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.seen = append(s.seen, fmt.Sprintf("%s %s.%s %s", k, v.App, v.Tier, v.Model))
		if !m.Replayed() {
			s.delivered = m.Delivered
		}
		return nil, nil
	}
}

func (s *returningStage) returning(m *bus.Msg) (string, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mark == "" || !strings.HasPrefix(m.Subject, "apm.metrics."+s.mark+".") {
		return "", "", false
	}
	app, tier := s.mark, s.tier
	s.mark = ""
	return app, tier, true
}

// since returns what the stage saw from index i on.
func (s *returningStage) since(i int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen[min(i, len(s.seen)):])
}

// TestReturningAppIsRebuiltFromItsHistory: a stage that evicted an idle
// app's state says so when the app comes back (GroupSpec.Returning), and
// the runtime replays that app's recorded inputs, on every input of the
// group, each in its order (merged by stored time, as a take-over's
// rebuild: TestRebuildMergesInputsByStoredTime), before the message that brought it
// back; no other app's, only once, and never past what an input has
// handled. Asked for one tier, only that tier's history comes back.
func TestReturningAppIsRebuiltFromItsHistory(t *testing.T) {
	url := natstest.RunJetStream(t)
	pub := mustBus(t, url)
	b := mustBus(t, url)
	st := &returningStage{}
	runTwoInputGroup(t, b, bus.GroupSpec{Rebuild: true, Returning: st.returning}, st.handler(proto.KindMetrics), st.handler(proto.KindForecast))
	metrics := func(app, tier string, i int) bus.Out {
		m := proto.NewMetrics(app, tier, t0.Add(time.Duration(i)*time.Minute), 2, proto.Floats{"rps": 1, "i": float64(i)})
		return bus.Out{Subject: proto.MetricsSubject("apm", app, tier), Msg: m}
	}
	forecast := func(app, tier string, i int) bus.Out {
		ts := proto.Millis(t0.Add(time.Duration(i) * time.Minute))
		f := &proto.Forecast{V: 1, ID: proto.ForecastID(app, tier, "rps", ts), App: app, Tier: tier, TS: ts, Metric: "rps", StepMS: 60000, Model: fmt.Sprint(i)}
		return bus.Out{Subject: proto.ForecastSubject("apm", app, tier), Msg: f}
	}
	var outs []bus.Out
	for i := 1; i <= 3; i++ {
		outs = append(outs, metrics("a", "web", i), metrics("a", "db", i), metrics("b", "web", i), forecast("a", "web", i))
	}
	publish := func(outs ...bus.Out) {
		t.Helper()
		if err := pub.PublishAll(context.Background(), outs); err != nil {
			t.Fatal(err)
		}
	}
	publish(outs...)
	waitSeen := func(from int, last string) []string {
		t.Helper()
		var got []string
		natstest.Eventually(t, 30*time.Second, func() error {
			got = st.since(from)
			if len(got) == 0 || got[len(got)-1] != last {
				return fmt.Errorf("stage saw %q, waiting for %q", got, last)
			}
			return nil
		})
		return got
	}
	// Partitions are handled side by side: wait for the count, not an order.
	natstest.Eventually(t, 30*time.Second, func() error {
		if n := len(st.since(0)); n != 12 {
			return fmt.Errorf("stage saw %d messages, want 12", n)
		}
		return nil
	})

	cases := []struct {
		name, tier string
		next       bus.Out
		last       string
		want       []string
	}{
		{"the whole app", "", metrics("a", "web", 4), "metrics a.web 4", []string{
			"metrics a.web 1", "metrics a.db 1", "metrics a.web 2", "metrics a.db 2", "metrics a.web 3", "metrics a.db 3",
			"forecast a.web 1", "forecast a.web 2", "forecast a.web 3",
			"metrics a.web 4"}},
		{"one tier", "db", metrics("a", "db", 4), "metrics a.db 4", []string{
			"metrics a.db 1", "metrics a.db 2", "metrics a.db 3",
			"metrics a.db 4"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			from := len(st.since(0))
			st.mu.Lock()
			st.mark, st.tier = "a", c.tier
			st.mu.Unlock()
			publish(c.next)
			got := waitSeen(from, c.last)
			if !sameReplay(got, c.want) {
				t.Fatalf("after a returned the stage saw\n%q\nwant\n%q", got, c.want)
			}
		})
	}
	// A replay that fails (three silent direct-get replies on the
	// forecasts, while the metrics' replay waits for them at the merge)
	// is owed: the redelivered message makes it, and each message is
	// replayed once, none by the failed replay.
	t.Run("a failed replay is retried", func(t *testing.T) {
		from := len(st.since(0))
		st.mu.Lock()
		st.mark, st.tier = "a", ""
		st.mu.Unlock()
		defer bus.SilenceDirectGetsOn(proto.KindForecast.Stream(), 3, 100*time.Millisecond)()
		publish(metrics("a", "web", 5))
		got := waitSeen(from, "metrics a.web 5")
		st.mu.Lock()
		delivered := st.delivered
		st.mu.Unlock()
		if delivered != 2 {
			t.Errorf("metrics a.web 5 handled at its delivery %d, want 2: the first one's replay failing", delivered)
		}
		want := []string{
			"metrics a.web 1", "metrics a.db 1", "metrics a.web 2", "metrics a.db 2", "metrics a.web 3", "metrics a.db 3",
			"metrics a.web 4", "metrics a.db 4",
			"forecast a.web 1", "forecast a.web 2", "forecast a.web 3",
			"metrics a.web 5"}
		if !sameReplay(got, want) {
			t.Fatalf("after a failed replay the stage saw\n%q\nwant\n%q", got, want)
		}
	})
	// Only once: the next message of a is handled alone.
	from := len(st.since(0))
	publish(metrics("a", "web", 6))
	if got := waitSeen(from, "metrics a.web 6"); len(got) != 1 {
		t.Fatalf("a's next message brought %q, want it alone", got)
	}
	// A replay that fails midway (the forecasts' second batch of two
	// unanswered, once both inputs have handled some of a's history) is
	// resumed, not begun again: the stage is handed each message once.
	t.Run("a replay failing midway is resumed", func(t *testing.T) {
		from := len(st.since(0))
		st.mu.Lock()
		st.mark, st.tier = "a", ""
		st.mu.Unlock()
		defer bus.DirectGetBatchesOf(2)()
		defer bus.SilenceDirectGetsOnAfter(proto.KindForecast.Stream(), 1, 3, 100*time.Millisecond)()
		publish(metrics("a", "web", 7))
		got := waitSeen(from, "metrics a.web 7")
		st.mu.Lock()
		delivered := st.delivered
		st.mu.Unlock()
		if delivered != 2 {
			t.Errorf("metrics a.web 7 handled at its delivery %d, want 2: the first one's replay failing", delivered)
		}
		want := []string{
			"metrics a.web 1", "metrics a.db 1", "metrics a.web 2", "metrics a.db 2", "metrics a.web 3", "metrics a.db 3",
			"metrics a.web 4", "metrics a.db 4", "metrics a.web 5", "metrics a.web 6",
			"forecast a.web 1", "forecast a.web 2", "forecast a.web 3",
			"metrics a.web 7"}
		if !sameReplay(got, want) {
			t.Fatalf("after a replay failed midway the stage saw\n%q\nwant\n%q", got, want)
		}
	})
}

// sameReplay says got holds want's messages, each input's (kind's) in
// want's order, whatever the interleaving of the inputs (their messages'
// stored order, which a batch published at once leaves to the server),
// and ends with want's last, the message that brought the app back.
func sameReplay(got, want []string) bool {
	if len(got) != len(want) || len(got) == 0 || got[len(got)-1] != want[len(want)-1] {
		return false
	}
	of := func(s []string, kind string) []string {
		var out []string
		for _, m := range s {
			if strings.HasPrefix(m, kind+" ") {
				out = append(out, m)
			}
		}
		return out
	}
	for _, kind := range []string{string(proto.KindMetrics), string(proto.KindForecast)} {
		if !slices.Equal(of(got, kind), of(want, kind)) {
			return false
		}
	}
	return true
}

// runTwoInputGroup runs a decider-like group of two inputs, metrics and
// forecasts, on b until the test ends (failing it if the group returns an
// error), and returns once the group has started: its rebuild is done.
func runTwoInputGroup(t *testing.T, b *bus.Bus, g bus.GroupSpec, metrics, forecasts bus.Handler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		done <- b.ConsumeGroup(ctx, "decider", g, func() { close(started) },
			bus.GroupInput{Spec: bus.ConsumerSpec{Service: "decider", Name: "decider-metrics", Kind: proto.KindMetrics}, Handler: metrics},
			bus.GroupInput{Spec: bus.ConsumerSpec{Service: "decider", Name: "decider-forecast", Kind: proto.KindForecast}, Handler: forecasts})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("group did not start in 30 s")
	}
}
