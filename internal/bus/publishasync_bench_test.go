package bus_test

import (
	"testing"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
)

// BenchmarkPublishAsyncOnce is one asynchronous publish as the outbox
// makes them: sent in windows of 64, each acknowledged by an embedded
// server (a new id each) and awaited in order.
func BenchmarkPublishAsyncOnce(b *testing.B) {
	bs := natstest.Bus(b, "bench", zerolog.Nop())
	type pending interface {
		Ok() <-chan *bus.PubAck
		Err() <-chan error
	}
	window := make([]pending, 0, 64)
	flush := func() {
		for _, f := range window {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				b.Fatal(err)
			}
			if d, ok := f.(interface{ Done() }); ok {
				d.Done()
			}
		}
		window = window[:0]
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		f, err := bs.PublishAsyncOnce(tick(i))
		if err != nil {
			b.Fatal(err)
		}
		window = append(window, f)
		if len(window) == cap(window) {
			flush()
		}
		i++
	}
	flush()
}
