package natstest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/proto"
)

// kindOf returns the kind whose stream is named stream under b's prefix.
func kindOf(tb testing.TB, b *bus.Bus, stream string) proto.Kind {
	tb.Helper()
	for _, k := range proto.Kinds {
		if proto.StreamName(b.Prefix(), k) == stream {
			return k
		}
	}
	tb.Fatalf("no Headroom stream is named %s", stream)
	return ""
}

// Payloads returns the payloads of every message stored in stream on subjects
// matching filter (published form), in stream order. It reads with one
// watch, so even a stream of many thousand messages is read in one pass.
func Payloads(tb testing.TB, b *bus.Bus, stream, filter string) [][]byte {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k := kindOf(tb, b, stream)
	r, err := b.Reader(ctx, k)
	if err != nil {
		tb.Fatal(err)
	}
	subjects, err := r.Subjects(ctx, filter)
	if err != nil {
		tb.Fatal(err)
	}
	var want uint64
	for _, n := range subjects {
		want += n
	}
	out := make([][]byte, 0, want)
	if want == 0 {
		return out
	}
	w, err := b.Watch(ctx, bus.WatchSpec{Kind: k, Filters: []string{filter}, Start: bus.StartAll(), Batch: 1024})
	if err != nil {
		tb.Fatal(err)
	}
	defer w.Stop()
	for uint64(len(out)) < want {
		m, err := w.Next(ctx)
		if err != nil {
			tb.Fatalf("read %s after %d of %d: %v", stream, len(out), want, err)
		}
		out = append(out, m.Data)
	}
	return out
}

// WaitEventTime waits up to timeout until the last message stored on each
// subject of stream carries an event time (the Headroom-Ts header) at or
// after at. Reading only the last message per subject keeps polling cheap
// however long the stream grows. Errors reaching the stream are retried
// until the deadline like an event time not yet reached: right after a
// cluster node dies, the stream may have no leader for a few seconds.
func WaitEventTime(tb testing.TB, b *bus.Bus, stream string, subjects []string, at time.Time, timeout time.Duration) {
	tb.Helper()
	kind := kindOf(tb, b, stream)
	var r *bus.StreamReader
	Eventually(tb, timeout, func() error {
		if r == nil {
			var err error
			if r, err = b.Reader(context.Background(), kind); err != nil {
				return err
			}
		}
		for _, subj := range subjects {
			m, err := r.Last(context.Background(), subj)
			if err != nil {
				return fmt.Errorf("%s: %w", subj, err)
			}
			ms, ok := m.HeaderTime()
			if !ok {
				return fmt.Errorf("%s: no event time header", subj)
			}
			if got := time.UnixMilli(ms).UTC(); got.Before(at) {
				return fmt.Errorf("%s reached %s, want %s", subj, got.Format(time.RFC3339), at.Format(time.RFC3339))
			}
		}
		return nil
	})
}

// PartitionDurable returns the name of the group durable named base that
// reads subject's partition in stream (base-p<partition>), found from the
// last message stored on subject.
func PartitionDurable(tb testing.TB, b *bus.Bus, stream, base, subject string) string {
	tb.Helper()
	r, err := b.Reader(context.Background(), kindOf(tb, b, stream))
	if err != nil {
		tb.Fatal(err)
	}
	m, err := r.Last(context.Background(), subject)
	if err != nil {
		tb.Fatalf("last message on %s: %v", subject, err)
	}
	if m.Partition < 0 {
		tb.Fatalf("subject %s is stored without a partition", subject)
	}
	return fmt.Sprintf("%s-p%d", base, m.Partition)
}

// GroupDrained returns nil once every partition durable of the group
// durable base on stream (base-p<i>) has nothing pending and nothing
// awaiting acknowledgement, and at least one exists; otherwise it says what
// is left.
func GroupDrained(ctx context.Context, b *bus.Bus, stream, base string) error {
	pending, awaiting, err := GroupPending(ctx, b, stream, base)
	switch {
	case err != nil:
		return err
	case pending > 0 || awaiting > 0:
		return fmt.Errorf("group %s: %d pending, %d awaiting ack", base, pending, awaiting)
	}
	return nil
}

// GroupPending sums, over the partition durables of the group durable base
// on stream (base-p<i>), the messages not delivered yet and those
// delivered but not acknowledged; it fails while none exists.
func GroupPending(ctx context.Context, b *bus.Bus, stream, base string) (pending, awaiting uint64, err error) {
	var k proto.Kind
	for _, x := range proto.Kinds {
		if proto.StreamName(b.Prefix(), x) == stream {
			k = x
		}
	}
	if k == "" {
		return 0, 0, fmt.Errorf("no Headroom stream is named %s", stream)
	}
	r, err := b.Reader(ctx, k)
	if err != nil {
		return 0, 0, err
	}
	cs, err := r.Consumers(ctx, base)
	if err != nil {
		return 0, 0, err
	}
	found := 0
	for _, c := range cs {
		if !strings.HasPrefix(c.Name, base+"-p") {
			continue
		}
		found++
		pending += c.Pending
		awaiting += uint64(c.AckPending)
	}
	if found == 0 {
		return 0, 0, fmt.Errorf("no consumer %s-p* on %s yet", base, stream)
	}
	return pending, awaiting, nil
}

var (
	rawMu sync.Mutex
	raw   = map[*bus.Bus]jetstream.JetStream{}
)

// JetStream returns a raw JetStream context on a second connection to b's
// server, logged in as b's user, for tests that must do what the bus never
// does (publish raw bytes, delete or inspect a durable, change a stream).
// Services have no such access: internal/bus is their only door to NATS.
// The connection closes when the test ends.
func JetStream(tb testing.TB, b *bus.Bus) jetstream.JetStream {
	tb.Helper()
	rawMu.Lock()
	defer rawMu.Unlock()
	if js, ok := raw[b]; ok {
		return js
	}
	cfg := b.Config()
	auth, err := cfg.ClientOptions()
	if err != nil {
		tb.Fatal(err)
	}
	opts := append([]nats.Option{nats.Name(cfg.Name + "-test-raw")}, auth...)
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		tb.Fatalf("raw connection to %s: %v", cfg.URL, err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		nc.Close()
		tb.Fatal(err)
	}
	raw[b] = js
	tb.Cleanup(func() {
		rawMu.Lock()
		delete(raw, b)
		rawMu.Unlock()
		nc.Close()
	})
	return js
}
