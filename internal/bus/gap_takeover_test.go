package bus_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestGapAfterTakeOverSkipsWhatTheRebuildHandled: a member takes a
// partition over and rebuilds it through the last message stored; live
// delivery then brings those messages again, each skipped as handled. A
// delivery of one of them lost in flight leaves a gap the next live
// message sees: the top-up reads from after what the rebuild handled, not
// from the last message live delivery skipped, so the handler does not
// get the rebuilt message a second time, as a live one.
func TestGapAfterTakeOverSkipsWhatTheRebuildHandled(t *testing.T) {
	url := natstest.RunJetStream(t)
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	admin := natstest.Connect(t, url, "admin", log, true)
	for i := 1; i <= 3; i++ {
		if err := admin.Publish(context.Background(), tick(i)); err != nil { // stream sequence i
			t.Fatal(err)
		}
	}
	// The live delivery of the third, which the rebuild handled, is lost.
	lost := make(chan struct{})
	var once sync.Once
	t.Cleanup(bus.LoseDelivery(func(consumer string, seq, delivered uint64) bool {
		if !strings.HasPrefix(consumer, "svc-p") || seq != 3 || delivered != 1 {
			return false
		}
		once.Do(func() { close(lost) })
		return true
	}))
	var mu sync.Mutex
	handled := map[int]int{} // tick → times handled
	live := map[int]int{}    // tick → times handled as a live message
	b := natstest.Connect(t, url, "svc", log, false)
	natstest.Serve(t, "svc", func(ctx context.Context) error {
		return b.Consume(ctx, bus.ConsumerSpec{Service: "svc", Name: "svc", Kind: proto.KindMetrics, AckWait: 5 * time.Second,
			Group: &bus.GroupSpec{Rebuild: true}},
			func(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
				var in proto.Metrics
				if err := proto.Decode(m.Data, &in); err != nil {
					return nil, bus.Permanent(err)
				}
				i := int(in.Values["rps"]) // tick(i)'s
				mu.Lock()
				defer mu.Unlock()
				handled[i]++
				if !m.Replayed() {
					live[i]++
				}
				return nil, nil
			})
	})
	select {
	case <-lost:
	case <-time.After(30 * time.Second):
		t.Fatal("the third message's live delivery did not come in 30s")
	}
	if err := admin.Publish(context.Background(), tick(4)); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 20*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if handled[4] == 0 {
			return errors.New("the fourth tick not handled yet")
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i <= 4; i++ {
		if handled[i] != 1 {
			t.Errorf("tick %d handled %d times (%d live), want once", i, handled[i], live[i])
		}
	}
}
