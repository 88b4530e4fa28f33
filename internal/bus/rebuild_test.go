package bus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

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
			_, n, err := b.Rebuild(context.Background(), spec, filter, c.from, 0, func(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
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

// TestRebuildReadsPastAReplicaBehind: any replica answers a direct get,
// and one behind the stream leader answers "no messages" where the leader
// has more. A take-over's top-up took that for the end of the partition
// and returned the stream's last sequence as rebuilt, so live delivery
// skipped what it had not read: under load the decider lost a tier's
// forecast and decided the tick of its bucket on the bucket's before. The
// rebuild must ask the leader and read on, and fail rather than skip when
// the replica stays behind.
func TestRebuildReadsPastAReplicaBehind(t *testing.T) {
	b := mustBus(t, natstest.RunJetStream(t))
	const ticks = 30
	var outs []bus.Out
	for i := range ticks {
		outs = append(outs, tick(i))
	}
	if err := b.PublishAll(context.Background(), outs); err != nil {
		t.Fatal(err)
	}
	spec := bus.ConsumerSpec{Service: "test", Name: "behind", Kind: proto.KindMetrics}
	filter := proto.Filter("apm", proto.KindMetrics)
	cases := []struct {
		name    string
		behind  int    // direct gets answered by the replica behind
		through uint64 // the last sequence it holds
		from    uint64
		wantErr bool
	}{
		{"a top-up whose end a replica behind answers", 2, 10, 2, false},
		{"a top-up wholly answered by a replica behind", 1, 1, 2, false},
		{"a full rebuild whose end a replica behind answers", 2, 20, 1, false},
		{"a replica that stays behind", 1 << 30, 10, 2, true},
		{"no replica behind", 0, 0, 5, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer bus.DirectGetsBehind(c.behind, c.through)()
			var handled []uint64
			last, n, err := b.Rebuild(context.Background(), spec, filter, c.from, 0, func(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
				handled = append(handled, m.Seq)
				return nil, nil
			})
			if c.wantErr {
				if err == nil {
					t.Fatalf("rebuild from a replica that stays behind returned no error after %d messages, through %d", n, last)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := ticks - int(c.from) + 1
			if last != ticks || n != want || len(handled) != want {
				t.Fatalf("rebuilt %d messages (handler saw %d) through sequence %d, want %d through %d", n, len(handled), last, want, ticks)
			}
			for i, seq := range handled {
				if seq != c.from+uint64(i) {
					t.Fatalf("message %d has sequence %d, want %d: out of order or skipped", i, seq, c.from+uint64(i))
				}
			}
		})
	}
}

// TestRebuildReplaysTheLookback: a take-over replays only what the stage's
// state needs, measured on the stream's timestamps, but never skips a
// message after the durable's acknowledgement floor, which may not have
// been handled.
func TestRebuildReplaysTheLookback(t *testing.T) {
	b := mustBus(t, natstest.RunJetStream(t))
	ctx := context.Background()
	const older, recent = 300, 200
	var outs []bus.Out
	for i := range older + recent {
		outs = append(outs, tick(i))
	}
	if err := b.PublishAll(ctx, outs[:older]); err != nil {
		t.Fatal(err)
	}
	if err := b.PublishAll(ctx, outs[older:]); err != nil {
		t.Fatal(err)
	}
	s, err := b.StreamOf(ctx, proto.KindMetrics)
	if err != nil {
		t.Fatal(err)
	}
	firstRecent, err := s.GetMsg(ctx, older+1)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lookback := info.State.LastTime.Sub(firstRecent.Time)
	filter := proto.Filter("apm", proto.KindMetrics)

	cases := []struct {
		name  string
		acked int    // messages the partition's durable has acknowledged
		from  uint64 // first sequence the rebuild must handle
	}{
		{"a first start replays the lookback", 0, older + 1},
		{"unhandled messages before the lookback are handled", 120, 121},
		{"a floor inside the lookback changes nothing", older + 50, older + 1},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := bus.ConsumerSpec{Service: "test", Name: fmt.Sprintf("lookback%d", i), Kind: proto.KindMetrics}
			if c.acked > 0 {
				ackFirst(t, s, spec.Name+"-p0", c.acked)
			}
			var handled []uint64
			_, n, err := b.Rebuild(ctx, spec, filter, 1, lookback, func(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
				if !m.Replayed() {
					t.Errorf("message %d a rebuild read says it was delivered live", m.Seq)
				}
				// At or below the floor: a refusal only skips it.
				if want := m.Seq <= uint64(c.acked); m.HandledBefore() != want {
					t.Errorf("message %d (floor %d): HandledBefore %v, want %v", m.Seq, c.acked, m.HandledBefore(), want)
				}
				handled = append(handled, m.Seq)
				return nil, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := older + recent - int(c.from) + 1
			if n != want || len(handled) == 0 || handled[0] != c.from {
				t.Fatalf("rebuilt %d messages from sequence %v, want %d from %d", n, handled[:min(1, len(handled))], want, c.from)
			}
		})
	}
}

// ackFirst creates durable and acknowledges its first n messages.
func ackFirst(t *testing.T, s jetstream.Stream, durable string, n int) {
	t.Helper()
	ctx := context.Background()
	c, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: durable, AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.Fetch(n, jetstream.FetchMaxWait(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for m := range batch.Messages() {
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
		got++
	}
	if got != n {
		t.Fatalf("acknowledged %d of %d", got, n)
	}
}

// TestRebuildDoesNotSkipWhatArrivesAfterItsCount: a take-over that finds
// its partition empty must not end after messages stored while it looked.
// It used to end at the stream's last sequence read after the count, so a
// partition's first messages, stored in that gap, were never handled: the
// stages then started their series part-way and the all-in-one decided
// differently from run to run (TestDeterministicDecisions).
func TestRebuildDoesNotSkipWhatArrivesAfterItsCount(t *testing.T) {
	b := mustBus(t, natstest.RunJetStream(t))
	ctx := context.Background()
	spec := bus.ConsumerSpec{Service: "test", Name: "rebuild", Kind: proto.KindMetrics}
	filter := proto.Filter("apm", proto.KindMetrics)
	stored := 0
	restore := bus.OnRebuildCounted(func() {
		if stored == 0 {
			if err := b.PublishAll(ctx, []bus.Out{tick(0)}); err != nil {
				t.Error(err)
			}
			stored++
		}
	})
	var handled []uint64
	h := func(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
		handled = append(handled, m.Seq)
		return nil, nil
	}
	last, n, err := b.Rebuild(ctx, spec, filter, 1, 0, h)
	restore()
	if err != nil {
		t.Fatal(err)
	}
	if stored != 1 {
		t.Fatal("the hook stored nothing: the race was not set up")
	}
	if n != 0 || last != 0 {
		t.Fatalf("the rebuild of an empty partition handled %d messages and ended at sequence %d, want 0 and 0 (before the message stored after its count)", n, last)
	}
	// The take-over's top-up (or the live delivery) goes on after last.
	if _, n, err = b.Rebuild(ctx, spec, filter, last+1, 0, h); err != nil {
		t.Fatal(err)
	}
	if n != 1 || len(handled) != 1 || handled[0] != 1 {
		t.Fatalf("the top-up handled %d messages %v, want the one stored during the first rebuild (sequence 1)", n, handled)
	}
}
