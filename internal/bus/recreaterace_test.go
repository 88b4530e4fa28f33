package bus_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestRecreateFindsTheDurableMadeMeanwhile: a group's partition durable
// deleted under a member is made again, from the start, by provisioning
// (or by another member taking the partition over) before the member's
// own create, which resumes after what it handled, succeeds: the server
// will not update the made durable's deliver policy or start sequence,
// and the member must resume on it as it is, its position the group's.
// Here the member's first attempt is refused for its permissions, then
// provisioning makes the durable and the member is let create durables
// (nats.conf changed): the next attempt is an update the server refuses
// for its start. Before, the member retried that update for as long as
// it ran, its consumer gone, its health failing, each line saying the
// durable was missing and to run `headroom provision`.
func TestRecreateFindsTheDurableMadeMeanwhile(t *testing.T) {
	r, admin, logs, handled, durable := memberLosesDurable(t)
	lines := func(msg string) int {
		n := 0
		for _, line := range logs.Lines(t, msg) {
			if line["consumer"] == durable {
				n++
			}
		}
		return n
	}
	natstest.Eventually(t, 30*time.Second, func() error {
		if lines("cannot recreate consumer") == 0 {
			return errors.New("no refused attempt logged")
		}
		return nil
	})
	if _, err := admin.EnsureConsumers(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.Allow(t)
	natstest.Eventually(t, 30*time.Second, func() error {
		if lines("consumer made again meanwhile, resuming on it") == 0 {
			return fmt.Errorf("not resumed on %s: %d attempts failed, %d recreated it", durable,
				lines("cannot recreate consumer"), lines("consumer recreated"))
		}
		return nil
	})
	before := handled.Load()
	publishRange(t, admin, 4, 8)
	natstest.Eventually(t, 30*time.Second, func() error {
		if n := handled.Load() - before; n < 4 {
			return fmt.Errorf("%d of 4 ticks handled after the resume", n)
		}
		return nil
	})
}

// memberLosesDurable starts a server on which the forecaster may not
// create durables, provisions them as admin, runs a forecaster group
// member (its log in logs, the ticks it handled counted in handled) until
// it handled 4 ticks, and deletes the durable of their partition
// (durable), the one the ticks published after it is resumed on go to.
func memberLosesDurable(t *testing.T) (r *natstest.Restricted, admin *bus.Bus, logs *natstest.Logs, handled *atomic.Int64, durable string) {
	t.Helper()
	r = natstest.StartRestricted(t, "forecaster", "$JS.API.CONSUMER.CREATE.METRICS.>")
	admin = r.Connect(t, "admin", zerolog.Nop())
	if _, err := admin.EnsureConsumers(context.Background()); err != nil {
		t.Fatal(err)
	}
	logs, handled = &natstest.Logs{}, &atomic.Int64{}
	b := r.Connect(t, "forecaster", zerolog.New(logs))
	started := make(chan struct{})
	consumeGated(t, b, bus.ConsumerSpec{Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics,
		CheckEvery: 200 * time.Millisecond, Started: func() { close(started) }, Group: &bus.GroupSpec{}},
		func(context.Context, *bus.Msg) ([]bus.Out, error) {
			handled.Add(1)
			return nil, nil
		})
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the member never started consuming")
	}
	publishRange(t, admin, 0, 4)
	natstest.Eventually(t, 30*time.Second, func() error {
		if n := handled.Load(); n < 4 {
			return fmt.Errorf("%d of 4 ticks handled", n)
		}
		return nil
	})
	stream := proto.StreamName(admin.Prefix(), proto.KindMetrics)
	durable = natstest.PartitionDurable(t, admin, stream, "forecaster", proto.MetricsSubject("apm", "shop", "web"))
	if err := natstest.JetStream(t, admin).DeleteConsumer(context.Background(), stream, durable); err != nil {
		t.Fatal(err)
	}
	return r, admin, logs, handled, durable
}
