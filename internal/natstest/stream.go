package natstest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Payloads returns the payloads of every message stored in stream on subjects
// matching filter, in stream order. It reads with one ordered consumer, so
// even a stream of many thousand messages is read in one pass.
func Payloads(tb testing.TB, js jetstream.JetStream, stream, filter string) [][]byte {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		tb.Fatalf("stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		tb.Fatalf("stream %s info: %v", stream, err)
	}
	var want uint64
	for _, n := range info.State.Subjects {
		want += n
	}
	out := make([][]byte, 0, want)
	if want == 0 {
		return out
	}
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}})
	if err != nil {
		tb.Fatalf("stream %s: ordered consumer: %v", stream, err)
	}
	it, err := c.Messages()
	if err != nil {
		tb.Fatal(err)
	}
	defer it.Stop()
	for uint64(len(out)) < want {
		m, err := it.Next()
		if err != nil {
			tb.Fatalf("read %s after %d of %d: %v", stream, len(out), want, err)
		}
		out = append(out, m.Data())
	}
	return out
}
