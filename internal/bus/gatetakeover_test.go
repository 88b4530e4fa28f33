package bus_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestGateClosedDuringTakeOverTopUp: a partition's take-over is topped up
// on its first live delivery with what was stored after its rebuild's
// count, and the stage's gate closes on that top-up. The consumer must
// pause as for a live refusal, and once the gate opens take the partition
// over from where the top-up stopped: every tick once, in stream order,
// including those stored during the outage, nothing dead-lettered. Before
// the fix the top-up waited for the gate inside the delivery callback: the
// consumer went on fetching, what its client held (the ticks stored
// during the outage) was redelivered each AckWait and handled once per
// delivery.
func TestGateClosedDuringTakeOverTopUp(t *testing.T) {
	const first, later, during, bound = 5, 55, 20, 10
	const n = first + later + during
	const outage = 4 * time.Second
	b, _, reg := gatedBus(t)
	publishRange(t, b, 0, first)
	s := &gatedStage{gate: b.NewGate("forecaster", "outputs"), bound: bound, down: true}
	// The take-over's rebuild replays the first ticks; the later ones are
	// stored as it handles its last, after it read where to end, for the
	// top-up on the first live delivery.
	var once sync.Once
	h := func(ctx context.Context, m *bus.Msg) ([]bus.Out, error) {
		if m.Seq == first {
			once.Do(func() { publishRange(t, b, first, first+later) })
		}
		return s.handle(ctx, m)
	}
	spec := bus.ConsumerSpec{Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics, Gate: s.gate,
		MaxDeliver: 3, NakDelay: 10 * time.Millisecond, AckWait: time.Second, Group: &bus.GroupSpec{Rebuild: true}}
	consumeGated(t, b, spec, h)

	natstest.Eventually(t, 30*time.Second, func() error {
		if calls, _, _ := s.state(); calls <= bound || s.gate.Paused() == "" {
			return fmt.Errorf("%d handler calls, gate %q: want the top-up refused", calls, s.gate.Paused())
		}
		return nil
	})
	publishRange(t, b, first+later, n)
	time.Sleep(outage) // the outage's length, four AckWaits: nothing is awaited
	if calls, taken, _ := s.state(); len(taken) != bound || calls != bound+1 {
		t.Errorf("%d handler calls took %d ticks during the outage, want %d calls taking %d", calls, len(taken), bound+1, bound)
	}
	s.up()
	natstest.Eventually(t, 30*time.Second, func() error {
		if _, taken, _ := s.state(); len(taken) < n {
			return fmt.Errorf("%d of %d ticks taken", len(taken), n)
		}
		return natstest.GroupDrained(context.Background(), b, "METRICS", "forecaster")
	})
	s.checkTakenOnce(t, reg, n)
}
