package bus_test

import (
	"context"
	"testing"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestRebuildDoesNotTakeASilentReplyForTheEnd: a batched direct get that
// times out ends with no message and no end marker. The rebuild used to
// take that for the end of the partition, and the take-over then skipped
// everything after it (1,600 ticks of the all-in-one under load, found by
// TestEndToEnd). It must ask again, and fail rather than skip when the
// server never answers.
func TestRebuildDoesNotTakeASilentReplyForTheEnd(t *testing.T) {
	b := mustBus(t, natstest.RunJetStream(t))
	const ticks = 2500 // more than one batch
	var outs []bus.Out
	for i := range ticks {
		outs = append(outs, tick(i))
	}
	if err := b.PublishAll(context.Background(), outs); err != nil {
		t.Fatal(err)
	}
	spec := bus.ConsumerSpec{Service: "test", Name: "rebuild", Kind: proto.KindMetrics}
	filter := proto.Filter("apm", proto.KindMetrics)
	cases := []struct {
		name    string
		silent  int
		from    uint64
		want    int
		wantErr bool
	}{
		{"a take-over's top-up after one silent reply", 1, 2, ticks - 1, false},
		{"a full rebuild after two silent replies", 2, 1, ticks, false},
		{"a server that never answers", 1 << 30, 2, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer bus.SilenceDirectGets(c.silent)()
			var handled []uint64
			_, n, err := b.Rebuild(context.Background(), spec, filter, c.from, func(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
				handled = append(handled, m.Seq)
				return nil, nil
			})
			if c.wantErr {
				if err == nil {
					t.Fatalf("rebuild with no answer returned no error after %d messages", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != c.want || len(handled) != c.want {
				t.Fatalf("rebuilt %d messages (handler saw %d), want %d", n, len(handled), c.want)
			}
			for i, seq := range handled {
				if seq != c.from+uint64(i) {
					t.Fatalf("message %d has sequence %d, want %d: out of order or skipped", i, seq, c.from+uint64(i))
				}
			}
		})
	}
}
