package bus_test

import (
	"context"
	"testing"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/natstest"
)

// BenchmarkPublish is one synchronous publish stored and acknowledged by
// an embedded server (a new id each, so none is a duplicate).
func BenchmarkPublish(b *testing.B) {
	bs := natstest.Bus(b, "bench", zerolog.Nop())
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if err := bs.Publish(ctx, tick(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
