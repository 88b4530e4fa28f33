package decider

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// TestInputsJoinedWhileDecisionsCannotBeStored fills the decisions stream,
// refusing new messages, for longer than an input's deliveries last: every
// publish fails at once.
//
// Below the outbox's bound, the inputs that come meanwhile are
// dead-lettered once out of deliveries, but each was joined on its first
// delivery all the same: once decisions can be stored again, the periodic
// retry stores what waited without any new input, and every tick of both
// tiers is decided exactly once, in order. (A decider that refused inputs
// while its outbox was not empty lost them to the dead letters, and their
// ticks were never decided.) At the bound, the outbox stops growing: the
// member pauses its input, nothing is dead-lettered unjoined, and once the
// retry has stored what waited the inputs held back are joined, every
// tick decided exactly once, in order. (Before the pause, the inputs
// refused at the bound were dead-lettered, and their ticks never
// decided.)
func TestInputsJoinedWhileDecisionsCannotBeStored(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit int
	}{
		{"below the bound", maxOutbox},
		{"at the bound", 1},
	} {
		t.Run(tc.name, func(t *testing.T) { decideThroughOutage(t, tc.limit) })
	}
}

func decideThroughOutage(t *testing.T, limit int) {
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.Disabled)
	url := natstest.RunJetStream(t)
	admin := natstest.Connect(t, url, "admin", log, true)
	js := natstest.JetStream(t, admin)
	cfg := DefaultConfig()
	cfg.Policy.Tick = time.Minute
	ready := service.NewReady()
	d, err := New(cfg, service.Deps{Bus: natstest.Connect(t, url, "decider", log, false), Log: log, Reg: prometheus.NewRegistry(), Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	d.publishPause = time.Millisecond // the retries of a failed publish take milliseconds, not seconds
	d.retryEvery = 50 * time.Millisecond
	d.outboxLimit = limit
	natstest.Serve(t, "decider", d.Run)
	natstest.Eventually(t, 30*time.Second, ready.Err)

	tiers := []string{"web", "db"}
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	publish := func(from, to int) {
		publishTicks(t, admin, cfg, tiers, t0, from, to, func(i int) float64 { return float64(100 + 10*i) })
	}
	decisions := func(tier string) []*proto.Decision {
		var out []*proto.Decision
		for _, data := range natstest.Payloads(t, admin, "DECISIONS", "apm.decision.api."+tier) {
			var dd proto.Decision
			if err := proto.Decode(data, &dd); err != nil {
				t.Fatal(err)
			}
			out = append(out, &dd)
		}
		return out
	}

	// settled says every input has been acknowledged or, out of
	// deliveries, dead-lettered.
	settled := func() error {
		for _, k := range []proto.Kind{proto.KindMetrics, proto.KindForecast, proto.KindAnomaly} {
			if err := natstest.GroupDrained(context.Background(), admin, proto.StreamName("apm", k), "decider-"+string(k)); err != nil {
				return err
			}
		}
		return nil
	}

	// Tick 0 is decided and stored while all is well: the decider holds
	// its partitions and handles inputs as they come.
	publish(0, 2)
	natstest.Eventually(t, 30*time.Second, func() error {
		for _, tier := range tiers {
			if n := len(decisions(tier)); n != 1 {
				return fmt.Errorf("%d %s decisions stored, want 1", n, tier)
			}
		}
		return nil
	})

	stream, err := js.Stream(context.Background(), "DECISIONS")
	if err != nil {
		t.Fatal(err)
	}
	stored := stream.CachedInfo().Config
	outage := stored
	outage.MaxMsgs, outage.Discard = int64(stream.CachedInfo().State.Msgs), jetstream.DiscardNew
	if _, err := js.UpdateStream(context.Background(), outage); err != nil {
		t.Fatal(err)
	}
	publish(2, 5) // ticks 1 to 3 complete, their decisions cannot be stored
	atBound := limit < 6
	if atBound {
		// The member pauses its input: nothing settles until it resumes.
		natstest.Eventually(t, time.Minute, func() error {
			d.mu.Lock()
			defer d.mu.Unlock()
			if p := pausedFor(d); p != "app" {
				return fmt.Errorf("input paused for %q, want app", p)
			}
			return nil
		})
	} else {
		// Wait until the outage has outlasted every input's deliveries.
		natstest.Eventually(t, time.Minute, settled)
	}
	letters := natstest.Payloads(t, admin, "DLQ", "apm.dlq.decider")
	if !atBound && len(letters) == 0 {
		t.Fatal("no input was dead-lettered: the outage did not outlast an input's deliveries")
	}
	refused := 0 // dead letters of inputs refused unjoined
	for _, data := range letters {
		var dl proto.DeadLetter
		if err := proto.Decode(data, &dl); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(dl.Error, "input not taken") {
			refused++
		}
	}
	if refused > 0 {
		t.Fatalf("%d of %d dead letters are inputs refused unjoined; want none (bound %d): the member pauses its input instead", refused, len(letters), limit)
	}
	d.mu.Lock()
	waiting := len(d.state.app("api").outbox)
	d.mu.Unlock()
	// Ticks 1 to 3 make 6 decisions; here each input completes at most one
	// tick, so it adds at most 2.
	if most := min(6, limit-1+len(tiers)); waiting == 0 || waiting > most {
		t.Fatalf("%d decisions wait in the outbox, want 1 to %d (bound %d)", waiting, most, limit)
	}
	for _, tier := range tiers {
		if n := len(decisions(tier)); n != 1 {
			t.Fatalf("%d %s decisions stored, want tick 0's alone: the full stream did not refuse them", n, tier)
		}
	}
	if _, err := js.UpdateStream(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	// No input comes: the periodic retry stores what waits.
	natstest.Eventually(t, time.Minute, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		if n := len(d.state.app("api").outbox); n > 0 {
			return fmt.Errorf("%d decisions still wait", n)
		}
		return nil
	})
	total := 0
	for _, tier := range tiers {
		total += len(decisions(tier))
	}
	// Tick 0's, and what waited; at the bound, the inputs held back may
	// have been joined since, and their decisions stored.
	if want := len(tiers) + waiting; total != want && (!atBound || total < want) {
		t.Fatalf("%d decisions stored after the retry, want %d", total, want)
	}
	publish(5, 7)  // ticks 4 and 5 complete
	const want = 6 // ticks 0 to 5; tick 6 waits for the next metrics
	natstest.Eventually(t, time.Minute, func() error {
		for _, tier := range tiers {
			if n := len(decisions(tier)); n < want {
				return fmt.Errorf("%d %s decisions stored, want %d", n, tier, want)
			}
		}
		return nil
	})
	natstest.Eventually(t, time.Minute, settled) // nothing more to come
	for _, tier := range tiers {
		ds := decisions(tier)
		for i, dd := range ds {
			if wantTS := proto.Millis(t0.Add(time.Duration(i) * time.Minute)); dd.TS != wantTS {
				t.Fatalf("%s decision %d at %s, want %s: a tick lost or repeated", tier, i, proto.Time(dd.TS), proto.Time(wantTS))
			}
		}
		if len(ds) != want {
			t.Fatalf("%d %s decisions, want exactly %d", len(ds), tier, want)
		}
	}
}
