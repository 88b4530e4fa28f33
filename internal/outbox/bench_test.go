package outbox

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
)

// acking is an asynchronous store that acknowledges every publish at once:
// what is measured is the outbox's own work.
type acking struct{}

func (acking) PublishAsyncOnce(bus.Out) (bus.RefusableFuture, error) {
	d := done{ok: make(chan *jetstream.PubAck, 1), err: make(chan error, 1)}
	d.ok <- &jetstream.PubAck{}
	return d, nil
}

func (a acking) Publish(ctx context.Context, o bus.Out) error { return publishSync(a, o) }

// benchOutbox adds b.N outputs on 8 subjects to an outbox over pub and
// waits until every one is stored.
func benchOutbox(b *testing.B, pub Publisher) {
	o, err := New(Config{}, pub, "bench", zerolog.Nop(), nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); o.Run(ctx) }()
	defer func() { cancel(); <-stopped }()
	tiers := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	outs := make([]bus.Out, min(b.N, 1<<16))
	for i := range outs {
		outs[i] = metricsOut(tiers[i%len(tiers)], i/len(tiers))
	}
	var stored atomic.Int64
	all := make(chan struct{})
	count := func() {
		if stored.Add(1) == int64(b.N) {
			close(all)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := o.AddThen(ctx, outs[i%len(outs)], count); err != nil {
			b.Fatal(err)
		}
	}
	<-all
}

// BenchmarkAsync: the outbox's hot path, acknowledgements at once.
func BenchmarkAsync(b *testing.B) { benchOutbox(b, acking{}) }

// BenchmarkNATS: through a real server's streams.
func BenchmarkNATS(b *testing.B) {
	benchOutbox(b, natstest.Bus(b, "forecaster", zerolog.Nop()))
}
