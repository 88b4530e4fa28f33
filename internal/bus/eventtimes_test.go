package bus_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// decisionOut is app.tier's hold at minute i after t0, ~600 bytes as the
// decider's are (its reason and inputs).
func decisionOut(app, tier string, i int) bus.Out {
	ts := proto.Millis(t0.Add(time.Duration(i) * time.Minute))
	d := &proto.Decision{V: proto.SchemaVersion, ID: proto.DecisionID(app, tier, ts), App: app, Tier: tier, TS: ts,
		From: 2, To: 2, Action: proto.ActionHold, State: "steady", TickMS: 60000,
		Reason: "hold: the forecast load over the lead time stays within the tier's headroom band, and no incident is open on the tier",
		Inputs: proto.Floats{"rps": 100, "rps_per_replica": 50, "forecast_p95": 120, "ready": 2, "desired": 2, "lead_s": 90, "band_lo": 0.5, "band_hi": 0.8}}
	return bus.Out{Subject: proto.DecisionSubject("apm", app, tier), Msg: d}
}

func minute(i int) int64 { return proto.Millis(t0.Add(time.Duration(i) * time.Minute)) }

// TestEventTimesSince: the event times of the messages stored on each
// subject of a filter from a stored time on, in the order stored, keyed by
// the published subject: a tick never stored is missing from its list,
// what was stored before since is not read, other apps' subjects are not
// read. A message without the event-time header (its tick unknown) or
// one the stream's retention removed during the read ends what the list
// may span: it holds only the ticks after them, never one with a gap
// where a message was stored.
func TestEventTimesSince(t *testing.T) {
	b := mustBus(t, natstest.RunJetStream(t))
	ctx := context.Background()
	publish := func(app, tier string, ticks ...int) {
		t.Helper()
		for _, i := range ticks {
			if err := b.Publish(ctx, decisionOut(app, tier, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish("shop", "web", 0, 1)
	publish("other", "web", 0)
	publish("shop", "web", 2)
	r, err := b.Reader(ctx, proto.KindDecision)
	if err != nil {
		t.Fatal(err)
	}
	last, err := r.Last(ctx, proto.DecisionSubject("apm", "shop", "web"))
	if err != nil {
		t.Fatal(err)
	}
	since := last.Stored         // tick 2's
	publish("shop", "web", 4, 5) // 3: dropped unstored
	publish("shop", "db", 0, 1)
	publish("other", "web", 1)
	// A message on shop.api without the header: not the decider's, its
	// tick unknown (it could be 2's), so the ticks before it are not
	// listed.
	publish("shop", "api", 0, 1)
	js := natstest.JetStream(t, b)
	if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: proto.DecisionSubject("apm", "shop", "api"), Data: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	publish("shop", "api", 3, 4)
	publish("shop", "web", 6)

	web, db, api := proto.DecisionSubject("apm", "shop", "web"), proto.DecisionSubject("apm", "shop", "db"), proto.DecisionSubject("apm", "shop", "api")
	nothing := proto.DecisionSubject("apm", "shop", "none") // never stored on
	// mark picks minute 4's decisions by their payload.
	mark := func(data []byte) bool {
		var d proto.Decision
		return proto.Decode(data, &d) == nil && d.TS == minute(4)
	}
	got, err := b.EventTimesSince(ctx, proto.KindDecision, map[string]time.Time{web: since, db: since, api: since, nothing: since}, mark)
	if err != nil {
		t.Fatal(err)
	}
	for subj, w := range map[string][]int64{web: {minute(4)}, db: nil, api: {minute(4)}, nothing: nil} {
		if !slices.Equal(got[subj].Marked, w) {
			t.Errorf("%s: marked %v, want %v", subj, got[subj].Marked, w)
		}
	}
	want := map[string][]int64{
		web:     {minute(2), minute(4), minute(5), minute(6)},
		db:      {minute(0), minute(1)},
		api:     {minute(3), minute(4)},
		nothing: {},
	}
	if len(got) != len(want) {
		t.Errorf("subjects read: %v, want %v", got, want)
	}
	for subj, w := range want {
		if g, ok := got[subj]; !ok || !slices.Equal(g.Ticks, w) {
			t.Errorf("%s: %v, want %v", subj, g.Ticks, w)
		}
	}
	// Each subject from its own time: nothing stored since an hour on.
	got, err = b.EventTimesSince(ctx, proto.KindDecision, map[string]time.Time{web: time.Now().Add(time.Hour), db: time.Time{}}, nil)
	if err != nil || len(got[web].Ticks) != 0 || !slices.Equal(got[db].Ticks, []int64{minute(0), minute(1)}) || got[db].Marked != nil {
		t.Fatalf("read web from after its last message, db from the start: %v, %v", got, err)
	}
}

// TestEventTimesSinceRetentionDuringTheRead: the stream's retention
// removing its oldest messages while the read walks a subject (a MaxBytes
// stream at its cap, others' decisions flowing in, the window at its
// oldest) must not leave the list spanning what it removed: the walk reads
// on from the next message it still holds, and ticks stored and removed
// behind the walk's first read would be listed as never stored, the gap a
// take-over takes for a dropped change (Apps.SetStoredTicks) and withdraws
// though the executor runs it.
func TestEventTimesSinceRetentionDuringTheRead(t *testing.T) {
	b := mustBus(t, natstest.RunJetStream(t))
	ctx := context.Background()
	web := proto.DecisionSubject("apm", "shop", "web")
	for i := range 6 {
		if err := b.Publish(ctx, decisionOut("shop", "web", i)); err != nil {
			t.Fatal(err)
		}
	}
	js := natstest.JetStream(t, b)
	s, err := js.Stream(ctx, proto.StreamName("apm", proto.KindDecision))
	if err != nil {
		t.Fatal(err)
	}
	first := s.CachedInfo().State.FirstSeq
	read := 0
	defer bus.OnEventTimesWalked(func() {
		if read++; read == 1 {
			// Tick 0 read: the stream drops its oldest, ticks 0-2, as
			// its limits drop them (first its oldest).
			if err := s.Purge(ctx, jetstream.WithPurgeSequence(first+3)); err != nil {
				t.Error(err)
			}
		}
	})()
	got, err := b.EventTimesSince(ctx, proto.KindDecision, map[string]time.Time{web: {}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{minute(3), minute(4), minute(5)}; !slices.Equal(got[web].Ticks, want) {
		t.Fatalf("read %v, want %v: ticks 1 and 2 were stored", got[web].Ticks, want)
	}

	// A per-subject cap set on the stream by hand trims a subject's
	// oldest behind no first sequence of the stream's: nothing is listed.
	cfg := s.CachedInfo().Config
	cfg.MaxMsgsPerSubject = 100
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if got, err = b.EventTimesSince(ctx, proto.KindDecision, map[string]time.Time{web: {}}, nil); err != nil || len(got[web].Ticks) != 0 {
		t.Fatalf("read %v (%v) from a stream with a per-subject cap, want nothing", got[web].Ticks, err)
	}
}

// BenchmarkEventTimesSince reads the event times of tiers × ticks
// decisions of ~600 bytes each (1-minute ticks): a decider take-over's
// window (Config.StoredWindow: 512 ticks) for one tier and for 16 (as many
// as it reads at once: eventTimesWalks). One op is one EventTimesSince
// over all of them. HEADROOM_BENCH_LARGE=1 adds 100 tiers' windows and 10
// tiers' whole default lookback (73 h), the figures eventTimesWalks cites:
// their setup stores some 95,000 messages, a minute of CI's benchmark
// smoke run on a loaded 2-core machine, so they run only when asked.
func BenchmarkEventTimesSince(b *testing.B) {
	cases := []struct{ tiers, ticks int }{{1, 512}, {16, 512}}
	if os.Getenv("HEADROOM_BENCH_LARGE") != "" {
		cases = append(cases, struct{ tiers, ticks int }{100, 512}, struct{ tiers, ticks int }{10, 4380})
	}
	for _, bc := range cases {
		b.Run(fmt.Sprintf("%dtiers_%dticks", bc.tiers, bc.ticks), func(b *testing.B) {
			bs := natstest.Bus(b, "bench", zerolog.Nop())
			ctx := context.Background()
			outs := make([]bus.Out, 0, 1000)
			flush := func() {
				if err := bs.PublishAll(ctx, outs); err != nil {
					b.Fatal(err)
				}
				outs = outs[:0]
			}
			for i := range bc.ticks {
				for j := range bc.tiers {
					if outs = append(outs, decisionOut("shop", fmt.Sprintf("t%03d", j), i)); len(outs) == cap(outs) {
						flush()
					}
				}
			}
			flush()
			since := map[string]time.Time{}
			for j := range bc.tiers {
				since[proto.DecisionSubject("apm", "shop", fmt.Sprintf("t%03d", j))] = time.Time{}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				got, err := bs.EventTimesSince(ctx, proto.KindDecision, since, nil)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != bc.tiers || len(got["apm.decision.shop.t000"].Ticks) != bc.ticks {
					b.Fatalf("read %d subjects, %d ticks of t000", len(got), len(got["apm.decision.shop.t000"].Ticks))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(bc.tiers*bc.ticks), "ns/msg")
		})
	}
}

// TestEventTimesSinceAsksAgain: one leader get lost to a timeout or to no
// responders (a leader election, a pause) is asked again from the
// sequence it asked for, the list whole; a refusal fails the read at once,
// and a get failing every attempt fails it after EventTimesGetAttempts.
func TestEventTimesSinceAsksAgain(t *testing.T) {
	b := mustBus(t, natstest.RunJetStream(t))
	ctx := context.Background()
	web := proto.DecisionSubject("apm", "shop", "web")
	for i := range 4 {
		if err := b.Publish(ctx, decisionOut("shop", "web", i)); err != nil {
			t.Fatal(err)
		}
	}
	all := []int64{minute(0), minute(1), minute(2), minute(3)}
	for _, tc := range []struct {
		name  string
		fail  []error // the errors of gets 2, 3, ... (get 1 reads tick 0)
		gets  int     // gets made in all
		want  []int64 // nil: the read fails
		isErr error
	}{
		{name: "timeout", fail: []error{nats.ErrTimeout}, gets: 6, want: all},
		{name: "deadline then no responders", fail: []error{context.DeadlineExceeded, nats.ErrNoResponders}, gets: 7, want: all},
		{name: "refused", fail: []error{nats.ErrPermissionViolation}, gets: 2, isErr: nats.ErrPermissionViolation},
		{name: "every attempt", fail: slices.Repeat([]error{nats.ErrTimeout}, bus.EventTimesGetAttempts), gets: 1 + bus.EventTimesGetAttempts, isErr: nats.ErrTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gets := 0
			defer bus.OnEventTimesGet(time.Millisecond, func() error {
				if gets++; gets >= 2 && gets-2 < len(tc.fail) {
					return tc.fail[gets-2]
				}
				return nil
			})()
			got, err := b.EventTimesSince(ctx, proto.KindDecision, map[string]time.Time{web: {}}, nil)
			if tc.want == nil {
				if !errors.Is(err, tc.isErr) {
					t.Fatalf("read %v, %v; want %v", got[web].Ticks, err, tc.isErr)
				}
			} else if err != nil || !slices.Equal(got[web].Ticks, tc.want) {
				t.Fatalf("read %v, %v; want %v", got[web].Ticks, err, tc.want)
			}
			if gets != tc.gets {
				t.Errorf("%d gets, want %d", gets, tc.gets)
			}
		})
	}
}

// TestEventTimesSinceRefusedAtOnce: a leader get the server refuses (the
// user may not publish to the stream's STREAM.MSG.GET subject) reaches the
// client as an asynchronous permissions error, the request itself only
// timing out: the read fails at the refusal, with it, after one get, not
// after leaderGetTimeout's wait asked again as if nobody had answered.
func TestEventTimesSinceRefusedAtOnce(t *testing.T) {
	r := natstest.StartRestricted(t, "decider", "$JS.API.STREAM.MSG.GET.>")
	admin := r.Connect(t, "admin", zerolog.Nop()) // provisions the streams
	ctx := context.Background()
	if err := admin.Publish(ctx, decisionOut("shop", "web", 0)); err != nil {
		t.Fatal(err)
	}
	b := r.Connect(t, "decider", natstest.Log(t))
	gets := 0
	defer bus.OnEventTimesGet(time.Millisecond, func() error { gets++; return nil })()
	// Well below leaderGetTimeout (20 s): a get waited out, then asked
	// again, ends by this instead, not refused.
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err := b.EventTimesSince(rctx, proto.KindDecision, map[string]time.Time{proto.DecisionSubject("apm", "shop", "web"): {}}, nil)
	if !bus.IsRefused(err) {
		t.Fatalf("read %v, %v; want the server's refusal", got, err)
	}
	if gets != 1 {
		t.Errorf("%d gets, want 1: a refusal is not asked again", gets)
	}
}
