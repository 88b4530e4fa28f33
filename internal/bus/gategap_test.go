package bus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestGateClosedDuringGapTopUp: a delivery lost in flight (tick lost's)
// is topped up from the stream before the next one, and the stage's gate
// closes on that top-up. The consumer must then pause as it does for a
// live refusal: stop fetching, and keep the message in hand and what it
// fetched in progress, so that once the gate opens every tick is taken
// once, in stream order, on its first or second delivery, and nothing is
// dead-lettered. Before the fix the top-up waited for the gate inside the
// delivery callback: the consumer went on fetching, and what its client
// held, never told the server it was in progress, was redelivered each
// AckWait (1 s) of a four-second outage and taken again, out of order.
func TestGateClosedDuringGapTopUp(t *testing.T) {
	const n, lost = 60, 10 // tick lost (stream sequence lost+1) is lost in flight; the stage holds lost outputs
	const outage = 4 * time.Second
	t.Cleanup(bus.LoseDelivery(func(_ string, seq, delivered uint64) bool { return delivered == 1 && seq == lost+1 }))
	b, _, reg := gatedBus(t)
	publishRange(t, b, 0, n)

	s := &gatedStage{gate: b.NewGate("forecaster", "outputs"), bound: lost, down: true}
	spec := bus.ConsumerSpec{Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics, Gate: s.gate,
		MaxDeliver: 3, NakDelay: 10 * time.Millisecond, AckWait: time.Second}
	consumeGated(t, b, spec, s.handle)

	natstest.Eventually(t, 30*time.Second, func() error {
		if calls, _, _ := s.state(); calls <= lost || s.gate.Paused() == "" {
			return fmt.Errorf("%d handler calls, gate %q: want the top-up refused", calls, s.gate.Paused())
		}
		return nil
	})
	time.Sleep(outage) // the outage's length, four AckWaits: nothing is awaited
	if calls, taken, _ := s.state(); len(taken) != lost || calls != lost+1 {
		t.Errorf("%d handler calls took %d ticks during the outage, want %d calls taking %d", calls, len(taken), lost+1, lost)
	}
	s.up()
	natstest.Eventually(t, 30*time.Second, func() error {
		c, err := natstest.JetStream(t, b).Consumer(context.Background(), "METRICS", "forecaster")
		if err != nil {
			return err
		}
		if info := c.CachedInfo(); info.NumPending > 0 || info.NumAckPending > 0 {
			return fmt.Errorf("%d pending, %d awaiting ack", info.NumPending, info.NumAckPending)
		}
		if _, taken, _ := s.state(); len(taken) < n {
			return fmt.Errorf("%d of %d ticks taken", len(taken), n)
		}
		return nil
	})
	s.checkTakenOnce(t, reg, n)
}
