package natstest

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/internal/bus"
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

// WaitEventTime waits up to timeout until the last message stored on each
// subject of stream carries an event time (the Headroom-Ts header) at or
// after at. Reading only the last message per subject keeps polling cheap
// however long the stream grows.
func WaitEventTime(tb testing.TB, js jetstream.JetStream, stream string, subjects []string, at time.Time, timeout time.Duration) {
	tb.Helper()
	s, err := js.Stream(context.Background(), stream)
	if err != nil {
		tb.Fatalf("stream %s: %v", stream, err)
	}
	Eventually(tb, timeout, func() error {
		for _, subj := range subjects {
			m, err := s.GetLastMsgForSubject(context.Background(), subj)
			if err != nil {
				return fmt.Errorf("%s: %w", subj, err)
			}
			ms, err := strconv.ParseInt(m.Header.Get(bus.HeaderEventTime), 10, 64)
			if err != nil {
				return fmt.Errorf("%s: event time header: %w", subj, err)
			}
			if got := time.UnixMilli(ms).UTC(); got.Before(at) {
				return fmt.Errorf("%s reached %s, want %s", subj, got.Format(time.RFC3339), at.Format(time.RFC3339))
			}
		}
		return nil
	})
}
