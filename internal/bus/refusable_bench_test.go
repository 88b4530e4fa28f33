package bus

import (
	"context"
	"testing"
)

// BenchmarkRefusable is the cost refusable adds to each synchronous
// publish (and watch create/delete): a call that returns at once.
func BenchmarkRefusable(b *testing.B) {
	bus := &Bus{async: newAsyncErrors()}
	key := publishKey("apm.metrics.shop.web")
	call := func(context.Context) error { return nil }
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := bus.refusable(ctx, key, call); err != nil {
			b.Fatal(err)
		}
	}
}
