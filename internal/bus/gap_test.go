package bus_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestDeliveryLostInFlight: a delivery lost between the server and the
// client (a node killed with it in its outbound buffer) is redelivered
// only after AckWait, while the consumer goes on delivering the messages
// after it. The runtime sees the gap in the consumer sequence and hands
// the handler the missing messages, read from the stream, before the one
// in hand: the handler sees its filter's messages in stream order, each
// once, and the late redelivery is acknowledged without handling. A
// redelivery after a nak leaves no gap and is handled again as before.
func TestDeliveryLostInFlight(t *testing.T) {
	const ackWait = time.Second
	for _, c := range []struct {
		name string
		// lose and fail pick, by the web tick's number (1..5), the
		// deliveries lost in flight and the one the handler refuses once.
		lose []int
		fail int
		// deferAck makes the handler take every acknowledgement and give
		// it once its work is stored (a stage's outbox).
		deferAck bool
		// silence makes that many direct gets of the top-up go
		// unanswered: three fail one try.
		silence int
		// cut makes the top-up's first direct get end after one message
		// and the next three go unanswered: it fails after handling it.
		cut bool
		// elsewhere picks the ticks another reader of the durable
		// handles (acknowledges) instead of this one; rebuilds makes the
		// consumer one whose group rebuilds its state.
		elsewhere []int
		rebuilds  bool
		want      []int // the web ticks the handler sees, in order
		// anyOrder: want holds the ticks handled, in any order, each
		// once at least.
		anyOrder bool
		replayed int // how many the handler is handed as replays
		gaps     float64
	}{
		{name: "lost in flight", lose: []int{2}, want: []int{1, 2, 3, 4, 5}, gaps: 1},
		{name: "lost in flight, acknowledgement deferred", lose: []int{2}, deferAck: true, want: []int{1, 2, 3, 4, 5}, gaps: 1},
		{name: "two lost in flight", lose: []int{3, 4}, want: []int{1, 2, 3, 4, 5}, gaps: 1},
		{name: "two gaps", lose: []int{2, 4}, want: []int{1, 2, 3, 4, 5}, gaps: 2},
		{name: "nakked", fail: 2, want: []int{1, 2, 3, 4, 5, 2}, gaps: 0},
		// The top-up is tried again while the message in hand waits.
		{name: "top-up fails once", lose: []int{2}, silence: 3, want: []int{1, 2, 3, 4, 5}, gaps: 1},
		// The try after a failure goes on after the messages handled.
		{name: "top-up fails after a message", lose: []int{2, 3}, cut: true, want: []int{1, 2, 3, 4, 5}, gaps: 1},
		// Another member read the durable meanwhile (both believed they
		// owned its partition): what it handled and acknowledged is no
		// lost delivery. A stage that rebuilds its state is handed it
		// as replays; the executor, whose group does not, would act on
		// decisions the other member acted on already.
		{name: "handled elsewhere", elsewhere: []int{2, 3}, want: []int{1, 4, 5}, gaps: 1},
		{name: "handled elsewhere, state rebuilt", elsewhere: []int{2, 3}, rebuilds: true, want: []int{1, 2, 3, 4, 5}, replayed: 2, gaps: 1},
		{name: "lost after one handled elsewhere", elsewhere: []int{2}, lose: []int{3}, want: []int{1, 3, 4, 5}, gaps: 1},
		// A stream that cannot be read stalls the consumer for AckWait at
		// most: the lost message then comes with its redelivery.
		{name: "top-up keeps failing", lose: []int{2}, silence: 1 << 20, want: []int{1, 2, 3, 4, 5}, anyOrder: true, gaps: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			cfg := bus.DefaultConfig()
			cfg.URL, cfg.Name = natstest.RunJetStream(t), "test"
			b, err := bus.Connect(context.Background(), cfg, zerolog.New(zerolog.NewTestWriter(t)), reg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Close(5 * time.Second) })
			if err := b.EnsureStreams(context.Background()); err != nil {
				t.Fatal(err)
			}
			// The web ticks interleaved with another tier's, which the
			// consumer's filter leaves out: its stream sequences have
			// gaps that are no lost delivery.
			tickSeq := map[uint64]int{} // stream sequence → web tick
			var webSeqs []uint64
			for i := 1; i <= 5; i++ {
				for _, tier := range []string{"db", "web"} {
					m := proto.NewMetrics("shop", tier, t0.Add(time.Duration(i)*time.Minute), 2, proto.Floats{"rps": float64(i)})
					f, err := b.PublishAsync(bus.Out{Subject: proto.MetricsSubject("apm", "shop", tier), Msg: m})
					if err != nil {
						t.Fatal(err)
					}
					var ack *bus.PubAck
					select {
					case ack = <-f.Ok():
					case err := <-f.Err():
						t.Fatal(err)
					case <-time.After(10 * time.Second):
						t.Fatal("no publish acknowledgement in 10s")
					}
					if tier == "web" {
						tickSeq[ack.Sequence] = i
						webSeqs = append(webSeqs, ack.Sequence)
					}
				}
			}
			if len(c.lose) > 0 {
				lost := map[uint64]bool{}
				for _, i := range c.lose {
					lost[webSeqs[i-1]] = true
				}
				t.Cleanup(bus.LoseDelivery(func(_ string, seq, delivered uint64) bool { return delivered == 1 && lost[seq] }))
			}
			if c.silence > 0 {
				t.Cleanup(bus.SilenceDirectGets(c.silence))
			}
			if c.cut {
				t.Cleanup(bus.CutDirectGets(1, 3))
			}
			if len(c.elsewhere) > 0 {
				taken, lost := map[uint64]bool{}, map[uint64]bool{}
				for _, i := range c.elsewhere {
					taken[webSeqs[i-1]] = true
				}
				for _, i := range c.lose {
					lost[webSeqs[i-1]] = true
				}
				// In place of LoseDelivery's hook: it loses c.lose too.
				t.Cleanup(bus.HandleElsewhere(
					func(_ string, seq, delivered uint64) bool { return delivered == 1 && taken[seq] },
					func(_ string, seq, delivered uint64) bool { return delivered == 1 && lost[seq] }))
			}
			var mu sync.Mutex
			var seen []int
			replayed := 0
			filter := proto.StoredForm("apm", proto.KindMetrics, proto.MetricsSubject("apm", "shop", "web"))
			stop := natstest.Serve(t, "consumer", func(ctx context.Context) error {
				spec := bus.ConsumerSpec{Service: "svc", Name: "svc", Kind: proto.KindMetrics, Filters: []string{filter},
					AckWait: ackWait, NakDelay: 100 * time.Millisecond}
				if c.rebuilds {
					spec = bus.Rebuilding(spec)
				}
				return b.Consume(ctx, spec,
					func(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
						i := tickSeq[m.Seq]
						mu.Lock()
						seen = append(seen, i)
						if m.Replayed() {
							replayed++
						}
						mu.Unlock()
						if i == c.fail && m.Delivered == 1 {
							return nil, fmt.Errorf("refused once")
						}
						if c.deferAck {
							go m.Defer()() // the work stored by another goroutine
						}
						return nil, nil
					})
			})
			// Done once every delivery, the extra ones too (the lost
			// messages' or the nakked one's), is acknowledged.
			deliveries := uint64(5 + len(c.lose))
			if c.fail > 0 {
				deliveries++ // the one nakked
			}
			natstest.Eventually(t, 20*time.Second, func() error {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				cons, err := natstest.JetStream(t, b).Consumer(ctx, proto.StreamName("apm", proto.KindMetrics), "svc")
				if err != nil {
					return err
				}
				info, err := cons.Info(ctx)
				if err != nil {
					return err
				}
				if info.NumAckPending > 0 || info.NumPending > 0 || info.Delivered.Consumer < deliveries {
					return fmt.Errorf("%d deliveries, %d awaiting ack, %d pending", info.Delivered.Consumer, info.NumAckPending, info.NumPending)
				}
				return nil
			})
			stop()
			mu.Lock()
			defer mu.Unlock()
			if c.anyOrder {
				seen = slices.Compact(slices.Sorted(slices.Values(seen)))
			}
			if !slices.Equal(seen, c.want) {
				t.Errorf("the handler saw the web ticks %v, want %v", seen, c.want)
			}
			if replayed != c.replayed {
				t.Errorf("%d messages marked replayed, want %d (a top-up's lost deliveries are live)", replayed, c.replayed)
			}
			if got := gapsOf(t, reg); got != c.gaps {
				t.Errorf("headroom_bus_delivery_gaps_total = %v, want %v", got, c.gaps)
			}
		})
	}
}

// gapsOf is the metrics stream's delivery gap counter in reg.
func gapsOf(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, mf := range mfs {
		if mf.GetName() != "headroom_bus_delivery_gaps_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stream" && l.GetValue() == proto.StreamName("apm", proto.KindMetrics) {
					v += m.GetCounter().GetValue()
				}
			}
		}
	}
	return v
}
