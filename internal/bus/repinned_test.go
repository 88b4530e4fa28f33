package bus_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestRepinnedBeforeTheFirstMessageOfANewPin: a group member whose
// partition durable is pinned afresh (its pin dropped, as a lapse or a new
// consumer leader drops it) while the partition stays its own hears of it
// through GroupSpec.Repinned, once, before the first message delivered
// under the new pin is handled; not for the first pin, not while the pin
// stays.
func TestRepinnedBeforeTheFirstMessageOfANewPin(t *testing.T) {
	url := natstest.RunJetStream(t)
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	admin := natstest.Connect(t, url, "admin", log, true)
	var mu sync.Mutex
	var events []string
	record := func(e string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	b := natstest.Connect(t, url, "svc", log, false)
	natstest.Serve(t, "svc", func(ctx context.Context) error {
		return b.Consume(ctx, bus.ConsumerSpec{Service: "svc", Name: "svc", Kind: proto.KindMetrics,
			Group: &bus.GroupSpec{Repinned: func(p int) { record(fmt.Sprintf("repinned p%d", p)) }}},
			func(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
				var in proto.Metrics
				if err := proto.Decode(m.Data, &in); err != nil {
					return nil, bus.Permanent(err)
				}
				record(fmt.Sprintf("tick %d", int(in.Values["rps"])))
				return nil, nil
			})
	})
	publish := func(i int) {
		t.Helper()
		if err := admin.Publish(context.Background(), tick(i)); err != nil {
			t.Fatal(err)
		}
		natstest.Eventually(t, 20*time.Second, func() error {
			mu.Lock()
			defer mu.Unlock()
			if !slices.Contains(events, fmt.Sprintf("tick %d", i)) {
				return fmt.Errorf("tick %d not handled yet: %v", i, events)
			}
			return nil
		})
	}
	publish(1)
	durable := natstest.PartitionDurable(t, admin, "METRICS", "svc", proto.MetricsSubject("apm", "shop", "web"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.Unpin(ctx, proto.KindMetrics, durable); err != nil {
		t.Fatal(err)
	}
	publish(2)
	publish(3)
	mu.Lock()
	defer mu.Unlock()
	want := []string{"tick 1", "repinned " + strings.TrimPrefix(durable, "svc-"), "tick 2", "tick 3"}
	if !slices.Equal(events, want) {
		t.Fatalf("events %v, want %v", events, want)
	}
}
