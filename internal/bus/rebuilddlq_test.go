package bus_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestRebuildDeadLetterRefusedWaitsInPlace: a take-over's rebuild meets a
// message its handler refuses (permanently) while the server refuses the
// service's dead letters (nats.conf). The rebuild failed with the dead
// letter, and the partition's worker restarted the whole take-over (every
// second, growing to 10 s): the lookback read and handled again, the
// refused message's handler called again, at each restart, for as long
// as the refusal lasted. The dead letter is tried again in place instead,
// the message not handled again, and once allowed it is stored and the
// take-over goes on: every tick handled once.
func TestRebuildDeadLetterRefusedWaitsInPlace(t *testing.T) {
	const ticks, bad = 5, 2
	r := natstest.StartRestricted(t, "forecaster", "apm.dlq.>")
	admin := r.Connect(t, "admin", zerolog.Nop()) // provisions the streams
	logs := &natstest.Logs{}
	b := r.Connect(t, "forecaster", zerolog.New(zerolog.MultiLevelWriter(zerolog.NewTestWriter(t), logs)))
	var outs []bus.Out
	for i := range ticks {
		outs = append(outs, tick(i))
	}
	if err := admin.PublishAll(context.Background(), outs); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	calls := map[int]int{}
	h := func(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
		var v proto.Metrics
		if err := b.Decode(m, proto.KindMetrics, &v); err != nil {
			return nil, err
		}
		i := int(v.Values["rps"])
		mu.Lock()
		calls[i]++
		mu.Unlock()
		if i == bad {
			return nil, bus.Permanent(errors.New("a tick the stage refuses"))
		}
		return nil, nil
	}
	state := func() map[int]int {
		mu.Lock()
		defer mu.Unlock()
		out := map[int]int{}
		for k, v := range calls {
			out[k] = v
		}
		return out
	}
	spec := bus.ConsumerSpec{Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics,
		MaxDeliver: 3, NakDelay: 10 * time.Millisecond, Group: &bus.GroupSpec{Rebuild: true}}
	consumeGated(t, b, spec, h)
	natstest.Eventually(t, 30*time.Second, func() error {
		if n := len(logs.Lines(t, "partition worker failed, restarting it")); n > 0 {
			return nil // fails below
		}
		if n := len(logs.Lines(t, "rebuild: dead letter not stored, will retry")); n < 5 {
			return fmt.Errorf("%d in-place attempts of the refused dead letter, want 5", n)
		}
		return nil
	})
	if n := len(logs.Lines(t, "partition worker failed, restarting it")); n > 0 {
		t.Fatalf("the take-over restarted %d times on its refused dead letter; handler calls per tick %v", n, state())
	}
	if got := state()[bad]; got != 1 {
		t.Fatalf("the refused tick handled %d times, want once", got)
	}
	r.Allow(t)
	natstest.Eventually(t, 30*time.Second, func() error {
		if n := len(natstest.Payloads(t, admin, "DLQ", "apm.dlq.forecaster")); n != 1 {
			return fmt.Errorf("%d dead letters, want 1", n)
		}
		if got := state(); len(got) != ticks {
			return fmt.Errorf("ticks handled %v, want all %d", got, ticks)
		}
		return nil
	})
	for i, n := range state() {
		if n != 1 {
			t.Errorf("tick %d handled %d times, want once", i, n)
		}
	}
}
