package natstest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
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
	filter = storedForm(s, filter)
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
			m, err := s.GetLastMsgForSubject(context.Background(), storedForm(s, subj))
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

// storedForm turns a filter on the subjects a stream takes in into one on
// the subjects it stores: a partitioned stream stores a trailing partition
// token, which a filter of the published form would miss.
func storedForm(s jetstream.Stream, filter string) string {
	t := s.CachedInfo().Config.SubjectTransform
	if t == nil || strings.HasSuffix(filter, ">") || strings.Count(filter, ".") != strings.Count(t.Source, ".") {
		return filter
	}
	return filter + ".*"
}

// PartitionDurable returns the name of the group durable named base that
// reads subject's partition in stream (base-p<partition>), found from the
// last message stored on subject.
func PartitionDurable(tb testing.TB, js jetstream.JetStream, stream, base, subject string) string {
	tb.Helper()
	s, err := js.Stream(context.Background(), stream)
	if err != nil {
		tb.Fatalf("stream %s: %v", stream, err)
	}
	m, err := s.GetLastMsgForSubject(context.Background(), storedForm(s, subject))
	if err != nil {
		tb.Fatalf("last message on %s: %v", subject, err)
	}
	p := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
	if _, err := strconv.Atoi(p); err != nil {
		tb.Fatalf("stored subject %s has no partition", m.Subject)
	}
	return base + "-p" + p
}

// GroupDrained returns nil once every partition durable of the group
// durable base on stream (base-p<i>) has nothing pending and nothing
// awaiting acknowledgement, and at least one exists; otherwise it says what
// is left.
func GroupDrained(ctx context.Context, js jetstream.JetStream, stream, base string) error {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return err
	}
	found := 0
	for name := range s.ConsumerNames(ctx).Name() {
		if !strings.HasPrefix(name, base+"-p") {
			continue
		}
		found++
		c, err := s.Consumer(ctx, name) // fetches the consumer's state
		if err != nil {
			return err
		}
		ci := c.CachedInfo()
		if ci.NumPending > 0 || ci.NumAckPending > 0 {
			return fmt.Errorf("consumer %s: %d pending, %d awaiting ack", name, ci.NumPending, ci.NumAckPending)
		}
	}
	if found == 0 {
		return fmt.Errorf("no consumer %s-p* on %s yet", base, stream)
	}
	return nil
}
